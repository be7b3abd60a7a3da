import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO
import Workflows

/// Activation-quantization-aware scaling on a layer and its calibration activations.
struct AqasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aqas",
        abstract: "AQAS: per-input-channel smoothing factors for W4A8 (dINT4/INT4 weights, INT8 activations), searched on calibration activations.",
        discussion: """
        Minimises ‖Q(X·diag(s)⁻¹)·Q(W·diag(s))ᵀ − X·Wᵀ‖² over power-of-two factors s: plain max-scaling (s = 1), a grid \
        over the migration strength α, then per-channel refinement (docs/quantization.md). Weights are quantized per \
        output channel, activations per token to INT8. Prints the relative output error of each stage.
        """)

    @Option(help: "Weights: 2-D .npy [out × in], or a .safetensors checkpoint with --tensor.") var weights: String
    @Option(help: "With a .safetensors --weights: the tensor.") var tensor: String?
    @Option(help: "Calibration activations: 2-D .npy [tokens × in] (the layer's real inputs).") var activations: String
    @Option(help: "Weight format (a level format with negative and positive levels).") var weightFormat = "dint4"
    @Option(help: "Refinement passes over the channels.") var passes = 2
    @Option(help: "Write log2 of the factors as an int32 .npy [in] here.") var exponentsOut: String?
    @Option(help: "Write the result as JSON here.") var json: String?

    func validate() throws {
        guard (0...10).contains(passes) else { throw ValidationError("--passes must be in 0...10") }
    }

    func run() throws {
        let (w, o, n) = try readMatrix(weights, tensor: tensor)
        let (x, t, xn) = try readMatrix(activations)
        guard xn == n else { throw CLIError.badInput("weights have \(n) input channels, activations \(xn): X·Wᵀ needs them equal") }
        let format = try resolveFormat(weightFormat)
        let aqas = ActivationAwareScaling(weightFormat: format, passes: passes)
        let r = try badInput { try aqas.search(weights: w, outputs: o, inputs: n, activations: x, tokens: t, progress: stageProgress("aqas", unit: "channels")) }
        var files: [(path: String, bytes: [UInt8])] = []
        if let exponentsOut {
            let bytes = r.exponents.flatMap { e in (0..<4).map { UInt8(truncatingIfNeeded: Int32(e) >> Int32(8 * $0)) } }
            files.append((exponentsOut, NpyCodec.encode(try badInput { try NpyArray(dtype: .int32, shape: [n], data: bytes) })))
        }
        if let json {
            files.append((json, try jsonFileBytes(r)))
        }
        try badInput { try Files.writeAllAtomically(files) }
        func db(_ e: Double) -> String { String(format: "%.2f dB", -10 * DeterministicMath.log10(e)) }
        printOut("""
            AQAS on W [\(o) × \(n)] (\(format.name) per output channel) × X [\(t) × \(n)] (INT8 per token); relative output error ‖Ŷ − Y‖²/‖Y‖²:
            | stage | relative error | output SQNR |
            |---|---|---|
            | max-scaling (s = 1) | \(FigureText.scientific(r.baselineError)) | \(db(r.baselineError)) |
            | grid, best α = \(r.bestStrength.map { String(format: "%.2f", $0) } ?? "none (s = 1)") | \(FigureText.scientific(r.gridError)) | \(db(r.gridError)) |
            | + per-channel refinement (\(r.movesKept) moves kept) | \(FigureText.scientific(r.refinedError)) | \(db(r.refinedError)) |

            Error reduction against max-scaling: \(String(format: "%.2f", r.baselineError / r.refinedError))× (\(String(format: "%.2f", r.reductionDecibels)) dB).
            """)
    }
}

extension AqasCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [weights, activations, codeBookPath(weightFormat)], outputs: [exponentsOut, json]) }
}
