import Formats

/// The per-line flags of the MAC vector sets (docs/vectors.md, "Flags"), bit 0 first. Bits 2–5
/// describe the transaction presented on a line; bits 0–1 what happened when it reached the
/// accumulator (D − 1 lines later), reported on the presenting line.
public struct MacFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The exact sum left the W-bit range and was kept modulo 2^W.
    public static let wrapped = MacFlags(rawValue: 1 << 0)
    /// The exact sum left the range and was clamped.
    public static let saturated = MacFlags(rawValue: 1 << 1)
    /// A lane's weight is a ±½ level (one half-step): dINT4's denormal codes, E2M1's subnormals.
    public static let denormalWeight = MacFlags(rawValue: 1 << 2)
    /// A lane's weight code is reserved (dINT4 1000; it multiplies as 0).
    public static let reservedWeight = MacFlags(rawValue: 1 << 3)
    /// A lane's product is the unit's largest or most negative one.
    public static let extremeProduct = MacFlags(rawValue: 1 << 4)
    /// `clear` without `valid` (ignored: clear travels with a transaction).
    public static let clearWithoutValid = MacFlags(rawValue: 1 << 5)

    /// Names in bit order, as manifests list them.
    public static let names = ["wrapped", "saturated", "denormal-weight", "reserved-weight", "extreme-product", "clear-without-valid"]
}

extension MacConfiguration {
    /// The unit's largest and most negative lane products over its non-reserved codes and every
    /// activation (product units).
    public var extremeProducts: (min: Int64, max: Int64) {
        let reserved = kind == .int8 ? [] : kind.weightFormat.reserved
        var lo: Int64 = 0, hi: Int64 = 0
        for code in 0..<(1 << weightWidth) where !(reserved.indices.contains(code) && reserved[code]) {
            let w = weightTable[code]
            lo = min(lo, w * 127, w * -128); hi = max(hi, w * 127, w * -128)
        }
        return (lo, hi)
    }

    /// Flags of the transaction presented with these inputs (bits 2–5; `extremes` from
    /// `extremeProducts`, computed once by the caller).
    public func inputFlags(codes: UnsafePointer<UInt8>, activations: UnsafePointer<Int8>, valid: Bool, clear: Bool,
                           extremes: (min: Int64, max: Int64)) -> MacFlags {
        var f: MacFlags = clear && !valid ? .clearWithoutValid : []
        let format: LevelFormat? = kind == .int8 ? nil : kind.weightFormat
        for lane in 0..<lanes {
            let code = Int(codes[lane])
            if let format, code < format.codeCount {
                if abs(format.halfSteps[code]) == 1 { f.insert(.denormalWeight) }
                if format.reserved[code] { f.insert(.reservedWeight) }
            }
            let p = product(code: codes[lane], activation: activations[lane])
            if p == extremes.max || p == extremes.min { f.insert(.extremeProduct) }
        }
        return f
    }
}
