import Dispatch
import Foundation
import Formats

/// Synthetic weight/activation distributions, generated deterministically from a seed with
/// `CounterRandom` and `DeterministicMath` only, so the same seed gives the same bits anywhere.
///
/// Draw k of the tensor uses counters starting at k · 64 (a draw needs at most 56 uniforms),
/// so element values do not depend on generation order.
public enum Distribution: String, CaseIterable, Sendable {
    /// N(0, 1).
    case gaussian
    /// Laplace(0, b = 1/√2), unit variance; the usual model of trained weights.
    case laplace
    /// Student's t with ν = 3, scaled by 1/√3 (unit scale, heavy tails).
    case studentT = "student-t"
    /// N(0, 1) with a few columns (input channels) scaled by 20, like LLM activations' outlier
    /// channels: columns whose index c satisfies mix(seed, c) mod 64 == 0 (about 1 in 64).
    case outlierChannels = "outlier-channels"
    /// Laplace weights of which 70 % are exactly zero (pruned / zero-heavy).
    case sparse

    static let uniformsPerDraw: UInt64 = 64

    /// A rows × columns row-major float32 tensor.
    public func sample(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        let random = CounterRandom(seed: seed)
        var out = [Float](repeating: 0, count: rows * columns)
        // Element k depends only on (seed, k): rows are drawn on all cores, same bytes.
        let workers = max(1, min(rows, ProcessInfo.processInfo.activeProcessorCount * 4))
        out.withUnsafeMutableBufferPointer { buffer in
            let slots = Shared(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for r in stride(from: w, to: rows, by: workers) {
                    for c in 0..<columns {
                        let k = UInt64(r * columns + c)
                        slots.value[r * columns + c] = Float(draw(random, base: k * Self.uniformsPerDraw, column: c))
                    }
                }
            }
        }
        return out
    }

    func draw(_ random: CounterRandom, base: UInt64, column: Int) -> Double {
        var counter = base
        func uniform() -> Double { defer { counter += 1 }; return random.unitInterval(counter) }
        func gaussian() -> Double {
            // Marsaglia's polar method; a failed pair retries with the next uniforms. After 7
            // failures (probability 0.215^7 ≈ 2e-5) the draw is 0, keeping the budget bounded.
            for _ in 0..<7 {
                let u = 2 * uniform() - 1, v = 2 * uniform() - 1
                let s = u * u + v * v
                if s > 0 && s < 1 { return u * (-2 * DeterministicMath.log(s) / s).squareRoot() }
            }
            return 0
        }
        switch self {
        case .gaussian:
            return gaussian()
        case .laplace:
            return laplace(uniform())
        case .studentT:
            let z = gaussian()
            var chi2 = 0.0
            for _ in 0..<3 { let g = gaussian(); chi2 += g * g }
            // Four gaussians of at most 14 uniforms each stay inside the 64-uniform budget.
            return chi2 == 0 ? 0 : z / (chi2 / 3).squareRoot() / 3.0.squareRoot()
        case .outlierChannels:
            let isOutlier = CounterRandom.mix(random.seed ^ 0x6F75_746C_6965_7273, UInt64(column)) % 64 == 0
            return gaussian() * (isOutlier ? 20 : 1)
        case .sparse:
            return uniform() < 0.7 ? 0 : laplace(uniform())
        }
    }

    func laplace(_ u: Double) -> Double {
        // Inverse CDF with u ∈ [0, 1) mapped to (−½, ½]; b = 1/√2 for unit variance.
        let centred = 0.5 - u
        let b = 0.5.squareRoot()
        let magnitude = centred == 0.5 ? 0 : -b * DeterministicMath.log(1 - 2 * abs(centred))
        return centred < 0 ? -magnitude : magnitude
    }
}
