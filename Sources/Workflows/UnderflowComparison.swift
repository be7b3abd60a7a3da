import Foundation
import Formats
import Quantization
import TensorIO
import Workloads

/// `underflow` as library calls: formats side by side on data sets — underflow, clipping, MSE,
/// SQNR and storage per element — as rows that shards produce apart and `merge` joins back.
public enum UnderflowComparison {
    /// One measured (data set, format) pair; `row` numbers it in the single run's order, so that
    /// shards can be merged back.
    public struct Row: Codable, Sendable, Equatable {
        public let row: Int
        public let rowsTotal: Int
        public let data: String
        public let format: String
        public let granularity: String
        /// Storage per element, scales included.
        public let bitsPerElement: Double
        public let statistics: QuantizationStatistics
        enum CodingKeys: String, CodingKey {
            case row, rowsTotal = "rows_total", data, format, granularity, bitsPerElement = "bits_per_element", statistics
        }
    }

    /// A format under comparison: a level format at a granularity, or an FP4 block format.
    public enum Choice: Sendable {
        case level(LevelFormat)
        /// A block format with its conventions.
        case block(BlockFloatVariant)
    }

    /// A data set, opened only when measured (a shard reads only its own).
    public struct DataSet {
        public let name: String
        public let open: () throws -> RowSource
        public init(name: String, open: @escaping () throws -> RowSource) { self.name = name; self.open = open }

        /// Seeded synthetic weights of each distribution.
        public static func synthetic(_ distributions: [Distribution], rows: Int, columns: Int, seed: UInt64) -> [DataSet] {
            distributions.map { d in
                DataSet(name: "\(d.rawValue) \(rows)×\(columns) seed \(seed)") { InMemoryMatrix(d.sample(rows: rows, columns: columns, seed: seed), rows: rows, columns: columns) }
            }
        }

        /// Named 2-D float tensors of a checkpoint.
        public static func tensors(_ names: [String], of checkpoint: SafetensorsFile) -> [DataSet] {
            names.map { name in
                DataSet(name: name) {
                    let (values, shape) = try checkpoint.floatValues(name)
                    guard shape.count == 2 else { throw TensorIOError.unsupported("tensor '\(name)' has shape \(shape); a 2-D tensor is required") }
                    return InMemoryMatrix(values, rows: shape[0], columns: shape[1])
                }
            }
        }
    }

    /// Measures the data sets in `selected` (a shard's slice of `dataSets`; default all) under
    /// every format, in one pass over each (rows streamed for a `.npy`).
    public static func measure(_ dataSets: [DataSet], selected: Range<Int>? = nil, formats: [Choice], granularity: Granularity,
                               rounding: RoundingRule, seed: UInt64, progress: StreamingQuantization.Progress? = nil) throws -> [Row] {
        let measured: [StreamingQuantization.Measured] = try formats.map { choice in
            switch choice {
            case .level(let f): return .level(try SymmetricQuantizer(format: f, granularity: granularity, rounding: rounding, seed: seed))
            case .block(let v): return .block(try BlockFloatQuantizer(v, rounding: rounding, seed: seed))
            }
        }
        let total = dataSets.count * formats.count
        var rows: [Row] = []
        for d in selected ?? dataSets.indices {
            let source = try dataSets[d].open()
            let results = try StreamingQuantization.measure(source, measured, progress: progress)
            let elements = Double(max(1, source.rows * source.columns))
            for (f, (choice, r)) in zip(formats, results).enumerated() {
                let row = d * formats.count + f
                switch choice {
                case .level(let format):
                    rows.append(Row(row: row, rowsTotal: total, data: dataSets[d].name, format: format.name, granularity: "\(granularity) fp32",
                                    bitsPerElement: Double(format.bitWidth) + 32 * Double(r.scaleCount) / elements, statistics: r.statistics))
                case .block(let v):
                    let scheme = v.scheme
                    let q = try BlockFloatQuantizer(v, rounding: rounding, seed: seed)
                    rows.append(Row(row: row, rowsTotal: total, data: dataSets[d].name, format: v.name,
                                    granularity: "block:\(q.blockRows == 1 ? "" : "\(q.blockRows)x")\(q.blockSize) \(q.scaleFormat.name)",
                                    bitsPerElement: 4 + (Double(q.scaleFormat.bitWidth * r.scaleCount) + (scheme == .nvfp4 ? 32 : 0)) / elements,
                                    statistics: r.statistics))
                }
            }
        }
        return rows
    }

    /// Joins shards' rows into the single run's: ordered by `row`, every row of one run once.
    public static func merge(_ parts: [[Row]]) throws -> [Row] {
        let rows = parts.flatMap { $0 }.sorted { $0.row < $1.row }
        let total = rows.first?.rowsTotal ?? 0
        guard rows.allSatisfy({ $0.rowsTotal == total }), rows.map(\.row) == Array(0..<total) else {
            let have = Set(rows.map(\.row))
            let missing = (0..<total).filter { !have.contains($0) }
            throw TensorIOError.malformed("the shards do not hold every row of one run once (rows_total \(total); missing \(missing.prefix(5)); \(rows.count) rows given)")
        }
        return rows
    }

    /// The Markdown table `underflow` prints.
    public static func markdown(_ rows: [Row], rounding: RoundingRule) -> String {
        var out = "| data | format | scales | bits/element | underflow | clip | MSE | SQNR |\n|---|---|---|---|---|---|---|---|\n"
        for row in rows {
            let s = row.statistics
            out += "| \(row.data) | \(row.format) | \(row.granularity) | \(String(format: "%.3f", row.bitsPerElement)) | \(FigureText.percent(s.underflowRate)) | \(FigureText.percent(s.clipRate)) | \(FigureText.scientific(s.meanSquaredError)) | \(FigureText.decibels(s.sqnrDecibels)) |\n"
        }
        out += "\nRounding \(rounding). Underflow: non-zero inputs that became 0; clip: |x/scale| at least half an outer step beyond the outermost level (for the FP4 formats: |x/scale| ≥ 7).\n"
        return out
    }
}

/// How the tables and summaries print a statistic.
public enum FigureText {
    public static func percent(_ x: Double) -> String { String(format: "%.3f %%", 100 * x) }
    public static func decibels(_ x: Double) -> String { x.isFinite ? String(format: "%.2f dB", x) : "∞" }
    public static func scientific(_ x: Double) -> String { String(format: "%.4e", x) }
}
