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
        var checked = 0, refused = 0
        for j in stride(from: 0, to: 256, by: 5) {
            for step in [-2, 1] {
                let e = state.exponents[j] + step
                guard let delta = aqas.incrementalDelta(p, state, channel: j, exponent: e) else { refused += 1; continue }
                var trial = state.exponents
                trial[j] = e
                let full = try aqas.evaluate(p, exponents: trial)
                #expect(abs(delta.error - full.error) <= 1e-9 * full.error, "channel \(j) → 2^\(e): \(delta.error) vs \(full.error)")
                aqas.apply(p, &state, channel: j, exponent: e, columns: delta.columns, error: delta.error)
                #expect(state.qw == full.qw && state.qx == full.qx)
                checked += 1
            }
        }
        #expect(checked >= 20 && refused > 0, "\(checked) checked, \(refused) refused")
    }

    @Test func neverWorseThanMaxScalingAndDeterministic() throws {
        let (w, x) = try Self.realPair()
        let aqas = ActivationAwareScaling(weightFormat: .dint4, passes: 1)
        let a = try aqas.search(weights: w, outputs: 48, inputs: 256, activations: x, tokens: 32)
        #expect(a.refinedError <= a.gridError && a.gridError <= a.baselineError)
        #expect(a.refinedError < 0.9 * a.baselineError, "\(a.baselineError) → \(a.refinedError)")
        #expect(a.gridErrors.count == ActivationAwareScaling.strengths.count)
        let b = try aqas.search(weights: w, outputs: 48, inputs: 256, activations: x, tokens: 32)
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
