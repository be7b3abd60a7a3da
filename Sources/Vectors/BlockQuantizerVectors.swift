import Exact
import Formats
import Quantization
import Units
import Workloads

/// The block quantizer's mutants: the documented unit with one rule read another way, each a
/// quantizer the library defines (docs/block-quantizer.md).
public enum BlockQuantizerMutant: String, CaseIterable, Sendable {
    /// The other MX scale rules (each applies to the sets of the other three).
    case scaleFloor = "scale-floor", scaleCeil = "scale-ceil", scaleRceil = "scale-rceil", scaleEven = "scale-even"
    /// Element ties away from zero, or toward zero (truncation of the tie).
    case tiesAway = "ties-away", truncate = "truncate"
    /// −0 and negative values at level 0 coded 0000.
    case zeroSignFlushed = "zero-sign-flushed"

    /// The scale rule this mutant puts in place of the set's, if it is a rule mutant.
    var scaleRule: MXScaleRule? {
        switch self {
        case .scaleFloor: return .floor
        case .scaleCeil: return .ceil
        case .scaleRceil: return .rceil
        case .scaleEven: return .even
        case .tiesAway, .truncate, .zeroSignFlushed: return nil
        }
    }

    /// Whether the mutant differs from the unit of a set under `rule` (a rule is not its own mutant).
    public func applies(to rule: MXScaleRule) -> Bool { scaleRule != rule }

    /// The set's quantizer (scale rule `rule`) with this mutant's one change.
    func quantizer(blockSize: Int, rule: MXScaleRule) throws -> BlockFloatQuantizer {
        let variant = BlockFloatVariant(.mxfp4, mxScale: scaleRule ?? rule, signedZero: self == .zeroSignFlushed ? .flush : .keep)
        let rounding: RoundingRule = self == .tiesAway ? .toNearestOrAway : self == .truncate ? .towardZero : .toNearestOrEven
        return try BlockFloatQuantizer(variant, blockSize: blockSize, rounding: rounding)
    }
}

/// One line per MXFP4 block (docs/block-quantizer.md): B binary32 bit patterns in; the UE8M0
/// scale code (an MX scale rule: floor, ceil, rceil or even) and B E2M1 codes (RNE, saturating,
/// sign kept) out; flags from the exact rational decisions.
public struct BlockQuantizerVectors: VectorUnit {
    public let blockSize: Int
    public let scaleRule: MXScaleRule
    let quantizer: BlockFloatQuantizer

    public static let blockSizes = [4, 8, 16, 32]

    public init(blockSize: Int, scaleRule: MXScaleRule = .floor) throws {
        guard Self.blockSizes.contains(blockSize) else {
            throw VectorError.invalid("block size \(blockSize) is not one of \(Self.blockSizes)")
        }
        guard MXScaleRule.deterministic.contains(scaleRule) else {
            throw VectorError.invalid("the block quantizer's scale rule is one of \(MXScaleRule.deterministic.map(\.rawValue).joined(separator: ", ")), not \(scaleRule.rawValue)")
        }
        self.blockSize = blockSize
        self.scaleRule = scaleRule
        quantizer = try BlockFloatQuantizer(.init(.mxfp4, mxScale: scaleRule), blockSize: blockSize)
    }

    public var unitName: String { "block-quantizer" }
    public var layout: VectorLayout {
        VectorLayout([VectorField("x", width: 32, count: blockSize, role: .input), VectorField("scale", width: 8, role: .output),
                      VectorField("c", width: 4, count: blockSize, role: .output), VectorField("flags", width: 8, role: .flags)])
    }
    public static let flags = ["zero-block", "scale-clamped", "saturated", "tie", "underflow-to-zero", "negative-zero"]
    public var flagNames: [String] { Self.flags }
    public var configurationJSON: String {
        "{\"block_size\": \(blockSize), \"format\": \"mxfp4\", \"scale_rule\": \"\(scaleRule.rawValue)\", \"rounding\": \"toNearestOrEven\", \"signed_zero\": \"keep\"}"
    }
    public var verilogParameters: [(String, Int)] { [("B", blockSize), ("SCALE_RULE", BlockQuantizerDatapath.ruleNumber(scaleRule))] }
    public var notes: [String] { [] }

    /// The element values of the boundary blocks, in units of the block scale X (the block's
    /// largest element sets X = 2^(⌊log2 m⌋ − 2), so m / X ∈ [4, 8)): every E2M1 level and
    /// midpoint with its binary32 neighbours, the saturation region, and values far below.
    static let relativeValues: [Float] = {
        let quarterSteps: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 31]  // 4·v: levels, midpoints, 7 and 7.75
        var v: [Float] = []
        for q in quarterSteps {
            let x = q / 4
            v += [x, x.nextDown, x.nextUp].filter { $0 >= 0 }
        }
        return v + [0x1p-10, 0x1p-30, 7.999999]
    }()
    /// The exponents of X the boundary blocks are placed at: ordinary, the clamp (X below 2^−127),
    /// subnormal maxima, and the top of binary32.
    static let scaleExponents = [0, -5, 17, -100, -125, -127, -128, -129, -140, -149, 125]
    /// The block maxima (element 0), in units of the floor rule's X: the two ends of floor's
    /// [4, 8), then for the other rules the two sides of their threshold (significand 1, 1.5 or 1.75).
    var tops: [Float] {
        switch scaleRule {
        case .floor, .stochastic: return [7.75, 4]
        case .ceil: return [7.75, 4, Float(4).nextUp]
        case .rceil: return [7.75, 4, 6, Float(6).nextUp]
        case .even: return [7.75, 4, Float(7).nextDown, 7]
        }
    }
    var boundaryBlocks: Int { Self.scaleExponents.count * ((Self.relativeValues.count + blockSize - 2) / (blockSize - 1)) * tops.count }
    /// Targeted blocks: all zero, all −0.0, one non-zero element at each position, the largest finite.
    var targetedBlocks: Int { 3 + blockSize }
    public var levelOneCaseCount: Int { boundaryBlocks + targetedBlocks }

    func line(_ x: [Float]) -> [UInt64] { x.map { UInt64($0.bitPattern) } + [UInt64](repeating: 0, count: blockSize + 2) }

    public func makeCase(_ index: Int, seed: UInt64) -> VectorCase {
        if index < boundaryBlocks {
            // Element 0 is the block maximum (`tops`); the others walk the relative values, signs
            // alternating per case.
            let perExponent = boundaryBlocks / Self.scaleExponents.count, tops = self.tops
            let k = Self.scaleExponents[index / perExponent], j = index % perExponent
            let chunk = j / tops.count, top = tops[j % tops.count]
            let x = (0..<blockSize).map { i -> Float in
                let r = i == 0 ? top : Self.relativeValues[min(Self.relativeValues.count - 1, chunk * (blockSize - 1) + i - 1)]
                let v = r * Float(sign: .plus, exponent: k, significand: 1)
                return (i + index) % 3 == 0 ? -v : v
            }
            return VectorCase(index: index, category: "boundary", lines: [line(x)])
        }
        if index < levelOneCaseCount {
            let t = index - boundaryBlocks
            var x = [Float](repeating: 0, count: blockSize)
            switch t {
            case 0: break
            case 1: x = [Float](repeating: -0.0, count: blockSize)
            case 2: x = (0..<blockSize).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude / 7 }
            default: x[t - 3] = -3.3; x[(t - 2) % blockSize] = -0.0
            }
            return VectorCase(index: index, category: "targeted", lines: [line(x)])
        }
        var r = caseRandom(seed: seed, index: index)
        if index % 2 == 0 {
            // Random bit patterns of finite binary32 values, exponents clustered so blocks mix
            // levels, ties and underflow.
            let base = r.below(254)
            let x = (0..<blockSize).map { _ -> Float in
                let e = UInt32(max(0, min(254, base - r.below(12))))
                let bits = UInt32(r.below(2)) << 31 | e << 23 | UInt32(r.below(1 << 23)) & (r.chance(1, in: 3) ? 0x70_0000 : 0x7F_FFFF)
                return Float(bitPattern: bits)
            }
            return VectorCase(index: index, category: "random-bits", lines: [line(x)])
        }
        // LLM-like: a block of outlier-channel activations at a random scale.
        let x = Distribution.outlierChannels.sample(rows: 1, columns: blockSize, seed: r.next())
            .map { $0 * Float(sign: .plus, exponent: r.below(40) - 20, significand: 1) }
        return VectorCase(index: index, category: "llm-like", lines: [line(x)])
    }

    /// The shared exponent of a rational maximum m > 0 under a deterministic rule, from its
    /// definition (docs/quantization.md, "MX scale rules").
    static func exponent(_ m: Rational, _ rule: MXScaleRule) -> Int {
        func ceilLog2(_ t: Rational) -> Int { t == Rational.one.timesPowerOfTwo(t.binaryExponent) ? t.binaryExponent : t.binaryExponent + 1 }
        switch rule {
        case .floor, .stochastic: return m.binaryExponent - 2
        case .ceil: return ceilLog2(m) - 2
        case .rceil: return ceilLog2(m / Rational(6))
        case .even:
            // m rounded to 2 significant bits, ties to even: m / 2^(e − 1) ∈ [2, 4) rounded to an integer.
            let e = m.binaryExponent
            let (n, fraction) = m.timesPowerOfTwo(1 - e).floorAndFraction
            let half = Rational(1, 2)
            let up = half < fraction || (fraction == half && n.isBitSet(0))
            return (Rational(n) + (up ? Rational.one : Rational(0))).timesPowerOfTwo(e - 1).binaryExponent - 2
        }
    }

    func inputs(_ v: [UInt64]) -> [Float] { v[0..<blockSize].map { Float(bitPattern: UInt32($0)) } }

    public func fastOutputs(_ c: VectorCase) -> [[UInt64]] {
        c.lines.map { v in
            let r = try! quantizer.quantize(inputs(v), rows: 1, columns: blockSize)
            return [UInt64(r.blockScales[0])] + r.codes.map(UInt64.init)
        }
    }

    /// The exact reference: k from the rational maximum m by the scale rule's definition (floor
    /// ⌊log2 m⌋ − 2, ceil ⌈log2 m⌉ − 2, rceil ⌈log2 (m / 6)⌉, even ⌊log2 RNE₂(m)⌋ − 2), clamped to
    /// −127 … 127; each element the RNE level of the exact x / 2^k (GMP), E2M1's 1000 for a
    /// negative value or −0.0 at level 0.
    public func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64]) {
        var outputs = [[UInt64]](), flags = [UInt64]()
        for v in c.lines {
            let x = inputs(v)
            let values = x.map { Rational(exactly: Double($0))! }
            let m = values.map(\.magnitude).max()!
            var f: UInt64 = 0
            let code: Int
            if m.signum == 0 { code = 0; f |= 1 } else {
                let k = Self.exponent(m, scaleRule)
                if k < -127 { f |= 2 }
                code = min(max(k, -127), 127) + 127
            }
            let scale = Rational.one.timesPowerOfTwo(code - 127)
            var codes: [UInt64] = [UInt64(code)]
            for (i, value) in values.enumerated() {
                let e = ExactE2M1(value: value, sign: x[i].sign, steps: m.signum == 0 ? Rational(0) : value / scale)
                if e.saturated { f |= 4 }
                if e.tie { f |= 8 }
                if e.underflow { f |= 16 }
                if e.negativeZero { f |= 32 }
                codes.append(e.code)
            }
            outputs.append(codes)
            flags.append(f)
        }
        return (outputs, flags)
    }
}

/// One element's exact E2M1 decision in a block quantizer's reference (GMP): the level of `steps`
/// (the element in units of its scale) rounded to nearest even, saturating at ±6; E2M1's 1000 for
/// a negative value or −0.0 at level 0 (the sign kept); and what the decision met.
struct ExactE2M1 {
    let code: UInt64
    let saturated: Bool
    /// |steps| exactly on a midpoint (4·|steps| is 1, 3, 5, 7, 10, 14 or 20).
    let tie: Bool
    /// A non-zero value at level 0.
    let underflow: Bool
    let negativeZero: Bool

    init(value: Rational, sign: FloatingPointSign, steps: Rational) {
        let d = Oracle.level(of: steps, in: .fp4, rounding: .toNearestOrEven)
        let quarter = steps.magnitude.timesPowerOfTwo(2).floorAndFraction
        saturated = d.saturated
        tie = quarter.fraction.signum == 0 && [1, 3, 5, 7, 10, 14, 20].contains(Int(quarter.floor.description) ?? -1)
        underflow = d.halfSteps == 0 && value.signum != 0
        negativeZero = d.halfSteps == 0 && sign == .minus
        code = negativeZero ? 0b1000 : UInt64(d.code)
    }
}
