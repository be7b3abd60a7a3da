import Exact
import Formats
import TAHQuant
import TAHQuantExact

/// A plausible misreading of the Hadamard-decoder specification (docs/vectors.md, "Mutation
/// score"): the exact decode of docs/tahquant.md with one rule changed. Each mutant is computed
/// from exact rationals (GMP), so it differs from the spec only where its rule does.
public enum DecoderMutant: String, CaseIterable, Sendable {
    /// Rounding toward zero (truncation) instead of to nearest even.
    case truncation
    /// Ties rounded away from zero.
    case tiesAway = "ties-away"
    /// Round to nearest even on the round bit alone (the sticky OR of the lower bits dropped):
    /// a value above the midpoint is treated as a tie.
    case droppedSticky = "dropped-sticky"
    /// The constant R (= fl64(1/√2)) rounded to 16 / 20 significant bits.
    case r16 = "r-16-bits"
    case r20 = "r-20-bits"
    /// The exact 1/√2 (an irrational factor) in place of the spec's 53-bit R.
    case exactInverseSqrt2 = "exact-inverse-sqrt2"
    /// Subnormal outputs flushed to a zero of the same sign.
    case flushToZero = "flush-to-zero"
    /// Overflow gives the largest finite value instead of ∞.
    case saturateOnOverflow = "saturate-on-overflow"
    /// A non-zero value that rounds to zero gives +0 whatever its sign.
    case zeroWithoutSign = "zero-without-sign"
    /// Flagged tiles: G·z added to output element 0 (after the un-swap) instead of to (Hq)₀,
    /// which the un-swap moves to the pivot's position.
    case zeroPointAfterUnswap = "zero-point-after-unswap"
    /// Flagged tiles: the zero point added to every element after the transform
    /// (y = s·(Hq)·c_G + z) instead of G·z to (Hq)₀ before it.
    case zeroPointAfterTransform = "zero-point-after-transform"
    /// Flagged tiles: the pivot swap not undone.
    case pivotNotUnswapped = "pivot-not-unswapped"

    /// Whether the mutant can differ from the spec at all for this unit (G, output format).
    public func applies(tileSize g: Int, output: BinaryFloatFormat) -> Bool {
        switch self {
        case .r16, .r20: return g.trailingZeroBitCount % 2 == 1
        // Its error is 2^−53.7 relative: for BF16 and FP16 outputs (8 and 11 bits) a tile must
        // put an exact product within 2^−45 (2^−42) of an output ulp of a rounding midpoint,
        // and the ~2^38 tiles whose element values differ do not supply one in expectation
        // (docs/vectors.md); only FP32 outputs are searched for and scored.
        case .exactInverseSqrt2: return g.trailingZeroBitCount % 2 == 1 && output == .fp32
        // Only FP16 outputs can be subnormal, infinite or a rounded zero: |y| lies in
        // [2^−28, 2^27] for every non-zero exact value (docs/vectors.md).
        case .flushToZero, .saturateOnOverflow, .zeroWithoutSign: return output == .fp16
        default: return true
        }
    }

    /// 1/√2 to 256 bits: ⌊√(2^511)⌋ / 2^256, within 2^−256 of it — far inside the distance of
    /// any decoder value's exact product from a rounding boundary (docs/vectors.md).
    static let inverseSqrt2 = Rational(BigInteger(1).shiftedLeft(511).squareRootFloor, BigInteger(1).shiftedLeft(256))

    /// The factor c_G a flagged tile is multiplied by (the spec's when `mutant` is nil).
    static func factor(_ g: Int, _ mutant: DecoderMutant?) -> Rational {
        let log2G = g.trailingZeroBitCount, power = Rational.one.timesPowerOfTwo(-(log2G / 2))
        guard log2G % 2 == 1 else { return power }
        let r = Hadamard.r
        switch mutant {
        case .r16: return power * Rational(exactly: (r * 0x1p16).rounded(.toNearestOrEven) * 0x1p-16)!
        case .r20: return power * Rational(exactly: (r * 0x1p20).rounded(.toNearestOrEven) * 0x1p-20)!
        case .exactInverseSqrt2: return power * Self.inverseSqrt2
        default: return power * Rational(exactly: r)!
        }
    }

    /// The mutant's output bit patterns for one tile (element 0 first).
    public func decode(codes: [UInt8], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16, output: BinaryFloatFormat) -> [UInt32] {
        Self.decode(self, codes: codes, flagged: flagged, pivot: pivot, scale: scale, zero: zero, output: output)
    }

    /// The decode spec itself when `mutant` is nil.
    static func decode(_ mutant: DecoderMutant?, codes: [UInt8], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16, output: BinaryFloatFormat) -> [UInt32] {
        let variant = TahQuantExactDecoder.Variant(
            factor: factor(codes.count, mutant),
            zeroPoint: mutant == .zeroPointAfterUnswap ? .afterUnswap : mutant == .zeroPointAfterTransform ? .afterTransform : .transformInput,
            unswap: mutant != .pivotNotUnswapped)
        return TahQuantExactDecoder.tile(codes: codes.map(Int.init), flagged: flagged, pivot: pivot, scale: scale, zero: zero, variant: variant)
            .map { round($0, output, mutant) }
    }

    static func round(_ value: Rational, _ f: BinaryFloatFormat, _ mutant: DecoderMutant?) -> UInt32 {
        switch mutant {
        case .truncation: return Oracle.encode(value, as: f, rounding: .towardZero)
        case .tiesAway: return Oracle.encode(value, as: f, rounding: .toNearestOrAway)
        case .saturateOnOverflow: return Oracle.encode(value, as: f, saturating: true)
        case .droppedSticky:
            guard value.signum != 0 else { return 0 }
            // Keep the bits down to the round bit (half the output quantum), drop the rest.
            let q = max(value.magnitude.binaryExponent, f.minExponent) - f.fractionBits - 1
            let kept = Rational(value.magnitude.timesPowerOfTwo(-q).floorAndFraction.floor).timesPowerOfTwo(q)
            return Oracle.encode(value.signum < 0 ? -kept : kept, as: f)
        default:
            let b = Oracle.encode(value, as: f)
            let magnitude = b & ~f.signMask
            if mutant == .flushToZero && magnitude != 0 && magnitude & f.exponentMask == 0 { return b & f.signMask }
            if mutant == .zeroWithoutSign && magnitude == 0 { return 0 }
            return b
        }
    }
}
