import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO
import Workloads

struct UnderflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "underflow",
        abstract: "INT4 vs symmetric INT4 vs dINT4 side by side: underflow, clipping, MSE, SQNR.",
        discussion: "Without --input, runs on seeded synthetic weights of every distribution (or the one named).")

    @Option(help: "A 2-D float32/float16 .npy to measure instead of synthetic data.")
    var input: String?
    @Option(help: "Synthetic distribution: \(Distribution.allCases.map(\.rawValue).joined(separator: ", ")) (default: all).")
    var distribution: Distribution?
    @Option(help: "Rows of the synthetic tensor.") var rows = 256
    @Option(help: "Columns of the synthetic tensor.") var columns = 1024
    @Option(help: "Seed of the synthetic data and of stochastic rounding.") var seed: UInt64 = 0
    @Option(help: "tensor, channel or group:G.") var granularity: Granularity = .channel
    @Option(help: "Rounding rule.") var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Formats to compare, comma-separated.") var formats = "int4,int4-sym,dint4"
    @Option(help: "Also write the rows as JSON here.") var json: String?

    func validate() throws {
        guard (1...1 << 14).contains(rows), (1...1 << 16).contains(columns) else {
            throw ValidationError("--rows must be in 1...16384 and --columns in 1...65536")
        }
    }

    struct Row: Codable {
        let data: String
        let format: String
        let statistics: QuantizationStatistics
    }

    func run() throws {
        let fmts = try formats.split(separator: ",").map { try resolveFormat(String($0)) }
        var datasets: [(String, [Float], Int, Int)] = []
        if let input {
            let (v, r, c) = try readMatrix(input)
            datasets.append((URL(fileURLWithPath: input).lastPathComponent, v, r, c))
        } else {
            for d in distribution.map({ [$0] }) ?? Distribution.allCases {
                datasets.append(("\(d.rawValue) \(rows)×\(columns) seed \(seed)", d.sample(rows: rows, columns: columns, seed: seed), rows, columns))
            }
        }
        var out = "| data | format | underflow | clip | MSE | SQNR |\n|---|---|---|---|---|---|\n"
        var rowsOut: [Row] = []
        for (name, values, r, c) in datasets {
            for f in fmts {
                let q = try badInput { try SymmetricQuantizer(format: f, granularity: granularity, rounding: rounding, seed: seed) }
                let s = try badInput { try q.quantize(values, rows: r, columns: c).statistics }
                rowsOut.append(Row(data: name, format: f.name, statistics: s))
                out += "| \(name) | \(f.name) | \(percent(s.underflowRate)) | \(percent(s.clipRate)) | \(scientific(s.meanSquaredError)) | \(decibels(s.sqnrDecibels)) |\n"
            }
        }
        out += "\nGranularity \(granularity), rounding \(rounding). Underflow: non-zero inputs that became 0; clip: |x/scale| at least half an outer step beyond the outermost level.\n"
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
