/// A counter-based pseudo-random generator: `value(seed, counter)` is a pure function, so the
/// draw for element `i` does not depend on how many draws came before it, on thread order or on
/// sharding. Same seed, same bits, on every machine.
///
/// The mixing function is the SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014) applied to `seed + (counter + 1) · γ` with
/// γ = 0x9E3779B97F4A7C15, all arithmetic modulo 2⁶⁴:
///
///     z = seed &+ (counter &+ 1) &* 0x9E3779B97F4A7C15
///     z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
///     z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
///     return z ^ (z >> 31)
public struct CounterRandom: Sendable, Hashable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    @inlinable
    public static func mix(_ seed: UInt64, _ counter: UInt64) -> UInt64 {
        var z = seed &+ (counter &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits for `counter`.
    @inlinable
    public func bits(_ counter: UInt64) -> UInt64 { Self.mix(seed, counter) }

    /// The 16 random bits used by stochastic rounding: the top 16 bits of `bits(counter)`.
    @inlinable
    public func stochasticDraw(_ counter: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: bits(counter) >> 48) }

    /// The draw of a B-bit stochastic rounder (1 ≤ B ≤ 16): the top B bits of the 16-bit draw, in
    /// place (the low 16 − B bits zero). B = 16 is `stochasticDraw`.
    @inlinable
    public func stochasticDraw(_ counter: UInt64, bits b: Int) -> UInt32 {
        let drop = UInt32(16 - b)
        return (stochasticDraw(counter) >> drop) << drop
    }

    /// The stochastic rounder's widths: 16 bits (the default) down to 1.
    public static let drawBitRange = 1...16

    /// A uniform double in [0, 1) with 53 random bits (the top 53 bits of `bits(counter)`).
    @inlinable
    public func unitInterval(_ counter: UInt64) -> Double {
        Double(bits(counter) >> 11) * 0x1p-53
    }
}

/// A sequential stream over `CounterRandom`: draw n uses counter `start + n`.
public struct CounterStream: RandomNumberGenerator, Sendable {
    public let source: CounterRandom
    public private(set) var counter: UInt64

    public init(seed: UInt64, start: UInt64 = 0) {
        source = CounterRandom(seed: seed)
        counter = start
    }

    public mutating func next() -> UInt64 {
        defer { counter &+= 1 }
        return source.bits(counter)
    }

    public mutating func nextUnit() -> Double {
        defer { counter &+= 1 }
        return source.unitInterval(counter)
    }
}
