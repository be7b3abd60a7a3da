import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Symmetric max-scaling quantization of a 2-D tensor (rows = output channels) to a level format.")

    @Option(help: "Level format: dint4, int4, int4-sym, int8-sym, int8, or codebook:FILE.json.")
    var format: String
    @Option(help: "tensor, channel (per row; per token for activations) or group:G (G consecutive elements of a row).")
    var granularity: Granularity
    @Option(help: "Rounding rule: \(RoundingRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Seed of the counter-based generator (stochastic rounding).")
    var seed: UInt64 = 0
    @Option(help: "Input: 2-D float32 or float16 .npy.")
    var input: String
    @Option(help: "Output: uint8 .npy of raw code bit patterns, same shape as the input.")
    var codesOut: String
    @Option(help: "Output: float32 .npy of scales, one per group.")
    var scalesOut: String
    @Option(help: "Also write the statistics as JSON here.")
    var statsJson: String?
    @Option(help: "Accept NaN/Inf inputs: zero (they become 0) or saturate (±Inf to the extreme levels, NaN to 0).")
    var allowNonfinite: NonFinitePolicy?

    func validate() throws {
        if allowNonfinite == .error { throw ValidationError("--allow-nonfinite takes zero or saturate") }
    }

    func run() throws {
        let fmt = try resolveFormat(format)
        let (values, rows, columns) = try readMatrix(input)
        let quantizer = try badInput {
            try SymmetricQuantizer(format: fmt, granularity: granularity, rounding: rounding, seed: seed, nonFinite: allowNonfinite ?? .error)
        }
        let result = try badInput { try quantizer.quantize(values, rows: rows, columns: columns) }
        var files: [(String, [UInt8])] = try badInput { [
            (codesOut, NpyCodec.encode(try NpyArray(uint8: result.codes, shape: [rows, columns]))),
            (scalesOut, NpyCodec.encode(try NpyArray(float32: result.scales, shape: result.scaleShape))),
        ] }
        let stats = result.statistics
        if let statsJson {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            files.append((statsJson, Array(try encoder.encode(stats)) + [0x0A]))
        }
        try badInput { try Files.writeAllAtomically(files.map { (path: $0.0, bytes: $0.1) }) }
        printOut("""
            quantized \(rows) × \(columns) to \(fmt.name), \(granularity), \(rounding): \(result.scales.count) scale(s)
            underflow \(percent(stats.underflowRate)) (\(stats.underflowCount) of \(stats.nonzeroCount) non-zero), clip \(percent(stats.clipRate)) (\(stats.clipCount)), MSE \(scientific(stats.meanSquaredError)), SQNR \(decibels(stats.sqnrDecibels))
            """)
    }
}
