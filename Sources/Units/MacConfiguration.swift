import Circuits
import Formats

/// Which multiply-accumulate datapath.
public enum MacKind: Sendable, Hashable, CustomStringConvertible {
    /// INT8 × INT8 (signed Baugh-Wooley or Dadda 8×8 multiply).
    case int8
    /// dINT4 × INT8: code decode, 3×8 magnitude multiply, denormal mux, conditional negate.
    case dint
    /// FP4 (E2M1) × INT8: hidden bit from the exponent, 2-bit significand × 8 multiply, shift by
    /// the exponent (0, 0, 1, 2 places), conditional negate. Products in half-units (2w·a).
    case fp4
    /// Any level format of ≤ 8 bits × INT8: a code → level (half-steps) look-up table, then a
    /// signed multiply. With `.dint4` it computes what `.dint` does, by the generic route.
    case codeBook(LevelFormat)

    /// The one table of unit names, used by the CLI's `--unit`, manifests, every JSON `unit`
    /// key and `dintsim_mac_create`; a row's position is `rtl-reference/mac.v`'s KIND parameter.
    public static let fixedUnits: [(kind: MacKind, name: String)] = [(.int8, "int8-mac"), (.dint, "dint-mac"), (.fp4, "fp4-mac")]
    /// The unit name of every code-book MAC (its code book is serialized beside it).
    public static let codeBookUnitName = "codebook-mac"
    /// Every unit name `init(unitName:)` and the configuration's decoder accept.
    public static var unitNames: [String] { fixedUnits.map(\.name) + [codeBookUnitName] }

    /// The unit's name: "int8-mac", "dint-mac", "fp4-mac" or "codebook-mac".
    public var unitName: String {
        if case .codeBook = self { return Self.codeBookUnitName }
        return Self.fixedUnits.first { $0.kind == self }!.name
    }

    public var description: String {
        if case .codeBook(let f) = self { return "\(unitName)(\(f.name))" }
        return unitName
    }

    /// The units with a fixed weight format, in `fixedUnits` order.
    public static var fixed: [MacKind] { fixedUnits.map(\.kind) }
    /// "int8-mac", "dint-mac" or "fp4-mac" → the unit; nil for anything else.
    public init?(unitName: String) {
        guard let k = Self.fixedUnits.first(where: { $0.name == unitName }) else { return nil }
        self = k.kind
    }

    /// The format float weights are quantized to for this unit (`OperandQuantization`): INT8
    /// units take symmetric INT8 (−127…127, as quantizers produce them), the others their own.
    public var operandWeightFormat: LevelFormat { self == .int8 ? .int8Symmetric : weightFormat }

    /// The weight format of the unit (INT8: the full two's complement range).
    public var weightFormat: LevelFormat {
        switch self {
        case .int8: return .int8
        case .dint: return .dint4
        case .fp4: return .fp4
        case .codeBook(let f): return f
        }
    }
}

extension MacConfiguration {
    /// `rtl-reference/mac.v`'s parameters for this configuration (KIND: the unit's position in
    /// `MacKind.fixed`, 0 INT8, 1 dINT, 2 FP4); nil for code-book units, which mac.v does not have.
    public var verilogParameters: [(String, Int)]? {
        guard let kindNumber = MacKind.fixed.firstIndex(of: kind) else { return nil }
        return [("KIND", kindNumber), ("LANES", lanes), ("DEPTH", pipelineDepth), ("ACC_W", accumulatorWidth),
                ("SATURATE", overflow == .saturate ? 1 : 0)]
    }
}

/// What the accumulator does when a sum leaves its W-bit two's complement range.
public enum OverflowRule: String, CaseIterable, Sendable, Codable {
    /// Keep the low W bits (modulo 2^W).
    case wrap
    /// Clamp to −2^(W−1) … 2^(W−1) − 1 at every accumulation step.
    case saturate
}

public enum MacConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let s) = self { return s }; return "" }
}

/// A MAC unit or N-lane dot-product PE. Every value is valid: the initializer checks lanes,
/// depth and accumulator width, and there is no other way to make or change one (`with`
/// builds a changed copy through the same check). `Codable` is its only serialization: the
/// manifests' `configuration`, simulate's JSON and the report rows all carry these keys
/// (docs/vectors.md, "MAC configuration").
public struct MacConfiguration: Sendable, Hashable {
    public let kind: MacKind
    /// Weight code → weight in product units (int8: the value; level formats: half-steps).
    /// Precomputed so the per-product path does no format look-up.
    @usableFromInline let weightTable: [Int64]
    /// Codes a weight file may hold (reserved codes and out-of-range bits excluded).
    let validCodes: [Bool]
    /// Products summed per cycle by an adder tree into one accumulator (1 = a plain MAC).
    public let lanes: Int
    /// 1: multiply and accumulate in one cycle; 2: a register after the multiply stage;
    /// 3: input registers too. Latency = depth cycles.
    public let pipelineDepth: Int
    public let accumulatorWidth: Int
    public let overflow: OverflowRule
    public let multiplier: MultiplierArchitecture
    /// Architecture of the adder-tree and accumulator adders.
    public let adder: AdderArchitecture

    /// Throws `MacConfigurationError` naming the first value out of range: lanes outside
    /// 1…256, depth outside 1…3, accumulator width outside (adder tree's width)…62.
    public init(kind: MacKind, lanes: Int = 1, pipelineDepth: Int = 1, accumulatorWidth: Int = 32,
                overflow: OverflowRule = .wrap, multiplier: MultiplierArchitecture = .array, adder: AdderArchitecture = .ripple) throws {
        self.kind = kind
        switch kind {
        case .int8:
            weightTable = (0..<256).map { Int64(Int8(truncatingIfNeeded: $0)) }
            validCodes = Array(repeating: true, count: 256)
        case .dint, .fp4, .codeBook:
            let f = kind.weightFormat
            weightTable = (0..<256).map { Int64(f.decodeHalfSteps(UInt8($0))) }
            validCodes = (0..<256).map { $0 < f.codeCount && !f.reserved[$0] }
        }
        self.lanes = lanes
        self.pipelineDepth = pipelineDepth
        self.accumulatorWidth = accumulatorWidth
        self.overflow = overflow
        self.multiplier = multiplier
        self.adder = adder
        guard (1...Self.maximumLanes).contains(lanes) else { throw MacConfigurationError.invalid("lanes \(lanes) is outside 1...\(Self.maximumLanes)") }
        guard (1...3).contains(pipelineDepth) else { throw MacConfigurationError.invalid("pipeline depth \(pipelineDepth) is outside 1...3") }
        guard (treeWidth...Self.maximumAccumulatorWidth).contains(accumulatorWidth) else {
            throw MacConfigurationError.invalid("accumulator width \(accumulatorWidth) is outside \(treeWidth)...\(Self.maximumAccumulatorWidth) for \(kind) with \(lanes) lane(s)")
        }
    }

    /// A copy with the given values changed, checked as the initializer checks.
    public func with(kind: MacKind? = nil, lanes: Int? = nil, pipelineDepth: Int? = nil, accumulatorWidth: Int? = nil,
                     overflow: OverflowRule? = nil, multiplier: MultiplierArchitecture? = nil, adder: AdderArchitecture? = nil) throws -> MacConfiguration {
        try MacConfiguration(kind: kind ?? self.kind, lanes: lanes ?? self.lanes, pipelineDepth: pipelineDepth ?? self.pipelineDepth,
                             accumulatorWidth: accumulatorWidth ?? self.accumulatorWidth, overflow: overflow ?? self.overflow,
                             multiplier: multiplier ?? self.multiplier, adder: adder ?? self.adder)
    }

    public static let maximumAccumulatorWidth = 62
    public static let maximumLanes = 256

    /// Width of a weight code.
    public var weightWidth: Int {
        switch kind {
        case .int8: return 8
        case .dint, .fp4: return 4
        case .codeBook(let f): return f.bitWidth
        }
    }

    /// Two's complement width of the look-up table output (code book only): the level range.
    var levelWidth: Int {
        guard case .codeBook(let f) = kind else { return 0 }
        return signedWidth(max(abs(f.minHalfSteps), abs(f.maxHalfSteps)))
    }

    /// Two's complement width of one lane's product (in product units).
    public var productWidth: Int {
        switch kind {
        case .int8: return 16
        case .dint: return 12        // 2w·a ∈ [−1536, 1536]
        case .fp4: return 12         // 2w·a ∈ [−1536, 1536] (|w| ≤ 6)
        case .codeBook: return levelWidth + 8
        }
    }

    /// log2 of the accumulator's unit in weight steps × activation steps: 0 for INT8 (w·a),
    /// −1 for level formats (half-steps · a).
    public var productUnitLog2: Int { kind == .int8 ? 0 : -1 }

    /// Width of the adder tree's sum.
    public var treeWidth: Int { productWidth + (lanes - 1).bitWidthOfMagnitude }

    /// The functional product of one weight code and one activation, in product units:
    /// w·a for INT8 (code = the int8 bit pattern); level-in-half-steps · a otherwise (= 2w·a).
    @inlinable
    public func product(code: UInt8, activation: Int8) -> Int64 {
        weightTable[Int(code)] * Int64(activation)
    }

    /// Σ of `count` lanes' products (lanes past `count` carry nothing).
    @inlinable
    public func laneSum(codes: UnsafePointer<UInt8>, activations: UnsafePointer<Int8>, count: Int) -> Int64 {
        weightTable.withUnsafeBufferPointer { table in
            // The sum fits the tree's width, at most 62 bits (checked by init): no overflow.
            var sum: Int64 = 0
            for lane in 0..<count { sum &+= table[Int(codes[lane])] &* Int64(activations[lane]) }
            return sum
        }
    }

    /// Whether a weight code is acceptable input (reserved codes and stray high bits are not).
    public func isValidCode(_ code: UInt8) -> Bool { validCodes[Int(code)] }

    /// The accumulator's next value under the overflow rule.
    @inlinable
    public func accumulate(_ acc: Int64, _ addend: Int64) -> Int64 {
        let w = Int64(accumulatorWidth)
        let exact = acc + addend
        switch overflow {
        case .wrap:
            let shift = 64 - w
            return (exact << shift) >> shift
        case .saturate:
            let hi = (Int64(1) << (w - 1)) - 1, lo = -(Int64(1) << (w - 1))
            return min(max(exact, lo), hi)
        }
    }
}

/// Bits of a two's complement number holding −m … m.
func signedWidth(_ magnitude: Int) -> Int { magnitude.bitWidthOfMagnitude + 1 }

extension Int {
    /// Bits needed for the non-negative value (0 → 0).
    var bitWidthOfMagnitude: Int { self <= 0 ? 0 : Int.bitWidth - leadingZeroBitCount }
}
