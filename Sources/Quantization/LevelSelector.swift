import Formats

/// The fast, exact level decision for one value x with scale s (both binary32 values carried in
/// binary64). Every comparison is between exactly representable doubles:
/// 2x and 4x are exact; h·s (|h| ≤ 1024, s with a 24-bit significand) is exact; for stochastic
/// rounding 2^17·x and s·(h_lo·2^16 + r·(h_hi − h_lo)) (a ≤ 28-bit integer times s) are exact.
/// So the decision equals the exact rational one in `Exact.Oracle` (tested, not assumed).
public struct LevelSelector: Sendable {
    public let format: LevelFormat
    public let rule: RoundingRule
    @usableFromInline let levels: [Double]   // sorted level half-steps as doubles
    @usableFromInline let codes: [UInt8]
    @usableFromInline let tieUp: [Bool]       // per gap j (levels j, j+1): does a tie go up?
    /// Clip bounds in quarter-steps: half an outer gap beyond the outermost levels.
    @usableFromInline let clipHigh: Double, clipLow: Double

    public init(format: LevelFormat, rule: RoundingRule) {
        self.format = format
        self.rule = rule
        levels = format.sortedLevels.map(Double.init)
        codes = format.sortedCodes
        let l = format.sortedLevels
        let n = l.count
        clipHigh = Double(2 * l[n - 1] + (l[n - 1] - l[n - 2]))
        clipLow = Double(2 * l[0] - (l[1] - l[0]))
        tieUp = (0..<max(0, l.count - 1)).map { j in
            rule == .toNearestOrAway || rule == .toNearestOrEven
                ? LevelFormat.tieWinner(l[j], l[j + 1], rule: rule) == l[j + 1] : false
        }
    }

    /// Index into the sorted levels, and whether x/s lay outside the level range.
    /// Precondition: x finite, s finite and > 0, both exactly binary32 values.
    @inlinable
    public func select(_ x: Double, scale s: Double, draw: UInt32 = 0) -> (index: Int, saturated: Bool) {
        let twoX = 2 * x
        let last = levels.count - 1
        if twoX > levels[last] * s { return (last, true) }
        if twoX < levels[0] * s { return (0, true) }
        // Largest j with levels[j]·s ≤ 2x.
        var lo = 0, hi = last
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if levels[mid] * s <= twoX { lo = mid } else { hi = mid - 1 }
        }
        let j = lo
        if j == last || levels[j] * s == twoX { return (j, false) }
        let up: Bool
        switch rule {
        case .toNearestOrEven, .toNearestOrAway:
            let fourX = 2 * twoX
            let midTimesFour = (levels[j] + levels[j + 1]) * s
            up = fourX == midTimesFour ? tieUp[j] : fourX > midTimesFour
        case .towardZero: up = x < 0
        case .down: up = false
        case .up: up = true
        case .stochastic:
            let k = levels[j] * 65536 + Double(draw) * (levels[j + 1] - levels[j])
            up = 65536 * twoX > s * k
        }
        return (up ? j + 1 : j, false)
    }

    /// Whether x is *clipped*: beyond the outermost level by at least half the outermost gap,
    /// so that saturation, not rounding, decided its level. (Being merely beyond the outermost
    /// level is `saturated`; with max-scaling the largest element often is, by a rounding hair.)
    @inlinable
    public func isClipped(_ x: Double, scale s: Double) -> Bool {
        let fourX = 4 * x
        return fourX >= clipHigh * s || fourX <= clipLow * s
    }

    @inlinable public func code(atIndex i: Int) -> UInt8 { codes[i] }
    @inlinable public func halfSteps(atIndex i: Int) -> Double { levels[i] }
}
