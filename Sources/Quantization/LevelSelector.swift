import CKernels
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
    /// Nearest rules only: the decision by quotient (see `selectNearest`).
    @usableFromInline let nearest: NearestTable?
    /// The smallest non-zero |level| in half-steps (the `smallest-level` flag).
    public let smallestNonzeroMagnitude: Int
    public let signedZero: SignedZero
    /// Level 0's index, and the code a value the `signedZero` rule marks negative gets there (the
    /// positive zero code under `flush` or when the format has no negative zero).
    @usableFromInline let zeroIndex: Int, signedZeroCode: UInt8

    public init(format: LevelFormat, rule: RoundingRule, signedZero: SignedZero = .keep) {
        self.format = format
        self.rule = rule
        self.signedZero = signedZero
        zeroIndex = format.sortedLevels.firstIndex(of: 0)!
        signedZeroCode = signedZero == .flush ? format.zeroCode : format.negativeZeroCode ?? format.zeroCode
        levels = format.sortedLevels.map(Double.init)
        codes = format.sortedCodes
        let l = format.sortedLevels
        let n = l.count
        clipHigh = Double(2 * l[n - 1] + (l[n - 1] - l[n - 2]))
        clipLow = Double(2 * l[0] - (l[1] - l[0]))
        smallestNonzeroMagnitude = l.filter { $0 != 0 }.map(abs).min() ?? 0
        tieUp = (0..<max(0, l.count - 1)).map { j in
            rule == .toNearestOrAway || rule == .toNearestOrEven
                ? LevelFormat.tieWinner(l[j], l[j + 1], rule: rule) == l[j + 1] : false
        }
        nearest = (rule == .toNearestOrEven || rule == .toNearestOrAway) && n > 1 ? NearestTable(levels: l, tieUp: tieUp) : nil
        let entries = nearest.map { t in (0..<t.between.count).flatMap { [Int(t.between[$0]), Int(t.atInteger[$0])] } } ?? []
        let (levels, codes) = (levels, codes)
        kernelEntries = entries.map { levels[$0].bitPattern | UInt64(codes[$0]) }
        kernelBetween = nearest?.between.map { UInt8(truncatingIfNeeded: $0) } ?? []
        kernelAtInteger = nearest?.atInteger.map { UInt8(truncatingIfNeeded: $0) } ?? []
        kernelLevelCodes = codes.map(UInt32.init)
    }

    /// The nearest-rule decision as a table lookup on the quotient q = 4x / s, which is 2w in
    /// quarter-steps; gap j's midpoint is the integer M_j = L_j + L_{j+1} there (never 0, since 0
    /// is a level). q is one correctly rounded binary64 division of two binary32-derived values,
    /// and that rounding cannot move q onto or across an integer M with |M| ≥ 1: were q not
    /// already that integer, |q − M| ≥ 2^−27·|M| (a 24-bit numerator and denominator), far
    /// above binary64's 2^−53. So floor(q) and "q is that integer" are exact, and
    ///   index = #{j: M_j < q}  + (q = M_j and ties go up in gap j).
    /// Both terms are tabulated per integer k = floor(q), clamped to [M_min − 1, M_max + 1].
    /// The tests compare this path with `select` and with the GMP oracle.
    @usableFromInline struct NearestTable: Sendable {
        @usableFromInline let low: Int, lowD: Double, highD: Double
        /// #{M_j ≤ k} (q not an integer) and #{M_j < k} + tie-up (q = k), at k − low.
        @usableFromInline let between: [UInt16], atInteger: [UInt16]

        init(levels l: [Int], tieUp: [Bool]) {
            let m = (0..<(l.count - 1)).map { l[$0] + l[$0 + 1] }
            low = m.first! - 1
            let high = m.last! + 1
            lowD = Double(low); highD = Double(high)
            // One sweep over k (the midpoints are strictly increasing): j = #{M_j < k}.
            var between = [UInt16](), atInteger = [UInt16]()
            var j = 0
            for k in low...high {
                while j < m.count && m[j] < k { j += 1 }
                let isMidpoint = j < m.count && m[j] == k
                between.append(UInt16(j + (isMidpoint ? 1 : 0)))
                atInteger.append(UInt16(j + (isMidpoint && tieUp[j] ? 1 : 0)))
            }
            self.between = between
            self.atInteger = atInteger
        }
    }

    /// Index into the sorted levels for a nearest rule; same result as `select` (precondition as
    /// there, and the rule must be toNearestOrEven or toNearestOrAway).
    public func selectNearest(_ x: Double, scale s: Double) -> Int {
        withNearestTables { $0.index(x, scale: s) }
    }

    /// The nearest-rule tables as raw pointers, for loops over many elements.
    public struct NearestTables {
        let low: Int, lowD: Double, highD: Double
        let between: UnsafePointer<UInt16>, atInteger: UnsafePointer<UInt16>
        public let codes: UnsafePointer<UInt8>, halfSteps: UnsafePointer<Double>

        @inline(__always)
        public func index(_ x: Double, scale s: Double) -> Int {
            let q = 4 * x / s
            let k = min(max(q.rounded(.down), lowD), highD)
            let i = Int(k) - low
            return Int(q == k ? atInteger[i] : between[i])
        }
    }

    /// The nearest-rule table flattened for the C kernel (include/kernels.h,
    /// `dintsim_nearest_table`): entry 2·(k − low) + (q is k) holds the level's half-steps as
    /// binary64 bits with its code in the low byte (those bits of an 11-bit integer are 0).
    @usableFromInline let kernelEntries: [UInt64]
    /// The level indices by k (`dintsim_nearest_table.index_between`, `index_at_integer`) and the
    /// codes by level index.
    @usableFromInline let kernelBetween: [UInt8], kernelAtInteger: [UInt8], kernelLevelCodes: [UInt32]

    /// The flattened table as the C kernel takes it (nearest rules only).
    func withKernelTable<R>(_ body: (UnsafePointer<dintsim_nearest_table>) throws -> R) rethrows -> R {
        let t = nearest!
        return try kernelEntries.withUnsafeBufferPointer { e in
            try levels.withUnsafeBufferPointer { l in
                try kernelLevelCodes.withUnsafeBufferPointer { lc in
                    try kernelBetween.withUnsafeBufferPointer { b in
                        try kernelAtInteger.withUnsafeBufferPointer { a in
                            var table = dintsim_nearest_table(entries: e.baseAddress, low: t.lowD, high: t.highD,
                                                              index_between: b.baseAddress, index_at_integer: a.baseAddress,
                                                              level_count: Int32(l.count), levels: l.baseAddress, level_codes: lc.baseAddress,
                                                              signed_zero_code: UInt32(signedZeroCode))
                            return try body(&table)
                        }
                    }
                }
            }
        }
    }

    public func withNearestTables<R>(_ body: (NearestTables) throws -> R) rethrows -> R {
        let t = nearest!
        return try t.between.withUnsafeBufferPointer { b in
            try t.atInteger.withUnsafeBufferPointer { a in
                try codes.withUnsafeBufferPointer { c in
                    try levels.withUnsafeBufferPointer { l in
                        try body(NearestTables(low: t.low, lowD: t.lowD, highD: t.highD, between: b.baseAddress!, atInteger: a.baseAddress!,
                                               codes: c.baseAddress!, halfSteps: l.baseAddress!))
                    }
                }
            }
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

    /// The level's code (level 0: the positive zero).
    @inlinable public func code(atIndex i: Int) -> UInt8 { codes[i] }
    /// The code x gets at level index i: the level's code, or at level 0 for x with its sign bit
    /// the `signedZero` rule marks negative (`SignedZero.marksNegative`) the negative-zero code.
    @inlinable public func code(atIndex i: Int, x: Double) -> UInt8 { i == zeroIndex && signedZero.marksNegative(x) ? signedZeroCode : codes[i] }
    @inlinable public func halfSteps(atIndex i: Int) -> Double { levels[i] }
}
