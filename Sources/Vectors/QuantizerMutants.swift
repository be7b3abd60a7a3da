import Exact
import Formats

/// A plausible misreading of the quantizer's level decision (docs/quantization.md, "Level
/// decision"; catalogue in docs/vectors.md, "Mutation score"). Each mutant is the exact decision
/// (`Oracle.level`, GMP rationals) with one rule changed; `decide` returns the code it outputs.
public enum QuantizerMutant: String, CaseIterable, Sendable {
    /// A tie goes to the even level (the set rounds ties away).
    case tiesToEven = "ties-to-even"
    /// A tie goes to the level of larger magnitude (the set rounds ties to even).
    case tiesAway = "ties-away"
    /// A tie goes to the level of smaller magnitude.
    case tiesTowardZero = "ties-toward-zero"
    /// A tie goes to the upper level: `≥` for `>` in the midpoint comparison (round half up,
    /// the `floor(v + ½)` reading).
    case tiesUp = "ties-up"
    /// `≥` for `>` in the level search: a value exactly on a level is rounded as though it lay
    /// between that level and the one below (directed rules).
    case exactLevelRounded = "exact-level-rounded"
    /// `≥` for `>` in the stochastic comparison: up iff 2^16 · (v − lo) ≥ r · (hi − lo).
    case drawCompareInclusive = "draw-compare-inclusive"
    /// The threshold off by one: up iff 2^16 · (v − lo) > (r + 1) · (hi − lo).
    case drawOffByOne = "draw-off-by-one"
    /// The draw's complement 0xffff − r used for r.
    case drawComplemented = "draw-complemented"
    /// Only the draw's top 8 bits used (r & 0xff00).
    case drawEightBits = "draw-8-bits"
    /// The draw applied to the magnitude: away from zero iff 2^16 · (|v| − |near|) > r · (|far| − |near|),
    /// which differs from the spec for negative values.
    case drawOnMagnitude = "draw-on-magnitude"
    /// Decision thresholds one binary32 ulp too high in magnitude: x is decided as its
    /// neighbour one ulp toward zero.
    case thresholdUlpHigh = "threshold-ulp-high"
    /// Thresholds one ulp too low: x decided as its neighbour one ulp away from zero (the
    /// largest finite stays).
    case thresholdUlpLow = "threshold-ulp-low"
    /// The ±½-step denormal levels never chosen: the decision over the other levels.
    case denormalLevelsSkipped = "denormal-levels-skipped"
    /// x multiplied by the binary32 reciprocal of s, the product rounded to binary32 (nearest
    /// even; ±∞ read as ±max finite, 0 · ∞ as 0), instead of the exact x / s.
    case reciprocalScale = "reciprocal-scale"
    /// The other signed-zero rule: a negative value at level 0 gets +0 where the set keeps the
    /// sign, −0 where it flushes.
    case zeroSignFlipped = "zero-sign-flipped"

    var tieRule: RoundingRule? {
        switch self {
        case .tiesToEven: return .toNearestOrEven
        case .tiesAway: return .toNearestOrAway
        case .tiesTowardZero: return .towardZero
        case .tiesUp: return .up
        default: return nil
        }
    }

    /// Whether the mutant can differ from the spec for this format and rule.
    public func applies(format: LevelFormat, rule: RoundingRule, signedZero: SignedZero = .keep) -> Bool {
        let nearest = rule == .toNearestOrEven || rule == .toNearestOrAway
        switch self {
        case .tiesToEven, .tiesAway, .tiesTowardZero, .tiesUp:
            guard nearest, tieRule != rule else { return false }
            // Some tie between adjacent levels must be decided differently.
            let l = format.sortedLevels
            return (1..<l.count).contains { k in
                let ruleWinner = LevelFormat.tieWinner(l[k - 1], l[k], rule: rule)
                return ruleWinner != tieWinner(l[k - 1], l[k])
            }
        case .exactLevelRounded: return rule == .down || rule == .towardZero
        case .drawCompareInclusive, .drawOffByOne, .drawComplemented, .drawEightBits: return rule == .stochastic
        case .drawOnMagnitude: return rule == .stochastic && format.minHalfSteps < 0
        case .thresholdUlpHigh, .thresholdUlpLow, .reciprocalScale: return true
        case .denormalLevelsSkipped: return format.sortedLevels.contains { abs($0) == 1 }
        case .zeroSignFlipped: return format.negativeZeroCode != nil
        }
    }

    /// The tie mutants' winner between adjacent levels lo < hi.
    func tieWinner(_ lo: Int, _ hi: Int) -> Int {
        switch tieRule! {
        case .towardZero: return abs(lo) < abs(hi) ? lo : hi
        case .up: return hi
        case let r: return LevelFormat.tieWinner(lo, hi, rule: r)
        }
    }

    /// The code this mutant outputs for x / s (binary32 x finite, s > 0 finite) with draw r.
    public func decide(x: Float, scale s: Float, draw r: UInt32, format: LevelFormat, rule: RoundingRule, signedZero: SignedZero = .keep) -> UInt8 {
        let code = decideLevel(x: x, scale: s, draw: r, format: format, rule: rule)
        // The signed-zero rule on the level-0 code (the mutant's own rule for zero-sign-flipped).
        // (flush for keep and sign-of-value, keep for flush).
        let rule = self == .zeroSignFlipped ? (signedZero == .flush ? SignedZero.keep : .flush) : signedZero
        guard code == format.zeroCode, rule.marksNegative(Double(x)), let negativeZero = format.negativeZeroCode else { return code }
        return negativeZero
    }

    /// The mutant's level code (level 0 as the positive zero code).
    func decideLevel(x: Float, scale s: Float, draw r: UInt32, format: LevelFormat, rule: RoundingRule) -> UInt8 {
        let levels = format.sortedLevels, codes = format.sortedCodes
        func spec(_ x: Float, _ s: Float = s, draw: UInt32 = r, levels: [Int] = levels, codes: [UInt8] = codes) -> UInt8 {
            let half = (Rational(exactly: Double(x))! / Rational(exactly: Double(s))!).timesPowerOfTwo(1)
            return Oracle.level(ofHalfSteps: half, levels: levels, codes: codes, rounding: rule, draw: draw).code
        }
        let half = (Rational(exactly: Double(x))! / Rational(exactly: Double(s))!).timesPowerOfTwo(1)
        // The adjacent levels strictly around the value, when it lies strictly inside the range.
        let j = levels.indices.dropLast().first { Rational(levels[$0]) < half && half < Rational(levels[$0 + 1]) }
        // Tie mutants change only the nearest rules, draw mutants only the stochastic one.
        if tieRule != nil && rule != .toNearestOrEven && rule != .toNearestOrAway { return spec(x) }
        if rawValue.hasPrefix("draw-") && rule != .stochastic { return spec(x) }
        switch self {
        case .tiesToEven, .tiesAway, .tiesTowardZero, .tiesUp:
            guard let j, half.timesPowerOfTwo(1) == Rational(levels[j] + levels[j + 1]) else { return spec(x) }
            return format.code(forHalfSteps: tieWinner(levels[j], levels[j + 1]))!
        case .exactLevelRounded:
            guard let k = levels.firstIndex(where: { Rational($0) == half }), k > 0, rule == .down || (rule == .towardZero && levels[k] > 0) else { return spec(x) }
            return codes[k - 1]
        case .drawCompareInclusive:
            guard let j else { return spec(x) }
            let lo = Rational(levels[j]), hi = Rational(levels[j + 1])
            return (half - lo).timesPowerOfTwo(16) == Rational(Int(r)) * (hi - lo) ? codes[j + 1] : spec(x)
        case .drawOffByOne: return spec(x, draw: r + 1)
        case .drawComplemented: return spec(x, draw: 0xffff - r)
        case .drawEightBits: return spec(x, draw: r & 0xff00)
        case .drawOnMagnitude:
            guard let j, levels[j + 1] <= 0 else { return spec(x) }
            let lo = Rational(levels[j]), hi = Rational(levels[j + 1])
            let away = (hi - half).timesPowerOfTwo(16) > Rational(Int(r)) * (hi - lo)
            return codes[away ? j : j + 1]
        case .zeroSignFlipped: return spec(x)
        case .thresholdUlpHigh:
            return x == 0 ? spec(x) : spec(x > 0 ? x.nextDown : x.nextUp)
        case .thresholdUlpLow:
            let moved = x > 0 ? x.nextUp : x < 0 ? x.nextDown : x
            return spec(moved.isFinite ? moved : x)
        case .denormalLevelsSkipped:
            let keep = levels.indices.filter { abs(levels[$0]) != 1 }
            return spec(x, levels: keep.map { levels[$0] }, codes: keep.map { codes[$0] })
        case .reciprocalScale:
            let reciprocal = 1 / s
            var p = x * reciprocal // binary32 product, rounded to nearest even
            if p.isNaN { p = 0 } else if p.isInfinite { p = p < 0 ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude }
            return spec(p, 1)
        }
    }
}
