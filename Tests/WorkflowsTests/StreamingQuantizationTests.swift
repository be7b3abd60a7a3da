import Foundation
import Formats
import Quantization
import TensorIO
import Testing
import Workflows
import Workloads

/// Streaming in row blocks gives the bytes of one in-memory call: codes, scales, statistics, for
/// every granularity, rounding rule and block format, with blocks that split groups' rows at
/// every size from one row up.
@Suite struct StreamingQuantizationTests {
    static func scratch() -> String {
        let dir = NSTemporaryDirectory() + "dintsim-stream-\(UUID().uuidString)"
        try! Files.createDirectory(dir)
        return dir
    }

    static func data(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var v = Distribution.laplace.sample(rows: rows, columns: columns, seed: seed)
        // An all-zero row and a lone zero: the zero-scale and zero-input paths.
        for c in 0..<columns { v[2 * columns + c] = 0 }
        v[5] = 0
        return v
    }

    /// Streams `source` through `body` into fresh writers and returns the two files' bytes.
    static func written(_ body: (OutputFile, OutputFile) throws -> Void) throws -> ([UInt8], [UInt8]) {
        let dir = scratch()
        let c = try OutputFile(path: dir + "/c.npy"), s = try OutputFile(path: dir + "/s.npy")
        try body(c, s)
        try c.commit(); try s.commit()
        return (try Files.read(dir + "/c.npy"), try Files.read(dir + "/s.npy"))
    }

    @Test(arguments: [Granularity.tensor, .channel, .group(16), .group(7)], [RoundingRule.toNearestOrEven, .stochastic, .towardZero])
    func levelFormatsStreamAsOneCall(granularity: Granularity, rule: RoundingRule) throws {
        let (rows, columns) = (13, 40)
        let values = Self.data(rows: rows, columns: columns, seed: 9)
        let q = try SymmetricQuantizer(format: .dint4, granularity: granularity, rounding: rule, seed: 77)
        let whole = try q.quantize(values, rows: rows, columns: columns)
        let wholeCodes = NpyCodec.encode(try NpyArray(uint8: whole.codes, shape: [rows, columns]))
        let wholeScales = NpyCodec.encode(try NpyArray(float32: whole.scales, shape: whole.scaleShape))
        for blockRows in [1, 2, 5, 13] {
            var summary: StreamingQuantization.LevelSummary?
            let (c, s) = try Self.written { c, s in
                summary = try StreamingQuantization.quantize(InMemoryMatrix(values, rows: rows, columns: columns), with: q, codes: c, scales: s,
                                                             blockBytes: 4 * columns * blockRows)
            }
            #expect(c == wholeCodes && s == wholeScales, "\(granularity) \(rule) blocks of \(blockRows) rows")
            #expect(summary?.statistics == whole.statistics)
            let measured = try StreamingQuantization.measure(InMemoryMatrix(values, rows: rows, columns: columns), [.level(q)], blockBytes: 4 * columns * blockRows)
            #expect(measured[0].statistics == whole.statistics && measured[0].scaleCount == whole.scales.count)
        }
    }

    @Test(arguments: ["mxfp4", "nvfp4", "nvfp4:16x16"], [RoundingRule.toNearestOrEven, .stochastic])
    func blockFormatsStreamAsOneCall(variant: String, rounding: RoundingRule) throws {
        let (rows, columns) = (37, 72)
        let values = Self.data(rows: rows, columns: columns, seed: 3)
        let q = try BlockFloatQuantizer(try #require(try BlockFloatVariant(parsing: variant)), rounding: rounding, seed: 12,
                                        stochasticBits: rounding == .stochastic ? 8 : 16)
        let whole = try q.quantize(values, rows: rows, columns: columns)
        // Row blocks of 1, 3 and 37 rows (16-row tiles round the first two up to 16).
        for blockRows in [1, 3, 37] {
            var summary: StreamingQuantization.BlockSummary?
            let (c, s) = try Self.written { c, s in
                summary = try StreamingQuantization.quantize(InMemoryMatrix(values, rows: rows, columns: columns), with: q, codes: c, scales: s,
                                                             blockBytes: 4 * columns * blockRows)
            }
            #expect(c == NpyCodec.encode(try NpyArray(uint8: whole.codes, shape: [rows, columns])))
            #expect(s == NpyCodec.encode(try NpyArray(uint8: whole.blockScales, shape: [(rows + whole.blockRows - 1) / whole.blockRows, whole.blocksPerRow])))
            #expect(summary?.statistics == whole.statistics && summary?.tensorScale == whole.tensorScale)
        }
    }

    /// A streamed `.npy` (float32 and float16) reads back the values `Files.readNpy` gives, in any
    /// block split, and its header errors are those of the whole-file decoder.
    @Test func npyRowsStreamAsTheWholeFile() throws {
        let dir = Self.scratch()
        let values = Self.data(rows: 9, columns: 6, seed: 1)
        try Files.writeNpy(try NpyArray(float32: values, shape: [9, 6]), to: dir + "/f.npy")
        let half = values.map { Float16($0) }
        let bytes = half.flatMap { [UInt8($0.bitPattern & 0xFF), UInt8($0.bitPattern >> 8)] }
        try Files.writeNpy(try NpyArray(dtype: .float16, shape: [9, 6], data: bytes), to: dir + "/h.npy")
        for name in ["f.npy", "h.npy"] {
            let r = try NpyMatrixReader(path: dir + "/" + name)
            let expected = try Files.readNpy(dir + "/" + name).floatValues()
            for step in [1, 4, 9] {
                let got = try stride(from: 0, to: 9, by: step).flatMap { try r.values(rows: $0..<min(9, $0 + step)) }
                #expect(got == expected)
            }
        }
        var truncated = try Files.read(dir + "/f.npy")
        truncated.removeLast(4)
        try Files.writeAtomically(truncated, to: dir + "/t.npy")
        #expect(throws: TensorIOError.malformed("\(dir)/t.npy: truncated data: shape [9, 6] of float32 needs 216 bytes, file has 212")) {
            try NpyMatrixReader(path: dir + "/t.npy")
        }
    }

    /// A non-finite value is refused with its flat index in the whole tensor, from any block.
    @Test func nonFiniteInputsAreNamedByTheirFlatIndex() throws {
        var values = Self.data(rows: 6, columns: 8, seed: 2)
        values[41] = .nan
        for granularity in [Granularity.tensor, .channel] {
            let q = try SymmetricQuantizer(format: .int4, granularity: granularity)
            do {
                _ = try Self.written { c, s in _ = try StreamingQuantization.quantize(InMemoryMatrix(values, rows: 6, columns: 8), with: q, codes: c, scales: s, blockBytes: 4 * 8 * 2) }
                Issue.record("a NaN was quantized (\(granularity))")
            } catch QuantizationError.nonFinite(let index, _) {
                #expect(index == 41)
            }
        }
    }
}
