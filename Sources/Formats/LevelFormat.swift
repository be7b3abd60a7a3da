/// A format whose codes stand for a fixed table of levels: every integer format and every
/// code book (dINT4 included) is one of these.
///
/// Levels are stored as integers in **half-steps** (the level's value in quantization steps,
/// times two), so that dINT4's denormal level ½ is exact and every level is an integer.
/// A code is the raw bit pattern (`bitWidth` bits, right-aligned in a `UInt8`).
public struct LevelFormat: Sendable, Hashable, CustomStringConvertible {
    /// How the code bits are laid out; informs descriptions only, the table is the truth.
    public enum Layout: String, Sendable, Hashable {
        case signMagnitude = "sign-magnitude"
        case twosComplement = "two's complement"
        case unsigned
        case codeBook = "code book"
        /// A minifloat's codes (sign | exponent | fraction), levels = the float values.
        case minifloat
    }

    public let name: String
    public let bitWidth: Int
    public let layout: Layout
    /// Level of each code in half-steps; index = code.
    public let halfSteps: [Int]
    /// Codes the encoder never produces (they still decode, to `halfSteps[code]`).
    public let reserved: [Bool]

    /// Encodable levels, ascending, each distinct value once.
    public let sortedLevels: [Int]
    /// The code emitted for `sortedLevels[i]`: the smallest non-reserved code with that level.
    public let sortedCodes: [UInt8]

    /// Largest representable half-step magnitude accepted in a level table; keeps every
    /// decision of the fast quantizer exact in binary64 (see docs/quantization.md).
    public static let maxHalfStepMagnitude = 512

    public init(name: String, bitWidth: Int, layout: Layout, halfSteps: [Int], reservedCodes: Set<Int> = []) throws {
        guard (1...8).contains(bitWidth) else {
            throw FormatError.invalid("\(name): bit width \(bitWidth) is outside 1...8")
        }
        guard halfSteps.count == 1 << bitWidth else {
            throw FormatError.invalid("\(name): \(halfSteps.count) levels given, a \(bitWidth)-bit format needs \(1 << bitWidth)")
        }
        if let bad = halfSteps.first(where: { abs($0) > Self.maxHalfStepMagnitude }) {
            throw FormatError.invalid("\(name): level \(bad) half-steps is beyond ±\(Self.maxHalfStepMagnitude)")
        }
        if let bad = reservedCodes.first(where: { !(0..<(1 << bitWidth)).contains($0) }) {
            throw FormatError.invalid("\(name): reserved code \(bad) is not a \(bitWidth)-bit code")
        }
        var byLevel: [Int: UInt8] = [:]
        for (code, level) in halfSteps.enumerated() where !reservedCodes.contains(code) {
            if byLevel[level] == nil { byLevel[level] = UInt8(code) }
        }
        guard byLevel[0] != nil else {
            throw FormatError.invalid("\(name): no non-reserved code has the level 0")
        }
        guard byLevel.count >= 2 else {
            throw FormatError.invalid("\(name): needs at least two distinct encodable levels")
        }
        self.name = name
        self.bitWidth = bitWidth
        self.layout = layout
        self.halfSteps = halfSteps
        self.reserved = (0..<(1 << bitWidth)).map { reservedCodes.contains($0) }
        self.sortedLevels = byLevel.keys.sorted()
        self.sortedCodes = sortedLevels.map { byLevel[$0]! }
    }

    public var codeCount: Int { 1 << bitWidth }
    public var description: String { name }

    /// Largest level, in half-steps (the "top level" of max-scaling).
    public var maxHalfSteps: Int { sortedLevels[sortedLevels.count - 1] }
    /// Smallest level, in half-steps.
    public var minHalfSteps: Int { sortedLevels[0] }
    /// The code emitted for zero.
    public var zeroCode: UInt8 { sortedCodes[sortedLevels.firstIndex(of: 0)!] }
    /// A second, non-reserved code of level 0 whose sign bit is set (sign-magnitude and minifloat
    /// layouts: the top bit), the negative zero: E2M1's 1000. nil for dINT4 (its 1000 is
    /// reserved), two's-complement and code-book formats.
    public var negativeZeroCode: UInt8? {
        guard layout == .signMagnitude || layout == .minifloat else { return nil }
        let c = Int(zeroCode) | 1 << (bitWidth - 1)
        return c != Int(zeroCode) && !reserved[c] && halfSteps[c] == 0 ? UInt8(c) : nil
    }
    /// True when the encodable levels are symmetric about zero.
    public var isSymmetric: Bool { sortedLevels.allSatisfy { sortedLevels.contains(-$0) } }

    /// Level of `code` in half-steps. Bits above `bitWidth` are ignored.
    @inlinable
    public func decodeHalfSteps(_ code: UInt8) -> Int { halfSteps[Int(code) & (codeCount - 1)] }

    /// The level value in steps, as a Double (exact: half-integers).
    @inlinable
    public func decodeSteps(_ code: UInt8) -> Double { Double(decodeHalfSteps(code)) / 2 }

    /// The code for an encodable level, or nil.
    public func code(forHalfSteps level: Int) -> UInt8? {
        var lo = 0, hi = sortedLevels.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if sortedLevels[mid] == level { return sortedCodes[mid] }
            if sortedLevels[mid] < level { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// Which of two adjacent levels `lo < hi` (half-steps) wins a tie under `toNearestOrEven`:
    /// the one whose half-step integer has more trailing zero bits (zero has the most); if both
    /// have as many, the one of smaller magnitude; if that too is equal, the lower one.
    /// For integer levels this is "the even integer"; for dINT4 and E2M1 it gives
    /// ¼→0, ¾→1, 1½→2, 2½→2, 5→4, 5½→6.
    @inlinable
    public static func evenTieWinner(_ lo: Int, _ hi: Int) -> Int {
        func rank(_ v: Int) -> Int { v == 0 ? Int.max : v.trailingZeroBitCount }
        let rl = rank(lo), rh = rank(hi)
        if rl != rh { return rl > rh ? lo : hi }
        if abs(lo) != abs(hi) { return abs(lo) < abs(hi) ? lo : hi }
        return lo
    }

    /// Which of two adjacent levels wins a tie under `rule` (nearest rules only).
    @inlinable
    public static func tieWinner(_ lo: Int, _ hi: Int, rule: RoundingRule) -> Int {
        switch rule {
        case .toNearestOrAway:
            // Zero is always a level, so two adjacent levels never straddle it: the larger
            // magnitude is the one away from zero.
            return abs(hi) >= abs(lo) ? hi : lo
        default:
            return evenTieWinner(lo, hi)
        }
    }

    /// Human-readable value of a level in steps: "0", "-½", "3", "-2½".
    public static func stepsText(_ halfSteps: Int) -> String {
        let sign = halfSteps < 0 ? "-" : ""
        let m = abs(halfSteps)
        let whole = m / 2
        if m % 2 == 0 { return sign + String(whole) }
        return sign + (whole == 0 ? "½" : "\(whole)½")
    }
}

public enum FormatError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case unknownName(String, known: [String])

    public var description: String {
        switch self {
        case .invalid(let why): return why
        case .unknownName(let name, let known):
            return "unknown format '\(name)' (known: \(known.joined(separator: ", ")))"
        }
    }
}
