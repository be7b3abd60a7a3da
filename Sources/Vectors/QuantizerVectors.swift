import Exact
import Formats
import Quantization

/// One line per level decision: inputs x and s (binary32 bit patterns, s > 0 finite) and the
/// 16-bit stochastic draw; output the code; flags from the exact quotient x / s.
public struct QuantizerVectors: VectorUnit {
    public let format: LevelFormat
    public let rule: RoundingRule
    public let signedZero: SignedZero
    let selector: LevelSelector

    public init(format: LevelFormat, rule: RoundingRule, signedZero: SignedZero = .keep) {
        self.format = format; self.rule = rule; self.signedZero = signedZero
        selector = LevelSelector(format: format, rule: rule, signedZero: signedZero)
    }

    public var unitName: String { "quantizer" }
    public var layout: VectorLayout {
        VectorLayout([VectorField("x", width: 32, role: .input), VectorField("scale", width: 32, role: .input),
                      VectorField("draw", width: 16, role: .input), VectorField("code", width: format.bitWidth, role: .output),
                      VectorField("flags", width: 8, role: .flags)])
    }
    public static let flags = ["inexact", "tie", "underflow-to-zero", "saturated", "clipped", "smallest-level"]
    public var flagNames: [String] { Self.flags }
    /// `signed_zero` only for formats with a negative zero (E2M1), where the rule can matter.
    public var configurationJSON: String {
        "{\"format\": \"\(format.name)\", \"rounding\": \"\(rule.rawValue)\""
            + (format.negativeZeroCode != nil ? ", \"signed_zero\": \"\(signedZero.rawValue)\"}" : "}")
    }
    public var verilogParameters: [(String, Int)] { [("CODE_W", format.bitWidth)] }
    public var notes: [String] { [] }

    /// Scales every boundary value is tried with: 1, powers of two, a non-power-of-two, the
    /// smallest normal and subnormal, and a large one.
    static let scales: [Float] = [1, 0.5, 0.0625, 3, 0.1, 1.0e-3, .leastNormalMagnitude, .leastNonzeroMagnitude, 1.0e30]
    static let draws: [UInt32] = [0, 1, 0x7fff, 0x8000, 0xffff]
    var drawCount: Int { rule == .stochastic ? Self.draws.count : 1 }

    /// Boundary points in half-steps × 2 (quarter-steps): every level, every midpoint between
    /// neighbours, the clip bounds and a point far beyond them.
    var boundaryQuarterSteps: [Int] {
        let l = format.sortedLevels
        var q = Set(l.map { 2 * $0 })
        for k in 1..<l.count { q.insert(l[k - 1] + l[k]) }
        let lowGap = l[1] - l[0], highGap = l[l.count - 1] - l[l.count - 2]
        q.insert(2 * l[0] - lowGap); q.insert(2 * l[l.count - 1] + highGap)
        q.insert(4 * l[0] - 8); q.insert(4 * l[l.count - 1] + 8)
        return q.sorted()
    }
    /// Special x values crossed with every scale: zeros, the extremes of binary32, ±1.
    static let specials: [Float] = [0, -0.0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
    /// Per scale: each boundary point with its neighbours below and above (3 values), then specials.
    var pointsPerScale: Int { boundaryQuarterSteps.count * 3 + Self.specials.count }
    public var levelOneCaseCount: Int { Self.scales.count * pointsPerScale * drawCount }

    public func makeCase(_ index: Int, seed: UInt64) -> VectorCase {
        let values: [UInt64]
        if index < levelOneCaseCount {
            let d = index % drawCount, rest = index / drawCount
            let s = Self.scales[rest / pointsPerScale], p = rest % pointsPerScale
            var x: Float
            if p < boundaryQuarterSteps.count * 3 {
                x = Float(Double(boundaryQuarterSteps[p / 3]) / 4 * Double(s))
                if p % 3 == 0 { x = x.nextDown } else if p % 3 == 2 { x = x.nextUp }
                if !x.isFinite { x = x < 0 ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude }
            } else {
                x = Self.specials[p - boundaryQuarterSteps.count * 3]
            }
            values = [UInt64(x.bitPattern), UInt64(s.bitPattern), UInt64(Self.draws[d]), 0, 0]
            return VectorCase(index: index, category: p < boundaryQuarterSteps.count * 3 ? "boundary" : "special", lines: [values])
        }
        var r = caseRandom(seed: seed, index: index)
        let kind = ["random-bits", "near-boundary", "llm-like"][index % 3]
        var x: Float, s: Float
        switch kind {
        case "random-bits":
            // Any finite x; a positive normal scale within 2^±40 of 1 half the time, any otherwise.
            repeat { x = Float(bitPattern: UInt32(truncatingIfNeeded: r.next())) } while !x.isFinite
            repeat {
                s = r.chance(1, in: 2) ? Float(bitPattern: UInt32(truncatingIfNeeded: r.next()) & 0x7fff_ffff)
                                       : Float(sign: .plus, exponent: r.below(81) - 40, significand: 1 + Float(r.below(1 << 23)) / Float(1 << 23))
            } while !(s.isFinite && s > 0)
        case "near-boundary":
            let q = boundaryQuarterSteps
            s = Float(sign: .plus, exponent: r.below(41) - 20, significand: 1 + Float(r.below(1 << 23)) / Float(1 << 23))
            x = Float(Double(q[r.below(q.count)]) / 4 * Double(s))
            for _ in 0..<r.below(3) { x = r.chance(1, in: 2) ? x.nextUp : x.nextDown }
        default:
            // A Student-t group of 64 with max-scaling, one element of it.
            let g = (0..<64).map { _ in Float(studentT(&r)) }
            let m = g.reduce(Float(0)) { max($0, abs($1)) }
            s = max(Float(Double(m) / (Double(format.maxHalfSteps) / 2)), .leastNonzeroMagnitude)
            x = g[r.below(64)]
        }
        let draw = rule == .stochastic ? UInt64(r.below(1 << 16)) : 0
        return VectorCase(index: index, category: kind, lines: [[UInt64(x.bitPattern), UInt64(s.bitPattern), draw, 0, 0]])
    }

    /// Student-t (ν = 3) from the counter stream: a normal over the root of a chi-square / 3.
    func studentT(_ r: inout CounterStream) -> Double {
        func normal(_ r: inout CounterStream) -> Double {
            // Irwin-Hall approximation (12 uniforms): deterministic, no libm needed.
            var s = 0.0; for _ in 0..<12 { s += r.nextUnit() }; return s - 6
        }
        let z = normal(&r)
        let c = (0..<3).reduce(0.0) { acc, _ in let n = normal(&r); return acc + n * n } / 3
        return z / max(c.squareRoot(), 1e-3)
    }

    public func fastOutputs(_ c: VectorCase) -> [[UInt64]] {
        c.lines.map { v in
            let x = Double(Float(bitPattern: UInt32(v[0]))), s = Double(Float(bitPattern: UInt32(v[1])))
            return [UInt64(selector.code(atIndex: selector.select(x, scale: s, draw: UInt32(v[2])).index, x: x))]
        }
    }

    public func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64]) {
        var outputs = [[UInt64]](), flags = [UInt64]()
        for v in c.lines {
            let x = Double(Float(bitPattern: UInt32(v[0]))), s = Double(Float(bitPattern: UInt32(v[1])))
            let d = Oracle.quantize(x, scale: s, format: format, rounding: rule, draw: UInt32(v[2]), signedZero: signedZero)
            outputs.append([UInt64(d.code)])
            let half = (Rational(exactly: x)! / Rational(exactly: s)!).timesPowerOfTwo(1)
            var f: UInt64 = 0
            if half != Rational(d.halfSteps) { f |= 1 }
            let l = format.sortedLevels
            for k in 1..<l.count where Rational(l[k - 1]) < half && half < Rational(l[k]) {
                if half.timesPowerOfTwo(1) == Rational(l[k - 1] + l[k]) { f |= 2 }
            }
            if x != 0 && d.halfSteps == 0 { f |= 4 }
            if d.saturated { f |= 8 }
            let lowGap = l[1] - l[0], highGap = l[l.count - 1] - l[l.count - 2]
            if half.timesPowerOfTwo(1) >= Rational(2 * l[l.count - 1] + highGap) || half.timesPowerOfTwo(1) <= Rational(2 * l[0] - lowGap) { f |= 16 }
            let smallest = l.filter { $0 != 0 }.map(abs).min()!
            if abs(d.halfSteps) == smallest { f |= 32 }
            flags.append(f)
        }
        return (outputs, flags)
    }
}
