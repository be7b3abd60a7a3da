/// An IEEE-754-style binary floating-point format with `exponentBits` and `fractionBits`
/// (implicit leading one, subnormals, infinities, NaN): FP32, FP16 and BF16 are instances.
///
/// Encoding rounds correctly from binary64 (every FP32/FP16/BF16 value is exactly a Double, and
/// a Double input is rounded once, never via an intermediate format).
public struct BinaryFloatFormat: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let exponentBits: Int
    public let fractionBits: Int

    public init(name: String, exponentBits: Int, fractionBits: Int) {
        precondition((2...11).contains(exponentBits) && (1...52).contains(fractionBits)
                     && exponentBits + fractionBits <= 31, "unsupported float shape")
        self.name = name
        self.exponentBits = exponentBits
        self.fractionBits = fractionBits
    }

    public static let fp32 = BinaryFloatFormat(name: "fp32", exponentBits: 8, fractionBits: 23)
    public static let fp16 = BinaryFloatFormat(name: "fp16", exponentBits: 5, fractionBits: 10)
    public static let bf16 = BinaryFloatFormat(name: "bf16", exponentBits: 8, fractionBits: 7)
    public static let all: [BinaryFloatFormat] = [.fp32, .fp16, .bf16]

    public var description: String { name }
    public var bitWidth: Int { 1 + exponentBits + fractionBits }
    public var bias: Int { (1 << (exponentBits - 1)) - 1 }
    /// Exponent of the smallest normal number.
    public var minExponent: Int { 1 - bias }
    /// Exponent of the largest finite number.
    public var maxExponent: Int { bias }
    public var signMask: UInt32 { 1 << UInt32(exponentBits + fractionBits) }
    public var exponentMask: UInt32 { ((1 << UInt32(exponentBits)) - 1) << UInt32(fractionBits) }
    public var fractionMask: UInt32 { (1 << UInt32(fractionBits)) - 1 }
    /// Bits of +infinity.
    public var infinityBits: UInt32 { exponentMask }
    /// Bits of the largest finite positive number.
    public var maxFiniteBits: UInt32 { exponentMask - 1 }
    /// Bits of the canonical quiet NaN (positive).
    public var quietNaNBits: UInt32 { exponentMask | (1 << UInt32(fractionBits - 1)) }

    public func isNaN(_ bits: UInt32) -> Bool { bits & exponentMask == exponentMask && bits & fractionMask != 0 }
    public func isInfinite(_ bits: UInt32) -> Bool { bits & ~signMask == exponentMask }

    /// The exact value of `bits` (low `bitWidth` bits) as a Double.
    public func decode(_ bits: UInt32) -> Double {
        let negative = bits & signMask != 0
        let e = Int((bits & exponentMask) >> UInt32(fractionBits))
        let f = Int(bits & fractionMask)
        let magnitude: Double
        if e == (1 << exponentBits) - 1 {
            magnitude = f == 0 ? .infinity : .nan
        } else if e == 0 {
            magnitude = Double(sign: .plus, exponent: minExponent - fractionBits, significand: Double(f))
        } else {
            magnitude = Double(sign: .plus, exponent: e - bias - fractionBits, significand: Double(f | (1 << fractionBits)))
        }
        return negative ? -magnitude : magnitude
    }

    /// `x` rounded to this format under `rule` (stochastic is not defined for floats here).
    /// Overflow follows IEEE 754: nearest rules give infinity, directed rules the largest finite
    /// number or infinity depending on direction. NaN becomes the canonical quiet NaN with x's sign.
    public func encode(_ x: Double, rounding rule: RoundingRule = .toNearestOrEven) -> UInt32 {
        precondition(rule != .stochastic, "stochastic rounding is not defined for float encoding")
        let signBit: UInt32 = x.sign == .minus ? signMask : 0
        if x.isNaN { return signBit | quietNaNBits }
        if x.isInfinite { return signBit | infinityBits }
        if x == 0 { return signBit }
        // |x| = m · 2^e with m a 53-bit (or shorter, for subnormal doubles) integer.
        let m = x.significandBitPattern | (x.isNormal ? 1 << 52 : 0)
        let e = Int(x.isNormal ? x.exponent : Double.leastNormalMagnitude.exponent) - 52
        let exponentOfX = x.exponent // floor(log2|x|), correct for subnormal doubles too
        // Quantum (weight of the last significand bit) of the result.
        let quantumExponent = max(Int(exponentOfX), minExponent) - fractionBits
        let shift = quantumExponent - e
        var n: UInt64
        var roundUp = false
        if shift <= 0 {
            n = m << UInt64(-shift) // exact; cannot happen for formats narrower than binary64
        } else {
            let kept = shift >= 64 ? 0 : m >> UInt64(shift)
            let remainder = shift >= 64 ? m : m & ((1 << UInt64(shift)) - 1)
            let half: UInt64 = shift > 64 ? 0 : 1 << UInt64(shift - 1)  // shift > 64 ⇒ remainder < half
            n = kept
            if remainder != 0 {
                let negative = signBit != 0
                switch rule {
                case .toNearestOrEven:
                    roundUp = shift <= 64 && (remainder > half || (remainder == half && kept & 1 == 1))
                case .toNearestOrAway:
                    roundUp = shift <= 64 && remainder >= half
                case .towardZero: roundUp = false
                case .down: roundUp = negative
                case .up: roundUp = !negative
                case .stochastic: fatalError("unreachable")
                }
            }
        }
        if roundUp { n += 1 }
        // Exponent field and fraction in one addition: a carry out of the fraction bumps the exponent.
        let exponentField = quantumExponent + fractionBits - minExponent
        // Normal: n ∈ [2^f, 2^(f+1)) supplies the implicit one, which lands on the exponent field
        // (biased exponent = exponentField + 1). Subnormal: exponentField = 0 and n < 2^f.
        let bits = (UInt64(exponentField) << UInt64(fractionBits)) + n
        if bits >= UInt64(infinityBits) {
            return overflowBits(negative: signBit != 0, rule: rule)
        }
        return signBit | UInt32(bits)
    }

    /// The result of an overflow under `rule` (IEEE 754 §7.4): nearest rules give ±∞; directed
    /// rules give ∞ only in their direction and the largest finite magnitude otherwise.
    public func overflowBits(negative: Bool, rule: RoundingRule) -> UInt32 {
        let toInfinity: Bool
        switch rule {
        case .toNearestOrEven, .toNearestOrAway: toInfinity = true
        case .towardZero: toInfinity = false
        case .down: toInfinity = negative
        case .up: toInfinity = !negative
        case .stochastic: preconditionFailure("stochastic rounding is not defined for float encoding")
        }
        return (negative ? signMask : 0) | (toInfinity ? infinityBits : maxFiniteBits)
    }

    /// `decode(encode(x))`.
    public func round(_ x: Double, rounding rule: RoundingRule = .toNearestOrEven) -> Double {
        decode(encode(x, rounding: rule))
    }
}
