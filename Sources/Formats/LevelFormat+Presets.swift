extension LevelFormat {
    /// dINT4 (our decision, see docs/formats.md): sign-magnitude `s m2 m1 m0`; magnitude index
    /// m = 1…6 is ±m steps, m = 7 is the denormal ±½ step, m = 0 is zero. Code 1000 ("−0") is
    /// reserved: never produced, decodes to zero.
    public static let dint4: LevelFormat = {
        let magnitudeHalfSteps = [0, 2, 4, 6, 8, 10, 12, 1]
        let table = (0..<16).map { code in (code & 8 != 0 ? -1 : 1) * magnitudeHalfSteps[code & 7] }
        return try! LevelFormat(name: "dint4", bitWidth: 4, layout: .signMagnitude, halfSteps: table, reservedCodes: [8])
    }()

    /// INT4 two's complement, levels −8…7.
    public static let int4 = twosComplement(name: "int4", bits: 4, reserveMostNegative: false)
    /// Symmetric INT4, levels −7…7; code 1000 (−8) reserved.
    public static let int4Symmetric = twosComplement(name: "int4-sym", bits: 4, reserveMostNegative: true)
    /// Unsigned 4-bit codes 0…15 (asymmetric quantization payloads).
    public static let uint4 = unsigned(name: "uint4", bits: 4)
    /// Unsigned 3-bit codes 0…7 (asymmetric quantization payloads).
    public static let uint3 = unsigned(name: "uint3", bits: 3)
    /// INT8 symmetric −127…127; code 0x80 (−128) reserved.
    public static let int8Symmetric = twosComplement(name: "int8-sym", bits: 8, reserveMostNegative: true)
    /// INT8 full range −128…127.
    public static let int8 = twosComplement(name: "int8", bits: 8, reserveMostNegative: false)

    /// FP4: the E2M1 minifloat's codes as a level format, one step = 1.0 (levels 0, ±½, ±1, ±1½,
    /// ±2, ±3, ±4, ±6). Code 1000 (−0) decodes to 0 and, as a duplicate of 0000, is never produced.
    public static let fp4 = try! LevelFormat(minifloat: .e2m1, name: "fp4")

    /// Every built-in level format, in the order `dintsim formats` lists them.
    public static let presets: [LevelFormat] = [.dint4, .fp4, .int4, .int4Symmetric, .uint4, .uint3, .int8Symmetric, .int8]

    /// The level format of a signed minifloat of ≤ 8 bits without NaN or ∞ whose values are all
    /// multiples of ½ (E2M1): level of code c = 2 · decode(c) half-steps, derived from the one
    /// float codec so the two cannot disagree.
    public init(minifloat f: BinaryFloatFormat, name: String) throws {
        guard f.bitWidth <= 8, f.isSigned, f.specials == .none else {
            throw FormatError.invalid("\(f.name) is not a finite signed minifloat of ≤ 8 bits")
        }
        let halfSteps = try (0..<f.codeCount).map { code -> Int in
            let v = 2 * f.decode(UInt32(code))
            guard v == v.rounded() else { throw FormatError.invalid("\(f.name): code \(code) is not a multiple of ½") }
            return Int(v)
        }
        try self.init(name: name, bitWidth: f.bitWidth, layout: .minifloat, halfSteps: halfSteps)
    }

    public static func preset(named name: String) throws -> LevelFormat {
        guard let f = presets.first(where: { $0.name == name }) else {
            throw FormatError.unknownName(name, known: presets.map(\.name))
        }
        return f
    }

    /// A user code book: exactly 2^bits levels given in half-steps, index = code.
    public static func codeBook(name: String, halfSteps: [Int], reservedCodes: Set<Int> = []) throws -> LevelFormat {
        let bits = halfSteps.count.trailingZeroBitCount
        guard halfSteps.count >= 2, halfSteps.count == 1 << bits else {
            throw FormatError.invalid("code book '\(name)': \(halfSteps.count) levels given; need a power of two (16 for a 4-bit code book)")
        }
        return try LevelFormat(name: name, bitWidth: bits, layout: .codeBook, halfSteps: halfSteps, reservedCodes: reservedCodes)
    }

    private static func twosComplement(name: String, bits: Int, reserveMostNegative: Bool) -> LevelFormat {
        let n = 1 << bits
        let table = (0..<n).map { code in 2 * (code >= n / 2 ? code - n : code) }
        return try! LevelFormat(name: name, bitWidth: bits, layout: .twosComplement, halfSteps: table,
                                reservedCodes: reserveMostNegative ? [n / 2] : [])
    }

    private static func unsigned(name: String, bits: Int) -> LevelFormat {
        try! LevelFormat(name: name, bitWidth: bits, layout: .unsigned, halfSteps: (0..<(1 << bits)).map { 2 * $0 })
    }
}
