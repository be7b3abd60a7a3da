import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO
import Workloads

struct UnderflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "underflow",
        abstract: "INT4, symmetric INT4, dINT4 and the FP4 formats side by side: underflow, clipping, MSE, SQNR, bits per element.",
        discussion: """
        Without --input, runs on seeded synthetic weights of every distribution (or the one named). Level formats         (int4, int4-sym, dint4, fp4 = E2M1 levels, …) use --granularity with an FP32 scale per group; mxfp4 and         nvfp4 use their own blocks (32 with a UE8M0 scale, 16 with an E4M3 scale and an FP32 tensor scale)         along each row, whatever --granularity says.
        """)

    @Option(help: "A 2-D float32/float16 .npy to measure instead of synthetic data.")
    var input: String?
    @Option(help: "Synthetic distribution: \(Distribution.allCases.map(\.rawValue).joined(separator: ", ")) (default: all).")
    var distribution: Distribution?
    @Option(help: "Rows of the synthetic tensor.") var rows = 256
    @Option(help: "Columns of the synthetic tensor.") var columns = 1024
    @Option(help: "Seed of the synthetic data and of stochastic rounding.") var seed: UInt64 = 0
    @Option(help: "tensor, channel or group:G.") var granularity: Granularity = .channel
    @Option(help: "Rounding rule.") var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Formats to compare, comma-separated: level formats, mxfp4, nvfp4.") var formats = "int4,int4-sym,dint4,fp4,mxfp4,nvfp4"
    @Option(help: "Also write the rows as JSON here.") var json: String?

    func validate() throws {
        guard (1...1 << 14).contains(rows), (1...1 << 16).contains(columns) else {
            throw ValidationError("--rows must be in 1...16384 and --columns in 1...65536")
        }
    }

    struct Row: Codable {
        let data: String
        let format: String
        let granularity: String
        /// Storage per element, scales included.
        let bitsPerElement: Double
        let statistics: QuantizationStatistics
        enum CodingKeys: String, CodingKey { case data, format, granularity, bitsPerElement = "bits_per_element", statistics }
    }

    /// A format under comparison: a level format with --granularity, or an FP4 block format.
    enum Choice {
        case level(LevelFormat)
        case block(BlockFloatScheme)
    }

    func run() throws {
        let fmts: [Choice] = try formats.split(separator: ",").map { name in
            if let scheme = BlockFloatScheme(rawValue: String(name)) { return .block(scheme) }
            return .level(try resolveFormat(String(name)))
        }
        var datasets: [(String, [Float], Int, Int)] = []
        if let input {
            let (v, r, c) = try readMatrix(input)
            datasets.append((URL(fileURLWithPath: input).lastPathComponent, v, r, c))
        } else {
            for d in distribution.map({ [$0] }) ?? Distribution.allCases {
                datasets.append(("\(d.rawValue) \(rows)×\(columns) seed \(seed)", d.sample(rows: rows, columns: columns, seed: seed), rows, columns))
            }
        }
        var out = "| data | format | scales | bits/element | underflow | clip | MSE | SQNR |\n|---|---|---|---|---|---|---|---|\n"
        var rowsOut: [Row] = []
        for (name, values, r, c) in datasets {
            for choice in fmts {
                let row: Row
                switch choice {
                case .level(let f):
                    let q = try badInput { try SymmetricQuantizer(format: f, granularity: granularity, rounding: rounding, seed: seed) }
                    let result = try badInput { try q.quantize(values, rows: r, columns: c) }
                    let bits = Double(f.bitWidth) + 32 * Double(result.scales.count) / Double(max(1, r * c))
                    row = Row(data: name, format: f.name, granularity: "\(granularity) fp32", bitsPerElement: bits, statistics: result.statistics)
                case .block(let scheme):
                    let q = try badInput { try BlockFloatQuantizer(scheme: scheme, rounding: rounding) }
                    let result = try badInput { try q.quantize(values, rows: r, columns: c) }
                    let bits = 4 + (Double(scheme.scaleFormat.bitWidth * result.blockScales.count) + (scheme == .nvfp4 ? 32 : 0)) / Double(max(1, r * c))
                    row = Row(data: name, format: scheme.rawValue, granularity: "block:\(q.blockSize) \(scheme.scaleFormat.name)",
                              bitsPerElement: bits, statistics: result.statistics)
                }
                rowsOut.append(row)
                let s = row.statistics
                out += "| \(name) | \(row.format) | \(row.granularity) | \(String(format: "%.3f", row.bitsPerElement)) | \(percent(s.underflowRate)) | \(percent(s.clipRate)) | \(scientific(s.meanSquaredError)) | \(decibels(s.sqnrDecibels)) |\n"
            }
        }
        out += "\nRounding \(rounding). Underflow: non-zero inputs that became 0; clip: |x/scale| at least half an outer step beyond the outermost level (for the FP4 formats: |x/scale| ≥ 7).\n"
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let bytes = try badInput { Array(try encoder.encode(rowsOut)) + [0x0A] }
            try badInput { try Files.writeAtomically(bytes, to: json) }
        }
        printOut(out)
    }
}

extension Distribution: ExpressibleByArgument {}
