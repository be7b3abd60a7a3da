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
/// 2. per-channel refinement: for each channel in turn (largest activation max first), the
///    exponent of s_j moved by ±1, ±2; a move is kept when it lowers the error. The new error is
///    computed exactly and incrementally from the residual R = Ŷ − Y: only channel j's columns
///    change (a rank-one update a′b′ᵀ − abᵀ), plus the whole rows of the tokens and weight rows
///    whose maximum, hence scale, the move changes (re-quantized, their entries recomputed).
///
/// Factors are powers of two (our decision): W·s and X/s are then exact in binary32 and cost an
/// exponent add in hardware, so the scaling itself adds no rounding. The error is accumulated
/// in binary64 in a fixed order: the same inputs give the same factors on every machine.
public struct ActivationAwareScaling: Sendable {
    public let weightFormat: LevelFormat
    public let passes: Int
    public static let strengths: [Double] = (0...20).map { Double($0) / 20 }

    /// Built once: every trial of the refinement uses them (nil: the format cannot be
    /// max-scaled symmetrically; `search` reports that).
    let weightQuantizer: SymmetricQuantizer?
    let activationQuantizer = OperandQuantization.activations

    public init(weightFormat: LevelFormat = .dint4, passes: Int = 2) {
        self.weightFormat = weightFormat
        self.passes = passes
        weightQuantizer = try? OperandQuantization.weights(weightFormat)
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
        /// 10·log10(baseline / refined) dB.
        public var reductionDecibels: Double { 10 * DeterministicMath.log10(baselineError / refinedError) }
        enum CodingKeys: String, CodingKey {
            case exponents, baselineError = "baseline_relative_error", gridError = "grid_relative_error", refinedError = "refined_relative_error"
            case bestStrength = "best_strength", gridErrors = "grid_relative_errors", movesKept = "moves_kept"
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
        /// Row r's new max when column j's magnitude becomes v, or nil when it stays.
        func changedMax(row r: Int, column j: Int, newMagnitude v: Float) -> Float? {
            let m = max(column[r] == j ? second[r] : first[r], v)
            return m == first[r] ? nil : m
        }
    }

    /// `progress(stage, done, total)` is called after each grid point and each refined channel.
    public func search(weights w: [Float], outputs: Int, inputs: Int, activations x: [Float], tokens: Int,
                       progress: ((_ stage: String, _ done: Int, _ total: Int) -> Void)? = nil) throws -> Result {
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
            progress?("grid", gridErrors.count, Self.strengths.count)
        }
        let gridError = best.error

        // 2. Per-channel refinement, channels by decreasing activation max: the outlier channels,
        // whose moves change token scales and so need full evaluations, get the budget first.
        var kept = 0
        let order = (0..<inputs).sorted { (xMax[$0], $1) > (xMax[$1], $0) }
        for pass in 0..<passes {
            for (done, j) in order.enumerated() {
                defer { progress?("refinement pass \(pass + 1)/\(passes)", done + 1, order.count) }
                for step in [-2, -1, 1, 2] {
                    let e = best.exponents[j] + step
                    guard (-24...24).contains(e) else { continue }
                    let move = trial(p, best, channel: j, exponent: e)
                    if move.error < best.error { apply(p, &best, move); kept += 1 }
                }
            }
            // Re-anchor on a full evaluation: the rank-one updates round differently.
            best = try evaluate(p, exponents: best.exponents)
        }
        return Result(exponents: best.exponents, baselineError: baseline / energy, gridError: gridError / energy,
                      refinedError: best.error / energy, bestStrength: bestStrength, gridErrors: gridErrors, movesKept: kept)
    }

    /// Quantizes X/s and W·s with the project's quantizers and measures the output error.
    func evaluate(_ p: Problem, exponents: [Int]) throws -> State {
        let (o, n, t) = (p.outputs, p.inputs, p.tokens)
        var ws = p.w, xs = p.x
        for r in 0..<o { for j in 0..<n { ws[r * n + j] = p.w[r * n + j] * Float(sign: .plus, exponent: exponents[j], significand: 1) } }
        for r in 0..<t { for j in 0..<n { xs[r * n + j] = p.x[r * n + j] * Float(sign: .plus, exponent: -exponents[j], significand: 1) } }
        guard let weightQuantizer else {
            throw QuantizationError.unsuitableFormat("format \(weightFormat.name) has no negative and positive levels; AQAS needs both")
        }
        let qwT = try weightQuantizer.quantize(ws, rows: o, columns: n)
        let qxT = try activationQuantizer.quantize(xs, rows: t, columns: n)
        let qw = (0..<(o * n)).map { weightFormat.decodeSteps(qwT.codes[$0]) * Double(qwT.scales[$0 / n]) }
        let qx = (0..<(t * n)).map { LevelFormat.int8Symmetric.decodeSteps(qxT.codes[$0]) * Double(qxT.scales[$0 / n]) }
        var residual = Self.product(qx, qw, tokens: t, outputs: o, inputs: n)
        var error = 0.0
        for k in residual.indices { residual[k] -= p.reference[k]; error += residual[k] * residual[k] }
        return State(exponents: exponents, xs: xs, ws: ws, qx: qx, qw: qw, tokenScales: qxT.scales.map(Double.init), rowScales: qwT.scales.map(Double.init),
                     tokenMaxima: Maxima(xs, rows: t, columns: n), rowMaxima: Maxima(ws, rows: o, columns: n), residual: residual, error: error)
    }

    /// A trial move of channel j to exponent e, for one operand (activations or weights): its
    /// new dequantized column j, and every row whose maximum (hence scale) the move changes,
    /// re-quantized whole.
    struct Side {
        var column: [Double]
        /// Per row: −1, or the index of its re-quantized row in `rows` (`inputs` values each)
        /// and of its new scale in `scales`.
        var slot: [Int]
        var rows: [Double] = [], scales: [Double] = []
    }

    struct Move {
        let channel: Int, exponent: Int
        var activations: Side, weights: Side
        var error = 0.0
    }

    /// One operand's side of a move: `original` (rows × inputs) scaled by 2^exponent in column j,
    /// `scaled` the current scaled values, quantized per row by `quantizer` (its scale rule and
    /// its level decision, as in a full evaluation).
    func side(_ quantizer: SymmetricQuantizer, original: [Float], scaled: [Float], rows: Int, inputs n: Int, channel j: Int, exponent: Int,
              maxima: Maxima, scales: [Double]) -> Side {
        let selector = quantizer.elementQuantizer.selector
        func dequantize(_ v: Float, _ scale: Double) -> Double {
            scale == 0 ? 0 : selector.halfSteps(atIndex: selector.select(Double(v), scale: scale).index) * 0.5 * scale
        }
        let factor = Float(sign: .plus, exponent: exponent, significand: 1)
        var out = Side(column: [Double](repeating: 0, count: rows), slot: [Int](repeating: -1, count: rows))
        for r in 0..<rows {
            let v = original[r * n + j] * factor
            var scale = scales[r]
            if let newMax = maxima.changedMax(row: r, column: j, newMagnitude: abs(v)) {
                scale = Double(quantizer.scale(forMaxMagnitude: newMax))
                out.slot[r] = out.scales.count
                out.scales.append(scale)
                out.rows += (0..<n).map { k in dequantize(k == j ? v : scaled[r * n + k], scale) }
            }
            out.column[r] = dequantize(v, scale)
        }
        return out
    }

    /// The move and its exact error E′ = Σ R′² (see `residualRows`).
    func trial(_ p: Problem, _ s: State, channel j: Int, exponent e: Int) -> Move {
        let x = side(activationQuantizer, original: p.x, scaled: s.xs, rows: p.tokens, inputs: p.inputs, channel: j, exponent: -e,
                     maxima: s.tokenMaxima, scales: s.tokenScales)
        let w = side(weightQuantizer!, original: p.w, scaled: s.ws, rows: p.outputs, inputs: p.inputs, channel: j, exponent: e,
                     maxima: s.rowMaxima, scales: s.rowScales)
        var m = Move(channel: j, exponent: e, activations: x, weights: w)
        var perToken = [Double](repeating: 0, count: p.tokens)
        residualRows(p, s, m) { r, row in perToken[r] = row.reduce(0) { $0 + $1 * $1 } }
        m.error = perToken.reduce(0, +)
        return m
    }

    /// R′ = Ŷ′ − Y row by row (tokens in parallel; `body` gets each token's row, in any order).
    /// An entry whose token and weight row kept their scales changes by the rank-one term
    /// a′b′ − ab of channel j; the others are recomputed as dot products of the new rows.
    func residualRows(_ p: Problem, _ s: State, _ m: Move, _ body: (Int, UnsafeBufferPointer<Double>) -> Void) {
        let (o, n, t, j) = (p.outputs, p.inputs, p.tokens, m.channel)
        let shared = Shared((p: p, s: s, m: m))
        let results = Locked([(Int, [Double])]())
        let workers = min(t, 64)
        DispatchQueue.concurrentPerform(iterations: workers) { chunk in
            let (p, s, m) = shared.value
            var rows: [(Int, [Double])] = []
            s.qx.withUnsafeBufferPointer { qx in
                s.qw.withUnsafeBufferPointer { qw in
                    m.activations.rows.withUnsafeBufferPointer { tokenRows in
                        m.weights.rows.withUnsafeBufferPointer { weightRows in
                            for r in stride(from: chunk, to: t, by: workers) {
                                var out = [Double](repeating: 0, count: o)
                                let slot = m.activations.slot[r]
                                let xRow = slot >= 0 ? tokenRows.baseAddress! + slot * n : qx.baseAddress! + r * n
                                let xj = xRow[j]
                                for c in 0..<o {
                                    let cs = m.weights.slot[c]
                                    if slot < 0 && cs < 0 {
                                        out[c] = s.residual[r * o + c] + m.activations.column[r] * m.weights.column[c] - xj * qw[c * n + j]
                                        continue
                                    }
                                    let wRow = cs >= 0 ? weightRows.baseAddress! + cs * n : qw.baseAddress! + c * n
                                    let sum = Self.dot(xRow, wRow, n)
                                    // Column j of the two rows is replaced by the move's values.
                                    out[c] = sum - xj * wRow[j] + m.activations.column[r] * m.weights.column[c] - p.reference[r * o + c]
                                }
                                rows.append((r, out))
                            }
                        }
                    }
                }
            }
            results.update { $0 += rows }
        }
        for (r, row) in results.value { row.withUnsafeBufferPointer { body(r, $0) } }
    }

    /// Σ x_k·w_k in four interleaved partial sums (k ≡ 0…3 mod 4) added at the end: a fixed
    /// order, and one the compiler can keep in vector registers.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var k = 0
        while k + 4 <= n {
            s0 += x[k] * w[k]; s1 += x[k + 1] * w[k + 1]; s2 += x[k + 2] * w[k + 2]; s3 += x[k + 3] * w[k + 3]
            k += 4
        }
        while k < n { s0 += x[k] * w[k]; k += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Makes a move the state: residual, dequantized values, scales, scaled inputs, maxima.
    func apply(_ p: Problem, _ s: inout State, _ m: Move) {
        let (o, n, t, j) = (p.outputs, p.inputs, p.tokens, m.channel)
        var residual = s.residual
        residualRows(p, s, m) { r, row in for c in 0..<o { residual[r * o + c] = row[c] } }
        s.residual = residual
        func update(_ side: Side, original: [Float], scaled: inout [Float], values: inout [Double], scales: inout [Double], rows: Int, exponent: Int) {
            for r in 0..<rows {
                scaled[r * n + j] = original[r * n + j] * Float(sign: .plus, exponent: exponent, significand: 1)
                if side.slot[r] >= 0 {
                    for k in 0..<n { values[r * n + k] = side.rows[side.slot[r] * n + k] }
                    scales[r] = side.scales[side.slot[r]]
                }
                values[r * n + j] = side.column[r]
            }
        }
        update(m.activations, original: p.x, scaled: &s.xs, values: &s.qx, scales: &s.tokenScales, rows: t, exponent: -m.exponent)
        update(m.weights, original: p.w, scaled: &s.ws, values: &s.qw, scales: &s.rowScales, rows: o, exponent: m.exponent)
        s.tokenMaxima = Maxima(s.xs, rows: t, columns: n)
        s.rowMaxima = Maxima(s.ws, rows: o, columns: n)
        s.exponents[j] = m.exponent
        s.error = m.error
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
