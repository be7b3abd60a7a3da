import Formats
import Quantization
import TensorIO

/// Quantization of a tensor that need not fit in memory: rows are read, quantized and written in
/// blocks of about `blockBytes` bytes of binary32 (16 MiB), so peak memory is a few blocks
/// whatever the tensor's size (docs/cli.md, "Memory"). Codes, scales and statistics are those of
/// one in-memory `quantize` call, byte for byte (`quantizeRows`): the tensor granularity and
/// NVFP4, whose scale depends on the whole tensor, read it twice.
public enum StreamingQuantization {
    public static let blockBytes = 16 << 20

    /// What a level-format run wrote.
    public struct LevelSummary: Sendable {
        public let rows: Int, columns: Int
        public let scaleShape: [Int]
        public let statistics: QuantizationStatistics
        public var scaleCount: Int { scaleShape.reduce(1, *) }
    }

    /// What a block-format run wrote.
    public struct BlockSummary: Sendable {
        public let rows: Int, columns: Int
        public let blocksPerRow: Int
        public let blockSize: Int
        /// Rows per block (16 for NVFP4's 16 × 16 tiles); the scales are [⌈rows / blockRows⌉, blocksPerRow].
        public let blockRows: Int
        public let tensorScale: Float
        public let statistics: QuantizationStatistics
        public var blockScaleCount: Int { (rows + blockRows - 1) / blockRows * blocksPerRow }
    }

    /// The source's row blocks of about `bytes` bytes, each starting at a multiple of `multiple`
    /// rows (a 16 × 16 tile never straddles two).
    static func rowBlocks(_ source: RowSource, bytes: Int, multiple: Int) -> [Range<Int>] {
        let step = max(multiple, bytes / max(1, 4 * source.columns) / multiple * multiple)
        return stride(from: 0, to: source.rows, by: step).map { $0..<min(source.rows, $0 + step) }
    }

    /// Calls `progress(rowsDone, rows)` after each block (and each first-pass block).
    public typealias Progress = (_ pass: String, _ done: Int, _ total: Int) -> Void

    /// The largest finite magnitude (first pass).
    static func maxMagnitude(_ source: RowSource, _ each: ([Float], Int) throws -> Float, blockBytes: Int, progress: Progress?) throws -> Float {
        var m: Float = 0
        for block in source.blocks(bytes: blockBytes) {
            m = max(m, try each(try source.values(rows: block), block.lowerBound * source.columns))
            progress?("max|x|", block.upperBound, source.rows)
        }
        return m
    }

    /// Reads the row blocks in order, writes the code and scale bytes `quantize` makes of each, and
    /// returns the statistics summed in block order.
    static func eachBlock(_ source: RowSource, codes: OutputFile, scales: OutputFile, blockBytes: Int, rowMultiple: Int = 1, progress: Progress?,
                          _ quantize: ([Float], Range<Int>, inout QuantizationStatistics) throws -> ([UInt8], [UInt8])) throws -> QuantizationStatistics {
        var statistics = QuantizationStatistics()
        for block in rowBlocks(source, bytes: blockBytes, multiple: rowMultiple) {
            let (c, s) = try quantize(try source.values(rows: block), block, &statistics)
            try codes.write(c)
            try scales.write(s)
            progress?("quantize", block.upperBound, source.rows)
        }
        return statistics
    }

    /// Writes the uint8 codes `.npy` and the float32 scales `.npy` (shape `scaleShape`) of a
    /// level-format quantization to the two writers (not committed: the caller commits them
    /// together with anything else the run writes).
    public static func quantize(_ source: RowSource, with quantizer: SymmetricQuantizer, codes: OutputFile, scales: OutputFile,
                                blockBytes: Int = blockBytes, progress: Progress? = nil) throws -> LevelSummary {
        let (rows, columns) = (source.rows, source.columns)
        let tensorScale = quantizer.granularity == .tensor
            ? quantizer.scale(forMaxMagnitude: try maxMagnitude(source, { try quantizer.maxMagnitude($0, firstIndex: $1) }, blockBytes: blockBytes, progress: progress))
            : nil
        let scaleShape = quantizer.granularity.scaleShape(rows: rows, columns: columns)
        try codes.write(NpyCodec.encodeHeader(dtype: .uint8, shape: [rows, columns]))
        try scales.write(NpyCodec.encodeHeader(dtype: .float32, shape: scaleShape))
        let statistics = try eachBlock(source, codes: codes, scales: scales, blockBytes: blockBytes, progress: progress) { x, block, statistics in
            let (c, s) = try quantizer.quantizeRows(x, rows: block.count, columns: columns, firstRow: block.lowerBound,
                                                    tensorScale: tensorScale, statistics: &statistics)
            return (c, NpyArray.float32Bytes(s))
        }
        if let tensorScale { try scales.write(NpyArray.float32Bytes([tensorScale])) }
        return LevelSummary(rows: rows, columns: columns, scaleShape: scaleShape, statistics: statistics)
    }

    /// Writes the uint8 codes `.npy` and the uint8 block scale codes `.npy` ([rows, blocks]) of
    /// an MXFP4 / NVFP4 quantization (not committed).
    public static func quantize(_ source: RowSource, with quantizer: BlockFloatQuantizer, codes: OutputFile, scales: OutputFile,
                                blockBytes: Int = blockBytes, progress: Progress? = nil) throws -> BlockSummary {
        let (rows, columns) = (source.rows, source.columns)
        let tensorScale = quantizer.scheme == .nvfp4
            ? quantizer.tensorScale(forMaxMagnitude: try maxMagnitude(source, { try quantizer.maxMagnitude($0, firstIndex: $1) }, blockBytes: blockBytes, progress: progress))
            : 1
        let perRow = quantizer.blocksPerRow(columns: columns)
        try codes.write(NpyCodec.encodeHeader(dtype: .uint8, shape: [rows, columns]))
        try scales.write(NpyCodec.encodeHeader(dtype: .uint8, shape: [quantizer.blockRowCount(rows: rows), perRow]))
        let statistics = try eachBlock(source, codes: codes, scales: scales, blockBytes: blockBytes, rowMultiple: quantizer.blockRows, progress: progress) { x, block, statistics in
            try quantizer.quantizeRows(x, rows: block.count, columns: columns, firstRow: block.lowerBound, tensorScale: tensorScale, statistics: &statistics)
        }
        return BlockSummary(rows: rows, columns: columns, blocksPerRow: perRow, blockSize: quantizer.blockSize, blockRows: quantizer.blockRows,
                            tensorScale: tensorScale, statistics: statistics)
    }

    /// A quantizer whose statistics `measure` gathers.
    public enum Measured: Sendable {
        case level(SymmetricQuantizer)
        case block(BlockFloatQuantizer)
    }

    /// Statistics of several quantizers on one tensor, in one pass over its row blocks (plus a
    /// first pass for the max|x| the tensor granularity and NVFP4 need); codes are discarded.
    /// Equal to each quantizer's in-memory `quantize(...).statistics`.
    public static func measure(_ source: RowSource, _ quantizers: [Measured], blockBytes: Int = blockBytes, progress: Progress? = nil) throws -> [(statistics: QuantizationStatistics, scaleCount: Int, tensorScale: Float)] {
        let columns = source.columns
        let needsMax = quantizers.contains {
            if case .level(let q) = $0 { return q.granularity == .tensor }
            if case .block(let q) = $0 { return q.scheme == .nvfp4 }
            return false
        }
        var tensorMax: Float = 0
        if needsMax {
            // A block format refuses non-finite inputs; a level format may accept them.
            let strictest = quantizers.first { if case .block = $0 { return true }; if case .level(let q) = $0 { return q.nonFinite == .error }; return false }
            tensorMax = try maxMagnitude(source, { values, first in
                switch strictest {
                case .block(let q): return try q.maxMagnitude(values, firstIndex: first)
                case .level(let q): return try q.maxMagnitude(values, firstIndex: first)
                case nil: return try quantizers.compactMap { if case .level(let q) = $0 { return q } else { return nil } }[0].maxMagnitude(values, firstIndex: first)
                }
            }, blockBytes: blockBytes, progress: progress)
        }
        var statistics = [QuantizationStatistics](repeating: QuantizationStatistics(), count: quantizers.count)
        var scaleCounts = [Int](repeating: 0, count: quantizers.count)
        var tensorScales = [Float](repeating: 1, count: quantizers.count)
        let rowMultiple = quantizers.map { if case .block(let q) = $0 { return q.blockRows } else { return 1 } }.max() ?? 1
        for block in rowBlocks(source, bytes: blockBytes, multiple: rowMultiple) {
            let x = try source.values(rows: block)
            for (k, q) in quantizers.enumerated() {
                switch q {
                case .level(let q):
                    let scale = q.granularity == .tensor ? q.scale(forMaxMagnitude: tensorMax) : nil
                    let (_, s) = try q.quantizeRows(x, rows: block.count, columns: columns, firstRow: block.lowerBound, tensorScale: scale, statistics: &statistics[k])
                    scaleCounts[k] += s.count
                    if let scale { tensorScales[k] = scale; scaleCounts[k] = 1 }
                case .block(let q):
                    let scale = q.tensorScale(forMaxMagnitude: tensorMax)
                    let (_, s) = try q.quantizeRows(x, rows: block.count, columns: columns, firstRow: block.lowerBound, tensorScale: scale, statistics: &statistics[k])
                    scaleCounts[k] += s.count
                    tensorScales[k] = scale
                }
            }
            progress?("measure", block.upperBound, source.rows)
        }
        return quantizers.indices.map { (statistics[$0], scaleCounts[$0], tensorScales[$0]) }
    }
}
