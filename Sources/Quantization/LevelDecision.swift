import Formats

/// One element's level decision with its flags (docs/c-api.md, the quantizer vectors' flags of
/// docs/vectors.md): bit 0 `inexact` (x / s is not the chosen level), 1 `tie` (x / s lies exactly
/// halfway between two neighbouring levels), 2 `underflow-to-zero` (x ≠ 0 became level 0),
/// 3 `saturated` (x / s beyond the outermost level), 4 `clipped` (beyond it by half the outer gap
/// or more), 5 `smallest-level` (the chosen level is the smallest non-zero magnitude).
///
/// Every comparison is exact in binary64: levels are at most 11-bit half-step integers and a
/// binary32 scale has 24 significant bits, so `level · s`, `(l₁ + l₂) · s` and `2x`, `4x` are all
/// exact (the same argument as `LevelSelector`'s). Tested equal to the GMP oracle's flags on the
/// quantizer vector sets.
public struct LevelDecision: Sendable {
    public let code: UInt8
    public let halfSteps: Int
    public let flags: UInt32

    public static let flagNames = ["inexact", "tie", "underflow-to-zero", "saturated", "clipped", "smallest-level"]

    /// x and s finite binary32 values, s > 0; `draw` the 16-bit stochastic draw (ignored by the
    /// deterministic rules).
    public init(format: LevelFormat, rule: RoundingRule, x: Float, scale: Float, draw: UInt32 = 0, signedZero: SignedZero = .keep) {
        self.init(selector: LevelSelector(format: format, rule: rule, signedZero: signedZero), x: x, scale: scale, draw: draw)
    }

    public init(selector: LevelSelector, x: Float, scale: Float, draw: UInt32 = 0) {
        let xd = Double(x), s = Double(scale)
        let (index, saturated) = selector.select(xd, scale: s, draw: draw)
        let levels = selector.format.sortedLevels
        code = selector.code(atIndex: index, x: xd)
        halfSteps = levels[index]
        var f: UInt32 = 0
        if Double(halfSteps) * s != 2 * xd { f |= 1 }
        // The tie: strictly between neighbours l[k−1] < 2x/s < l[k], and 4x = (l[k−1] + l[k])·s.
        if !saturated {
            // k: the first level above 2x/s (binary search; levels ascend).
            var lo = 0, hi = levels.count
            while lo < hi { let mid = (lo + hi) / 2; if Double(levels[mid]) * s > 2 * xd { hi = mid } else { lo = mid + 1 } }
            let k = lo
            if k > 0, k < levels.count, Double(levels[k - 1]) * s < 2 * xd, Double(levels[k - 1] + levels[k]) * s == 4 * xd { f |= 2 }
        }
        if x != 0 && halfSteps == 0 { f |= 4 }
        if saturated { f |= 8 }
        if selector.isClipped(xd, scale: s) { f |= 16 }
        if abs(halfSteps) == selector.smallestNonzeroMagnitude { f |= 32 }
        flags = f
    }
}
