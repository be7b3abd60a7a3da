import Testing
import Foundation
import Formats
import TensorIO
@testable import Quantization

/// AQAS: the incremental error the refinement uses equals a full re-quantization, the search
/// never ends worse than plain max-scaling, it is deterministic, and it helps on real data.
@Suite struct ActivationAwareScalingTests {
    /// Rows of the real layer-2 FFN down weight against its real input (GELU) activations,
    /// trimmed to keep the debug build quick.
    static func realPair(outputs: Int = 48, tokens: Int = 32, inputs: Int = 256) throws -> ([Float], [Float]) {
        let w = try Files.readNpy(Fixtures.path("minilm-l2-ffn-down-weight.npy")).floatValues()
        let x = try Files.readNpy(Fixtures.path("minilm-l2-ffn-gelu-acts.npy")).floatValues()
        let wt = (0..<outputs).flatMap { r in w[(r * 1536)..<(r * 1536 + inputs)] }
        let xt = (0..<tokens).flatMap { r in x[(r * 1536)..<(r * 1536 + inputs)] }
        return (wt, xt)
    }

    @Test(arguments: [LevelFormat.dint4, .int4Symmetric])
    func incrementalErrorEqualsFullReQuantization(format: LevelFormat) throws {
        let (w, x) = try Self.realPair()
        let aqas = ActivationAwareScaling(weightFormat: format)
        let reference = ActivationAwareScaling.product(x.map(Double.init), w.map(Double.init), tokens: 32, outputs: 48, inputs: 256)
        let p = ActivationAwareScaling.Problem(w: w, x: x, outputs: 48, inputs: 256, tokens: 32, reference: reference,
                                               referenceEnergy: reference.reduce(0) { $0 + $1 * $1 })
        var state = try aqas.evaluate(p, exponents: [Int](repeating: 0, count: 256))
        var rescaled = 0
        for j in stride(from: 0, to: 256, by: 5) {
            for step in [-2, 1] {
                var trial = state.exponents
                trial[j] += step
                let move = aqas.trial(p, state, channel: j, exponent: trial[j])
                let full = try aqas.evaluate(p, exponents: trial)
                #expect(abs(move.error - full.error) <= 1e-9 * full.error, "channel \(j) → 2^\(trial[j]): \(move.error) vs \(full.error)")
                if !move.activations.scales.isEmpty || !move.weights.scales.isEmpty { rescaled += 1 }
                aqas.apply(p, &state, move)
                // The state after the move is the full re-quantization's, value for value.
                #expect(state.qw == full.qw && state.qx == full.qx && state.rowScales == full.rowScales && state.tokenScales == full.tokenScales)
            }
        }
        // Both kinds of move were exercised: scales held, and scales changed.
        #expect(rescaled > 5 && rescaled < 100, "\(rescaled) of 104 moves changed a scale")
    }

    @Test func neverWorseThanMaxScalingAndDeterministic() throws {
        // Smaller than the incremental test: the whole search runs twice in a debug build.
        let (w, x) = try Self.realPair(outputs: 24, tokens: 16, inputs: 96)
        let aqas = ActivationAwareScaling(weightFormat: .dint4, passes: 1)
        let a = try aqas.search(weights: w, outputs: 24, inputs: 96, activations: x, tokens: 16)
        #expect(a.refinedError <= a.gridError && a.gridError <= a.baselineError)
        #expect(a.refinedError < 0.9 * a.baselineError, "\(a.baselineError) → \(a.refinedError)")
        #expect(a.gridErrors.count == ActivationAwareScaling.strengths.count)
        let b = try aqas.search(weights: w, outputs: 24, inputs: 96, activations: x, tokens: 16)
        #expect(a.exponents == b.exponents && a.refinedError == b.refinedError)
        // Layers with nothing to gain keep s = 1: a weight of one non-zero column.
        let lone = try aqas.search(weights: [1, 0, 0, 0, 2, 0], outputs: 2, inputs: 3, activations: [1, 5, 7, 2, 0, 1], tokens: 2)
        #expect(lone.refinedError <= lone.baselineError)
    }

    @Test func badInputsAreRefused() {
        let aqas = ActivationAwareScaling()
        #expect(throws: QuantizationError.self) { try aqas.search(weights: [1, 2, 3], outputs: 1, inputs: 2, activations: [1, 2], tokens: 1) }
        #expect(throws: QuantizationError.self) { try aqas.search(weights: [1, .nan], outputs: 1, inputs: 2, activations: [1, 2], tokens: 1) }
        #expect(throws: QuantizationError.self) { try aqas.search(weights: [0, 0], outputs: 1, inputs: 2, activations: [1, 2], tokens: 1) }
    }
}
