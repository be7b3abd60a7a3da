/// How a value that falls between two representable levels is resolved.
///
/// The case names follow swift-numerics' `RoundingRule` (its module is not a public product in
/// the 1.1.1 release available offline, so the enum is restated here).
public enum RoundingRule: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Nearest level; a tie goes to the "even" level (see `LevelFormat` for what even means for
    /// uneven level sets, and `BinaryFloatFormat` for floats: the even significand).
    case toNearestOrEven
    /// Nearest level; a tie goes to the level of larger magnitude.
    case toNearestOrAway
    /// The neighbouring level of smaller magnitude (truncation).
    case towardZero
    /// The largest level not above the value (floor).
    case down
    /// The smallest level not below the value (ceiling).
    case up
    /// Up with probability equal to the value's fractional position between its two neighbours,
    /// drawn from `CounterRandom` (16 random bits per element; see docs/quantization.md).
    case stochastic

    public var description: String { rawValue }

    /// The rules that need no random source.
    public static let deterministic: [RoundingRule] = [.toNearestOrEven, .toNearestOrAway, .towardZero, .down, .up]
}

/// The code a negative value gets when it is quantized to level 0 (docs/quantization.md, "Sign of
/// zero"), in formats that have a negative-zero code (`LevelFormat.negativeZeroCode`: E2M1's
/// 1000; dINT4's 1000 is reserved and INT formats have none, so they are unaffected).
public enum SignedZero: String, CaseIterable, Sendable, Codable {
    /// The negative-zero code for x with its sign bit set (negative, or −0.0), as IEEE 754
    /// conversion, OCP MX hardware, TransformerEngine and torchao do.
    case keep
    /// Always the positive zero code (compressed-tensors before 0.20, which packed codes through
    /// int8; dintsim before December 2026).
    case flush
    /// The negative-zero code for x < 0 only: an input of −0.0 has the value zero and gets the
    /// positive zero code (compressed-tensors 0.20: sign(x) · level, packed by the sign bit).
    case signOfValue = "sign-of-value"

    /// Whether x, quantized to level 0, gets the negative-zero code (where the format has one).
    @inlinable public func marksNegative(_ x: Double) -> Bool {
        switch self {
        case .keep: return x.sign == .minus
        case .flush: return false
        case .signOfValue: return x < 0
        }
    }
}
