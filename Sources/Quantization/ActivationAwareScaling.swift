import Dispatch
import Foundation
import Formats

/// AQAS (activation-quantization-aware scaling, from the dINT paper): per-input-channel smoothing
/// factors s that make ‖Q(X·diag(s)⁻¹)·Q(W·diag(s))ᵀ − X·Wᵀ‖² small, for weights W [out × in]
/// quantized per output channel to a level format (dINT4, INT4) and calibration activations
/// X [tokens × in] quantized per token to INT8. The search (docs/quantization.md):
///
/// 1. s = 1 (plain max-scaling, the baseline), then a grid over the migration strength
///    α = 0, 0.05, …, 1 with s_j = 2^round(α·log2 max|X_j| − (1 − α)·log2 max|W_j|);
/// 2. per-channel refinement: for each channel in turn (largest activation max first), the exponent of s_j moved by ±1, ±2; a
///    move is kept when it lowers the error. With the row and token scales held (the move does
///    not change any row's or token's max), the new error is computed exactly from the residual
///    R: ‖R + a′b′ᵀ − abᵀ‖² with a, b the channel's dequantized activation and weight columns;
///    moves that would change a max are evaluated by re-quantizing everything (at most
///    `fullEvaluationBudget` per pass).
///
/// Factors are powers of two (our decision): W·s and X/s are then exact in binary32 and cost an
/// exponent add in hardware, so the scaling itself adds no rounding. The error is accumulated
/// in binary64 in a fixed order: the same inputs give the same factors on every machine.
public struct ActivationAwareScaling: Sendable {
    public let weightFormat: LevelFormat
    public let passes: Int
    public let fullEvaluationBudget: Int
    public static let strengths: [Double] = (0...20).map { Double($0) / 20 }

    public init(weightFormat: LevelFormat = .dint4, passes: Int = 2, fullEvaluationBudget: Int = 64) {
        self.weightFormat = weightFormat
        self.passes = passes
        self.fullEvaluationBudget = fullEvaluationBudget
    }

    public struct Result: Sendable, Codable {
        /// log2 of each channel's factor.
        public let exponents: [Int]
        /// ‖Ŷ − Y‖² / ‖Y‖² for s = 1, the best grid point, and after refinement.
        public let baselineError: Double
        public let gridError: Double
        public let refinedError: Double
        /// The grid's best migration strength (nil: s = 1 was best).
        public let bestStrength: Double?
        public let gridErrors: [Double]
        public let movesKept: Int
        public let fullEvaluations: Int
        /// 10·log10(baseline / refined) dB.
        public var reductionDecibels: Double { 10 * DeterministicMath.log10(baselineError / refinedError) }
        enum CodingKeys: String, CodingKey {
            case exponents, baselineError = "baseline_relative_error", gridError = "grid_relative_error", refinedError = "refined_relative_error"
            case bestStrength = "best_strength", gridErrors = "grid_relative_errors", movesKept = "moves_kept", fullEvaluations = "full_evaluations"
        }
    }

    /// Inputs shared by every evaluation.
    struct Problem {
        let w: [Float], x: [Float]
        let outputs: Int, inputs: Int, tokens: Int
        let reference: [Double]      // X·Wᵀ, tokens × outputs
        let referenceEnergy: Double  // ‖X·Wᵀ‖²
    }

    /// Dequantized Q(X/s) and Q(W·s), their scales, and the residual R = Q(X/s)·Q(W·s)ᵀ − X·Wᵀ.
    struct State {
        var exponents: [Int]
        var xs: [Float], ws: [Float]         // X/s and W·s (exact)
        var qx: [Double], qw: [Double]       // their dequantized values, tokens × inputs, outputs × inputs
        var tokenScales: [Double], rowScales: [Double]
        var tokenMaxima: Maxima, rowMaxima: Maxima
        var residual: [Double]
        var error: Double                    // ‖R‖²
    }

    /// Per row: the largest magnitude, its column, and the largest magnitude of the other columns.
    struct Maxima {
        var first: [Float], column: [Int], second: [Float]
        init(_ m: [Float], rows: Int, columns n: Int) {
            first = []; column = []; second = []
            for r in 0..<rows {
                var m1: Float = 0, m2: Float = 0, c1 = 0
                for k in 0..<n {
                    let v = abs(m[r * n + k])
                    if v > m1 { m2 = m1; m1 = v; c1 = k } else if v > m2 { m2 = v }
                }
                first.append(m1); column.append(c1); second.append(m2)
            }
        }
        /// Whether row r's max is unchanged when column j's magnitude becomes v.
        func holds(row r: Int, column j: Int, newMagnitude v: Float) -> Bool {
            let others = column[r] == j ? second[r] : first[r]
            return max(others, v) == first[r]
        }
    }

    public func search(weights w: [Float], outputs: Int, inputs: Int, activations x: [Float], tokens: Int) throws -> Result {
        guard w.count == outputs * inputs, x.count == tokens * inputs, outputs > 0, inputs > 0, tokens > 0 else {
            throw QuantizationError.shapeMismatch("AQAS needs weights [out × in] and activations [tokens × in] with the same in; got \(w.count) and \(x.count) values for in = \(inputs)")
        }
        if let i = w.firstIndex(where: { !$0.isFinite }) { throw QuantizationError.nonFinite(index: i, value: w[i]) }
        if let i = x.firstIndex(where: { !$0.isFinite }) { throw QuantizationError.nonFinite(index: i, value: x[i]) }
        let reference = Self.product(x.map(Double.init), w.map(Double.init), tokens: tokens, outputs: outputs, inputs: inputs)
        let energy = reference.reduce(0) { $0 + $1 * $1 }
        guard energy > 0 else { throw QuantizationError.shapeMismatch("X·Wᵀ is zero: nothing to preserve") }
        let p = Problem(w: w, x: x, outputs: outputs, inputs: inputs, tokens: tokens, reference: reference, referenceEnergy: energy)

        // 1. Baseline and grid.
        var best = try evaluate(p, exponents: [Int](repeating: 0, count: inputs))
        let baseline = best.error
        var bestStrength: Double?
        var gridErrors: [Double] = []
        let wMax = (0..<inputs).map { j in (0..<outputs).reduce(Float(0)) { max($0, abs(w[$1 * inputs + j])) } }
        let xMax = (0..<inputs).map { j in (0..<tokens).reduce(Float(0)) { max($0, abs(x[$1 * inputs + j])) } }
        for alpha in Self.strengths {
            let e = (0..<inputs).map { j -> Int in
                guard wMax[j] > 0, xMax[j] > 0 else { return 0 }
                let l = alpha * DeterministicMath.log(Double(xMax[j])) - (1 - alpha) * DeterministicMath.log(Double(wMax[j]))
                return min(max(Int((l / 0.693_147_180_559_945_3).rounded()), -24), 24)
            }
            let s = try evaluate(p, exponents: e)
            gridErrors.append(s.error / energy)
            if s.error < best.error { best = s; bestStrength = alpha }
        }
        let gridError = best.error

        // 2. Per-channel refinement, channels by decreasing activation max: the outlier channels,
        // whose moves change token scales and so need full evaluations, get the budget first.
        var kept = 0, full = 0
        let order = (0..<inputs).sorted { (xMax[$0], $1) > (xMax[$1], $0) }
        for _ in 0..<passes {
            var budget = fullEvaluationBudget
            for j in order {
                for step in [-2, -1, 1, 2] {
                    let e = best.exponents[j] + step
                    guard (-24...24).contains(e) else { continue }
                    if let delta = incrementalDelta(p, best, channel: j, exponent: e) {
                        if delta.error < best.error { apply(p, &best, channel: j, exponent: e, columns: delta.columns, error: delta.error); kept += 1 }
                    } else if budget > 0 {
                        budget -= 1; full += 1
                        var trial = best.exponents
                        trial[j] = e
                        let s = try evaluate(p, exponents: trial)
                        if s.error < best.error { best = s; kept += 1 }
                    }
                }
            }
            // Re-anchor the running error on a full evaluation (no drift across passes).
            best = try evaluate(p, exponents: best.exponents)
        }
        return Result(exponents: best.exponents, baselineError: baseline / energy, gridError: gridError / energy,
                      refinedError: best.error / energy, bestStrength: bestStrength, gridErrors: gridErrors, movesKept: kept, fullEvaluations: full)
    }

    /// Quantizes X/s and W·s with the project's quantizers and measures the output error.
    func evaluate(_ p: Problem, exponents: [Int]) throws -> State {
        let (o, n, t) = (p.outputs, p.inputs, p.tokens)
        var ws = p.w, xs = p.x
        for r in 0..<o { for j in 0..<n { ws[r * n + j] = p.w[r * n + j] * Float(sign: .plus, exponent: exponents[j], significand: 1) } }
        for r in 0..<t { for j in 0..<n { xs[r * n + j] = p.x[r * n + j] * Float(sign: .plus, exponent: -exponents[j], significand: 1) } }
        let qwT = try SymmetricQuantizer(format: weightFormat, granularity: .channel).quantize(ws, rows: o, columns: n)
        let qxT = try SymmetricQuantizer(format: .int8Symmetric, granularity: .channel).quantize(xs, rows: t, columns: n)
        let qw = (0..<(o * n)).map { weightFormat.decodeSteps(qwT.codes[$0]) * Double(qwT.scales[$0 / n]) }
        let qx = (0..<(t * n)).map { LevelFormat.int8Symmetric.decodeSteps(qxT.codes[$0]) * Double(qxT.scales[$0 / n]) }
        var residual = Self.product(qx, qw, tokens: t, outputs: o, inputs: n)
        var error = 0.0
        for k in residual.indices { residual[k] -= p.reference[k]; error += residual[k] * residual[k] }
        return State(exponents: exponents, xs: xs, ws: ws, qx: qx, qw: qw, tokenScales: qxT.scales.map(Double.init), rowScales: qwT.scales.map(Double.init),
                     tokenMaxima: Maxima(xs, rows: t, columns: n), rowMaxima: Maxima(ws, rows: o, columns: n), residual: residual, error: error)
    }

    /// The exact new error for moving channel j to exponent e with every row and token scale held,
    /// or nil when the move would change a row's or a token's max (so a scale).
    func incrementalDelta(_ p: Problem, _ s: State, channel j: Int, exponent e: Int) -> (error: Double, columns: ([Double], [Double]))? {
        let (o, n, t) = (p.outputs, p.inputs, p.tokens)
        let up = Float(sign: .plus, exponent: e, significand: 1), down = Float(sign: .plus, exponent: -e, significand: 1)
        let wSelector = LevelSelector(format: weightFormat, rule: .toNearestOrEven)
        let xSelector = LevelSelector(format: .int8Symmetric, rule: .toNearestOrEven)
        var b = [Double](repeating: 0, count: o), a = [Double](repeating: 0, count: t)
        for r in 0..<o {
            let v = p.w[r * n + j] * up
            guard s.rowMaxima.holds(row: r, column: j, newMagnitude: abs(v)) else { return nil }
            b[r] = s.rowScales[r] == 0 ? 0 : wSelector.halfSteps(atIndex: wSelector.select(Double(v), scale: s.rowScales[r]).index) * 0.5 * s.rowScales[r]
        }
        for r in 0..<t {
            let v = p.x[r * n + j] * down
            guard s.tokenMaxima.holds(row: r, column: j, newMagnitude: abs(v)) else { return nil }
            a[r] = s.tokenScales[r] == 0 ? 0 : xSelector.halfSteps(atIndex: xSelector.select(Double(v), scale: s.tokenScales[r]).index) * 0.5 * s.tokenScales[r]
        }
        // ‖R + a′b′ᵀ − abᵀ‖² = ‖R‖² + 2(a′ᵀRb′ − aᵀRb) + ‖a′b′ᵀ − abᵀ‖².
        let a0 = (0..<t).map { s.qx[$0 * n + j] }, b0 = (0..<o).map { s.qw[$0 * n + j] }
        var cross = 0.0
        for r in 0..<t {
            var rb1 = 0.0, rb0 = 0.0
            for c in 0..<o { rb1 += s.residual[r * o + c] * b[c]; rb0 += s.residual[r * o + c] * b0[c] }
            cross += a[r] * rb1 - a0[r] * rb0
        }
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        let square = dot(a, a) * dot(b, b) - 2 * dot(a, a0) * dot(b, b0) + dot(a0, a0) * dot(b0, b0)
        return (s.error + 2 * cross + square, (a, b))
    }

    func apply(_ p: Problem, _ s: inout State, channel j: Int, exponent e: Int, columns: ([Double], [Double]), error: Double) {
        let (o, n, t) = (p.outputs, p.inputs, p.tokens)
        let (a, b) = columns
        for r in 0..<t {
            for c in 0..<o { s.residual[r * o + c] += a[r] * b[c] - s.qx[r * n + j] * s.qw[c * n + j] }
        }
        for r in 0..<t { s.qx[r * n + j] = a[r]; s.xs[r * n + j] = p.x[r * n + j] * Float(sign: .plus, exponent: -e, significand: 1) }
        for c in 0..<o { s.qw[c * n + j] = b[c]; s.ws[c * n + j] = p.w[c * n + j] * Float(sign: .plus, exponent: e, significand: 1) }
        // Max values are unchanged by construction; which column holds them, and the runners-up, may move.
        s.tokenMaxima = Maxima(s.xs, rows: t, columns: n)
        s.rowMaxima = Maxima(s.ws, rows: o, columns: n)
        s.exponents[j] = e
        s.error = error
    }

    /// A · Bᵀ for row-major A [tokens × inputs], B [outputs × inputs], in binary64, summed in
    /// index order (tokens in parallel, each row by one thread).
    static func product(_ a: [Double], _ b: [Double], tokens: Int, outputs: Int, inputs: Int) -> [Double] {
        var out = [Double](repeating: 0, count: tokens * outputs)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    let shared = Shared((a: pa, b: pb, out: po))
                    DispatchQueue.concurrentPerform(iterations: tokens) { r in
                        let s = shared.value
                        for c in 0..<outputs {
                            var sum = 0.0
                            for k in 0..<inputs { sum += s.a[r * inputs + k] * s.b[c * inputs + k] }
                            s.out[r * outputs + c] = sum
                        }
                    }
                }
            }
        }
        return out
    }
}
