/// The one parameterized minifloat codec: sign (optional) | biased exponent | fraction, implicit
/// leading one for normals. IEEE-754 interchange formats (FP32, FP16, BF16: subnormals, ±∞, NaN)
/// and the OCP formats (E2M1: all codes finite; E4M3: only S.1111.111 is NaN; UE8M0: unsigned,
/// no zero, no subnormals, 0xFF is NaN) are instances.
///
/// Encoding rounds correctly from binary64 (every value of these formats is exactly a Double,
/// and a Double input is rounded once, never via an intermediate format).
public struct BinaryFloatFormat: Sendable, Hashable, CustomStringConvertible {
    /// Which codes are not finite numbers.
    public enum Specials: String, Sendable, Hashable {
        /// IEEE 754: the all-ones exponent holds ±∞ (fraction 0) and NaN (fraction ≠ 0).
        case infinityAndNaN = "±∞ and NaN"
        /// OCP "FN": no infinity; only the all-ones code (exponent and fraction) is NaN, the rest
        /// of the all-ones exponent binade is finite.
        case nanOnly = "NaN only"
        /// Every code is a finite number (E2M1).
        case none = "none"
    }

    public let name: String
    public let exponentBits: Int
    public let fractionBits: Int
    public let isSigned: Bool
    public let specials: Specials
    /// Biased exponent 0 holds subnormals (and zero). Without them it is an ordinary binade:
    /// the format has no zero (UE8M0).
    public let hasSubnormals: Bool

    public init(name: String, exponentBits: Int, fractionBits: Int, isSigned: Bool = true,
                specials: Specials = .infinityAndNaN, hasSubnormals: Bool = true) {
        precondition((1...11).contains(exponentBits) && (0...52).contains(fractionBits)
                     && exponentBits + fractionBits <= 31, "unsupported float shape")
        precondition(specials != .infinityAndNaN || fractionBits >= 1, "IEEE specials need a fraction bit")
        precondition(hasSubnormals || fractionBits == 0, "only fraction-less formats may lack subnormals")
        self.name = name
        self.exponentBits = exponentBits
        self.fractionBits = fractionBits
        self.isSigned = isSigned
        self.specials = specials
        self.hasSubnormals = hasSubnormals
    }

    public static let fp32 = BinaryFloatFormat(name: "fp32", exponentBits: 8, fractionBits: 23)
    public static let fp16 = BinaryFloatFormat(name: "fp16", exponentBits: 5, fractionBits: 10)
    public static let bf16 = BinaryFloatFormat(name: "bf16", exponentBits: 8, fractionBits: 7)
    /// The IEEE formats the Hadamard decode path works in.
    public static let all: [BinaryFloatFormat] = [.fp32, .fp16, .bf16]

    /// OCP MX v1.0 FP4 element: values 0, ±½, ±1, ±1½, ±2, ±3, ±4, ±6.
    public static let e2m1 = BinaryFloatFormat(name: "e2m1", exponentBits: 2, fractionBits: 1, specials: .none)
    /// OCP FP8 E4M3 (the NVFP4 block scale): largest finite 448, NaN at S.1111.111, no ∞.
    public static let e4m3 = BinaryFloatFormat(name: "e4m3", exponentBits: 4, fractionBits: 3, specials: .nanOnly)
    /// OCP MX E8M0 (the MXFP4 block scale): 2^(e − 127) for e = 0…254, 0xFF NaN.
    public static let ue8m0 = BinaryFloatFormat(name: "ue8m0", exponentBits: 8, fractionBits: 0, isSigned: false,
                                                specials: .nanOnly, hasSubnormals: false)
    /// The OCP microscaling formats.
    public static let microscaling: [BinaryFloatFormat] = [.e2m1, .e4m3, .ue8m0]
    /// UE5M3, the unsigned block-scale format the FP4 training studies propose beside UE8M0 and
    /// E4M3: bias 15, subnormals (2^−17 … 2^−14), largest 1.75 · 2^16 = 114688, no ∞, 0xFF NaN — the
    /// OCP "FN" specials of E4M3, a choice of dintsim's (the papers do not fix them).
    public static let ue5m3 = BinaryFloatFormat(name: "ue5m3", exponentBits: 5, fractionBits: 3, isSigned: false, specials: .nanOnly)
    /// The formats a block scale can take.
    public static let blockScales: [BinaryFloatFormat] = [.ue8m0, .e4m3, .ue5m3]
    /// Every float format, in the order `dintsim formats` lists them.
    public static let presets: [BinaryFloatFormat] = all + microscaling + [.ue5m3]

    public var description: String { name }
    public var bitWidth: Int { (isSigned ? 1 : 0) + exponentBits + fractionBits }
    public var codeCount: Int { 1 << bitWidth }
    public var bias: Int { (1 << (exponentBits - 1)) - 1 }
    /// Exponent of the smallest normal number.
    public var minExponent: Int { hasSubnormals ? 1 - bias : -bias }
    /// Exponent of the largest finite number.
    public var maxExponent: Int { Int(maxFiniteBits >> UInt32(fractionBits)) - bias }
    public var signMask: UInt32 { isSigned ? 1 << UInt32(exponentBits + fractionBits) : 0 }
    public var exponentMask: UInt32 { ((1 << UInt32(exponentBits)) - 1) << UInt32(fractionBits) }
    public var fractionMask: UInt32 { (1 << UInt32(fractionBits)) - 1 }
    /// Bits of +infinity (IEEE formats only).
    public var infinityBits: UInt32 {
        precondition(specials == .infinityAndNaN, "\(name) has no infinity")
        return exponentMask
    }
    /// Bits of the largest finite positive number.
    public var maxFiniteBits: UInt32 {
        switch specials {
        case .infinityAndNaN: return exponentMask - 1
        case .nanOnly: return (exponentMask | fractionMask) - 1
        case .none: return exponentMask | fractionMask
        }
    }
    /// Bits of the canonical quiet NaN (positive), or nil for a format without NaN.
    public var nanBits: UInt32? {
        switch specials {
        case .infinityAndNaN: return exponentMask | (1 << UInt32(fractionBits - 1))
        case .nanOnly: return exponentMask | fractionMask
        case .none: return nil
        }
    }

    public func isNaN(_ bits: UInt32) -> Bool {
        switch specials {
        case .infinityAndNaN: return bits & exponentMask == exponentMask && bits & fractionMask != 0
        case .nanOnly: return bits & ~signMask == exponentMask | fractionMask
        case .none: return false
        }
    }
    public func isInfinite(_ bits: UInt32) -> Bool { specials == .infinityAndNaN && bits & ~signMask == exponentMask }

    /// The exact value of `bits` (low `bitWidth` bits) as a Double.
    public func decode(_ bits: UInt32) -> Double {
        let negative = bits & signMask != 0
        let e = Int((bits & exponentMask) >> UInt32(fractionBits))
        let f = Int(bits & fractionMask)
        let magnitude: Double
        if isNaN(bits) {
            magnitude = .nan
        } else if isInfinite(bits) {
            magnitude = .infinity
        } else if e == 0 && hasSubnormals {
            magnitude = Double(sign: .plus, exponent: minExponent - fractionBits, significand: Double(f))
        } else {
            magnitude = Double(sign: .plus, exponent: e - bias - fractionBits, significand: Double(f | (1 << fractionBits)))
        }
        return negative ? -magnitude : magnitude
    }

    /// `x` rounded to this format under `rule` (stochastic is not defined for floats here).
    ///
    /// Overflow (the rounded magnitude exceeds the largest finite number): with `saturating`, or
    /// in a format without NaN, the largest finite magnitude. Otherwise IEEE 754 §7.4: nearest
    /// rules and a directed rule pointing away from zero give ∞ — NaN in a format without ∞ (the
    /// OCP non-saturating conversion) — and a directed rule pointing toward zero gives the largest
    /// finite magnitude. ±∞ inputs overflow the same way. NaN becomes the canonical NaN with x's
    /// sign. Unsigned formats: negative inputs give NaN. Formats without zero (no subnormals):
    /// magnitudes below the smallest value, zero included, give the smallest value.
    /// Precondition: x is not NaN / negative when the format has no NaN.
    public func encode(_ x: Double, rounding rule: RoundingRule = .toNearestOrEven, saturating: Bool = false) -> UInt32 {
        precondition(rule != .stochastic, "stochastic rounding is not defined for float encoding")
        let signBit: UInt32 = x.sign == .minus ? signMask : 0
        if x.isNaN || (!isSigned && x < 0) {
            guard let nan = nanBits else { preconditionFailure("\(name) cannot encode \(x)") }
            return signBit | nan
        }
        if x.isInfinite { return overflowBits(negative: signBit != 0, rule: rule, saturating: saturating) }
        if !hasSubnormals && abs(x) < decode(0) { return signBit }
        if x == 0 { return signBit }
        // |x| = m · 2^e with m a 53-bit (or shorter, for subnormal doubles) integer.
        let m = x.significandBitPattern | (x.isNormal ? 1 << 52 : 0)
        let e = Int(x.isNormal ? x.exponent : Double.leastNormalMagnitude.exponent) - 52
        let exponentOfX = x.exponent // floor(log2|x|), correct for subnormal doubles too
        // Quantum (weight of the last significand bit) of the result.
        let quantumExponent = max(Int(exponentOfX), minExponent) - fractionBits
        let shift = quantumExponent - e
        // Exponent field and fraction in one addition: a carry out of the fraction bumps the
        // exponent. Normal: n ∈ [2^F, 2^(F+1)) supplies the implicit one, which lands on the
        // exponent field (biased exponent = exponentField + 1). Subnormal: exponentField = 0, n < 2^F.
        // (Without subnormals the smallest binade has exponentField = −1.)
        let exponentField = Int64(quantumExponent + fractionBits - (1 - bias))
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
                    // The even candidate is the code with a 0 last bit (the last fraction bit;
                    // for a fraction-less format the exponent's last bit).
                    let codeDown = (exponentField << Int64(fractionBits)) + Int64(kept)
                    roundUp = shift <= 64 && (remainder > half || (remainder == half && codeDown & 1 == 1))
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
        let bits = (exponentField << Int64(fractionBits)) + Int64(n)
        if bits > Int64(maxFiniteBits) {
            return overflowBits(negative: signBit != 0, rule: rule, saturating: saturating)
        }
        return signBit | UInt32(bits)
    }

    /// The result of an overflow under `rule` (see `encode`).
    public func overflowBits(negative: Bool, rule: RoundingRule, saturating: Bool = false) -> UInt32 {
        let awayFromZero: Bool
        switch rule {
        case .toNearestOrEven, .toNearestOrAway: awayFromZero = true
        case .towardZero: awayFromZero = false
        case .down: awayFromZero = negative
        case .up: awayFromZero = !negative
        case .stochastic: preconditionFailure("stochastic rounding is not defined for float encoding")
        }
        let sign = negative ? signMask : 0
        if saturating || !awayFromZero { return sign | maxFiniteBits }
        switch specials {
        case .infinityAndNaN: return sign | exponentMask
        case .nanOnly: return sign | nanBits!
        case .none: return sign | maxFiniteBits
        }
    }

    /// `decode(encode(x))`.
    public func round(_ x: Double, rounding rule: RoundingRule = .toNearestOrEven, saturating: Bool = false) -> Double {
        decode(encode(x, rounding: rule, saturating: saturating))
    }

    public static func preset(named name: String) throws -> BinaryFloatFormat {
        guard let f = presets.first(where: { $0.name == name }) else {
            throw FormatError.unknownName(name, known: presets.map(\.name))
        }
        return f
    }
}
