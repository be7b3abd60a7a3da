import Formats

/// The exact oracle: slow, obviously right decisions on rationals. Fast paths elsewhere are
/// tested against these.
public enum Oracle {
    /// Rounds a non-negative rational `value` to an integer under `rule`, given the sign of the
    /// number it is the magnitude of (directed rules depend on it).
    static func roundMagnitude(_ value: Rational, negative: Bool, rule: RoundingRule) -> BigInteger {
        let (n, fraction) = value.floorAndFraction
        if fraction.signum == 0 { return n }
        let half = Rational(1, 2)
        let up: Bool
        switch rule {
        case .toNearestOrEven: up = fraction > half || (fraction == half && n.isBitSet(0))
        case .toNearestOrAway: up = fraction >= half
        case .towardZero: up = false
        case .down: up = negative
        case .up: up = !negative
        case .stochastic: preconditionFailure("stochastic rounding is not defined for float encoding")
        }
        return up ? n + BigInteger(1) : n
    }

    /// The exact value of a float bit pattern, computed from the field definitions with
    /// rationals only (independent of `BinaryFloatFormat.decode`); nil for NaN and ±∞.
    public static func value(ofBits bits: UInt32, format: BinaryFloatFormat) -> Rational? {
        let e = format.exponentBits, f = format.fractionBits
        let sign = format.isSigned ? (bits >> UInt32(e + f)) & 1 : 0
        let biased = Int((bits >> UInt32(f)) & ((1 << UInt32(e)) - 1))
        let fraction = Int(bits & ((1 << UInt32(f)) - 1))
        let topBinade = biased == (1 << e) - 1
        switch format.specials {
        case .infinityAndNaN: if topBinade { return nil }
        case .nanOnly: if topBinade && fraction == (1 << f) - 1 { return nil }
        case .none: break
        }
        // Normal: 2^(e − bias) · (1 + f / 2^F); subnormal: 2^(1 − bias) · (f / 2^F).
        let subnormal = biased == 0 && format.hasSubnormals
        let exponent = (subnormal ? 1 : biased) - format.bias
        let significand = Rational(subnormal ? 0 : 1) + Rational(fraction).timesPowerOfTwo(-f)
        let magnitude = significand.timesPowerOfTwo(exponent)
        return sign == 1 ? -magnitude : magnitude
    }

    /// `value` correctly rounded to `format` under `rule`, as the format's bit pattern; overflow,
    /// unsigned and zero-less formats as in `BinaryFloatFormat.encode`. Formats of ≤ 8 bits are
    /// rounded by a scan over every code's exact value; wider (IEEE) ones through the quantum
    /// 2^(max(e, emin) − F).
    public static func encode(_ value: Rational, as format: BinaryFloatFormat, rounding rule: RoundingRule = .toNearestOrEven,
                              saturating: Bool = false) -> UInt32 {
        let negative = value.signum < 0
        let signBit: UInt32 = negative ? format.signMask : 0
        if format.bitWidth <= 8 { return encodeByScan(value, as: format, rounding: rule, saturating: saturating) }
        if value.signum == 0 { return 0 }
        let magnitude = value.magnitude
        let quantumExponent = max(magnitude.binaryExponent, format.minExponent) - format.fractionBits
        let scaled = magnitude.timesPowerOfTwo(-quantumExponent)
        let n = roundMagnitude(scaled, negative: negative, rule: rule)
        // n · 2^quantumExponent, re-normalised if rounding carried to 2^(fractionBits+1).
        var significand = n
        var exponent = quantumExponent
        if significand.magnitudeBitWidth > format.fractionBits + 1 {
            significand = significand.floorDivided(by: BigInteger(2)).quotient
            exponent += 1
        }
        let s = significand.intValue!
        let isNormal = s >= 1 << format.fractionBits
        let overflow = exponent + format.fractionBits > format.maxExponent
        if overflow {
            return format.overflowBits(negative: negative, rule: rule, saturating: saturating)
        }
        let biased = isNormal ? exponent + format.fractionBits + format.bias : 0
        let fraction = UInt32(s) & format.fractionMask
        return signBit | (UInt32(biased) << UInt32(format.fractionBits)) | fraction
    }

    /// Rounding by inspection: the two codes whose exact values bracket |value| (one ulp of the
    /// top binade past the largest finite value stands for "overflow"), the rule picks one; a
    /// nearest-rule tie goes to the code with a 0 last bit.
    static func encodeByScan(_ value: Rational, as format: BinaryFloatFormat, rounding rule: RoundingRule, saturating: Bool) -> UInt32 {
        let negative = value.signum < 0
        let signBit: UInt32 = negative ? format.signMask : 0
        if negative && !format.isSigned { return format.nanBits! }
        var magnitudes: [(code: UInt32, value: Rational)] = []
        for code in UInt32(0)..<UInt32(format.codeCount) where code & format.signMask == 0 {
            if let v = Oracle.value(ofBits: code, format: format) { magnitudes.append((code, v)) }
        }
        magnitudes.sort { $0.value < $1.value }
        let top = magnitudes.last!
        let beyond = (code: top.code + 1, value: top.value + Rational(1).timesPowerOfTwo(format.maxExponent - format.fractionBits))
        magnitudes.append(beyond)
        let v = value.magnitude
        if v <= magnitudes[0].value { return signBit | magnitudes[0].code } // zero, or below a zero-less format's smallest
        var j = 0
        while magnitudes[j + 1].value <= v { j += 1; if j + 1 == magnitudes.count { break } }
        let chosen: (code: UInt32, value: Rational)
        if magnitudes[j].value == v || j + 1 == magnitudes.count {
            chosen = magnitudes[j]
        } else {
            let lo = magnitudes[j], hi = magnitudes[j + 1]
            let up: Bool
            switch rule {
            case .toNearestOrEven, .toNearestOrAway:
                let mid = (lo.value + hi.value) / Rational(2)
                if v != mid { up = v > mid } else { up = rule == .toNearestOrAway || lo.code & 1 == 1 }
            case .towardZero: up = false
            case .down: up = negative
            case .up: up = !negative
            case .stochastic: preconditionFailure("stochastic rounding is not defined for float encoding")
            }
            chosen = up ? hi : lo
        }
        if chosen.value > top.value { // the "beyond" stand-in: overflow
            return format.overflowBits(negative: negative, rule: rule, saturating: saturating)
        }
        return signBit | chosen.code
    }

    /// The outcome of quantizing one value to a level format.
    public struct LevelDecision: Equatable, Sendable, CustomStringConvertible {
        public let code: UInt8
        public let halfSteps: Int
        /// The exact value lay outside [min level, max level] and was clamped.
        public let saturated: Bool
        public var description: String { "code \(code) (\(LevelFormat.stepsText(halfSteps)) steps)\(saturated ? " saturated" : "")" }
    }

    /// The level of `format` that `steps` (a value in quantization steps) rounds to under `rule`.
    /// `draw` is the 16-bit stochastic draw r: stochastic rounding goes up iff
    /// 2^16 · (v − lo) > r · (hi − lo).
    public static func level(of steps: Rational, in format: LevelFormat, rounding rule: RoundingRule, draw: UInt32 = 0) -> LevelDecision {
        level(ofHalfSteps: steps.timesPowerOfTwo(1), levels: format.sortedLevels, codes: format.sortedCodes, rounding: rule, draw: draw)
    }

    /// The same decision over any ascending level list (half-steps) with its codes: the rule
    /// above, for callers that change the level set (the quantizer mutants of `vectors score`).
    public static func level(ofHalfSteps half: Rational, levels: [Int], codes: [UInt8], rounding rule: RoundingRule, draw: UInt32 = 0) -> LevelDecision {
        func decision(_ i: Int, saturated: Bool = false) -> LevelDecision {
            LevelDecision(code: codes[i], halfSteps: levels[i], saturated: saturated)
        }
        if half > Rational(levels[levels.count - 1]) { return decision(levels.count - 1, saturated: true) }
        if half < Rational(levels[0]) { return decision(0, saturated: true) }
        // Linear scan: obviously right, and the tables have at most 256 entries.
        var j = 0
        while j + 1 < levels.count && Rational(levels[j + 1]) <= half { j += 1 }
        let lo = Rational(levels[j])
        if half == lo || j + 1 == levels.count { return decision(j) }
        let hi = Rational(levels[j + 1])
        let upward: Bool
        switch rule {
        case .toNearestOrEven, .toNearestOrAway:
            let mid = (lo + hi) / Rational(2)
            if half != mid { upward = half > mid }
            else { upward = LevelFormat.tieWinner(levels[j], levels[j + 1], rule: rule) == levels[j + 1] }
        case .towardZero: upward = half.signum < 0
        case .down: upward = false
        case .up: upward = true
        case .stochastic:
            upward = (half - lo).timesPowerOfTwo(16) > Rational(Int(draw)) * (hi - lo)
        }
        return decision(upward ? j + 1 : j)
    }

    /// Quantizes `x` with scale `scale` (both finite, scale > 0): the level of the exact x / scale.
    /// x that lands on level 0 gets the format's negative-zero code when it has one (E2M1's 1000)
    /// under `signedZero` = keep if x has its sign bit set (negative or −0.0), under sign-of-value
    /// if the binary32 quotient fl32(x / scale) is negative (x < 0 and |x / scale| > 2^−150), never
    /// under flush.
    public static func quantize(_ x: Double, scale: Double, format: LevelFormat, rounding rule: RoundingRule, draw: UInt32 = 0,
                                signedZero: SignedZero = .keep) -> LevelDecision {
        precondition(scale > 0 && x.isFinite && scale.isFinite)
        let d = level(of: Rational(exactly: x)! / Rational(exactly: scale)!, in: format, rounding: rule, draw: draw)
        let negative: Bool
        switch signedZero {
        case .keep: negative = x.sign == .minus
        case .signOfValue: // fl32(x / scale) < 0: x < 0 and |x / scale| above 2^−150, binary32's rounding-to-zero bound
            negative = x < 0 && Rational(exactly: -x)! / Rational(exactly: scale)! > Rational(exactly: 0x1p-150)!
        case .flush: negative = false
        }
        guard negative, d.halfSteps == 0, let negativeZero = format.negativeZeroCode else { return d }
        return LevelDecision(code: negativeZero, halfSteps: 0, saturated: d.saturated)
    }
}
