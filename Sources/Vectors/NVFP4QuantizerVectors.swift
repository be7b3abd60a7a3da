import Exact
import Formats
import Quantization
import Units
import Workloads

/// The NVFP4 quantizer's mutants: the unit with one rule read as another convention the library
/// defines (docs/quantization.md, "NVFP4 conventions"), or its elements rounded another way.
public enum NVFP4QuantizerMutant: String, CaseIterable, Sendable {
    /// The block scale as fl32(fl32(m / 6) / S) (torchao, compressed-tensors).
    case amaxFirst = "amax-first"
    /// The scale floors of torchao (E4M3's smallest normal) and compressed-tensors (0 → 0.125).
    case minNormal = "min-normal", eighth
    /// The binary32 element divisions of TransformerEngine, compressed-tensors and torchao 0.18.
    case reciprocal, quotient, globalOverBlock = "global-over-block"
    /// Element ties away from zero, or toward zero.
    case tiesAway = "ties-away", truncate
    /// The sign of zero: always 0000, or 1000 only for a negative binary32 quotient.
    case zeroSignFlushed = "zero-sign-flushed", zeroSignOfValue = "zero-sign-of-value"

    /// The set's quantizer with this mutant's one change.
    func quantizer(blockSize: Int) throws -> BlockFloatQuantizer {
        var v = BlockFloatVariant(.nvfp4)
        switch self {
        case .amaxFirst: v.nvfp4BlockScale = .amaxFirst
        case .minNormal: v.nvfp4ScaleFloor = .minNormal
        case .eighth: v.nvfp4ScaleFloor = .eighth
        case .reciprocal: v.nvfp4ElementDivision = .reciprocal
        case .quotient: v.nvfp4ElementDivision = .quotient
        case .globalOverBlock: v.nvfp4ElementDivision = .globalOverBlock
        case .zeroSignFlushed: v.signedZero = .flush
        case .zeroSignOfValue: v.signedZero = .signOfValue
        case .tiesAway, .truncate: break
        }
        let rounding: RoundingRule = self == .tiesAway ? .toNearestOrAway : self == .truncate ? .towardZero : .toNearestOrEven
        return try BlockFloatQuantizer(v, blockSize: blockSize, rounding: rounding)
    }
}

/// One line per NVFP4 block (docs/block-quantizer.md, "NVFP4 quantizer"): B binary32 elements and
/// the tensor's decode scale S in; the E4M3 block-scale code and B E2M1 codes out (the default
/// convention: exact quotient rounded to nearest even and saturating, exact elements, RNE,
/// saturating, sign kept); flags from the exact rational decisions.
public struct NVFP4QuantizerVectors: VectorUnit {
    public let blockSize: Int
    let quantizer: BlockFloatQuantizer

    public static let blockSizes = [4, 8, 16]

    public init(blockSize: Int) throws {
        guard Self.blockSizes.contains(blockSize) else {
            throw VectorError.invalid("block size \(blockSize) is not one of \(Self.blockSizes)")
        }
        self.blockSize = blockSize
        quantizer = try BlockFloatQuantizer(.init(.nvfp4), blockSize: blockSize)
    }

    public var unitName: String { "nvfp4-quantizer" }
    public var layout: VectorLayout {
        VectorLayout([VectorField("x", width: 32, count: blockSize, role: .input), VectorField("s", width: 32, role: .input),
                      VectorField("scale", width: 8, role: .output), VectorField("c", width: 4, count: blockSize, role: .output),
                      VectorField("flags", width: 16, role: .flags)])
    }
    public static let flags = ["zero-block", "scale-underflow", "scale-subnormal", "scale-saturated", "scale-tie",
                               "saturated", "tie", "underflow-to-zero", "negative-zero"]
    public var flagNames: [String] { Self.flags }
    /// The convention every set records beside `block_size` (manifest `configuration`), in order.
    public static let convention: [(key: String, value: String)] = [
        ("format", "nvfp4"), ("tensor_scale", "decode"), ("block_scale", "exact-quotient"), ("scale_floor", "allow-zero"),
        ("element_division", "exact"), ("rounding", "toNearestOrEven"), ("signed_zero", "keep")]
    public var configurationJSON: String {
        "{\"block_size\": \(blockSize), " + Self.convention.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ") + "}"
    }
    public var verilogParameters: [(String, Int)] { [("B", blockSize)] }
    public var notes: [String] { [] }

    /// Tensor scales of the boundary blocks: 1, powers of two and 1.5 of one (element ties are
    /// representable), a full significand, subnormal ones down to the smallest, a large one.
    static let scales: [Float] = [1, 0x1p-100, 0x1.8p20, Float(1.2345678), 0x1.4p-140, Float.leastNonzeroMagnitude, 0x1.fffffep100]
    /// Block-scale quotients q = m / (6·S) the block maxima are put on: E4M3's smallest half (a tie
    /// to 0) and above it, subnormal and normal midpoints whose ties go down and up, 448 and the
    /// saturation tie 464, 480, far above; each also one binary32 ulp of m below or above.
    static let quotients: [Double] = [0x1p-10, 3 * 0x1p-10, 15 * 0x1p-10, 0x1.1p-6, 0x1.3p-6, 1.0625, 1.1875, 1.9375, 37.0, 448, 464, 480, 0x1p20]
    /// The other elements, in units of b·S: every E2M1 level and midpoint with its neighbours, the
    /// saturation region, values far below.
    static let relativeValues: [Double] = {
        var v: [Double] = []
        for q in [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 31] as [Double] { v += [q / 4, q / 4 * (1 - 0x1p-20), q / 4 * (1 + 0x1p-20)] }
        return [0] + v + [0x1p-10, 0x1p-30]
    }()
    var chunks: Int { (Self.relativeValues.count + blockSize - 2) / (blockSize - 1) }
    var boundaryBlocks: Int { Self.scales.count * Self.quotients.count * 3 * chunks }
    /// Targeted blocks: all zero, all −0.0, the largest finite under the smallest S (saturating
    /// scale) and under the largest S (scale underflow), one non-zero element at each position.
    var targetedBlocks: Int { 4 + blockSize }
    public var levelOneCaseCount: Int { boundaryBlocks + targetedBlocks }

    func line(_ x: [Float], _ s: Float) -> [UInt64] { x.map { UInt64($0.bitPattern) } + [UInt64(s.bitPattern)] + [UInt64](repeating: 0, count: blockSize + 2) }

    public func makeCase(_ index: Int, seed: UInt64) -> VectorCase {
        if index < boundaryBlocks {
            // Element 0 is the block maximum on a quotient boundary (exact, or ± 1 ulp); the others
            // walk the relative values of the block scale b it rounds to, signs alternating.
            var j = index
            let chunk = j % chunks; j /= chunks
            let step = j % 3; j /= 3
            let q = Self.quotients[j % Self.quotients.count], s = Self.scales[j / Self.quotients.count]
            var top = Float(6 * Double(s) * q)
            if !top.isFinite { top = Float.greatestFiniteMagnitude }
            top = step == 1 ? top.nextDown : step == 2 ? top.nextUp : top
            top = min(top, Float.greatestFiniteMagnitude)
            let b = BinaryFloatFormat.e4m3.decode(BinaryFloatFormat.e4m3.encode(Double(top) / (6 * Double(s)), saturating: true))
            let x = (0..<blockSize).map { i -> Float in
                let v = i == 0 ? top : min(top, Float(Self.relativeValues[min(Self.relativeValues.count - 1, chunk * (blockSize - 1) + i - 1)] * b * Double(s)))
                return (i + index) % 3 == 0 ? -v : v
            }
            return VectorCase(index: index, category: "boundary", lines: [line(x, s)])
        }
        if index < levelOneCaseCount {
            let t = index - boundaryBlocks
            var x = [Float](repeating: 0, count: blockSize), s: Float = 1
            switch t {
            case 0: break
            case 1: x = [Float](repeating: -0.0, count: blockSize)
            case 2: x = (0..<blockSize).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude / 7 }; s = .leastNonzeroMagnitude
            case 3: x = (0..<blockSize).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.leastNonzeroMagnitude }; s = .greatestFiniteMagnitude
            default: x[t - 4] = -3.3; x[(t - 3) % blockSize] = -0.0; s = 3.3 / 2688
            }
            return VectorCase(index: index, category: "targeted", lines: [line(x, s)])
        }
        var r = caseRandom(seed: seed, index: index)
        if index % 2 == 0 {
            // Random bit patterns with clustered exponents and a random tensor scale from a
            // tensor maximum at or above the block's (so q ≤ 448 mostly), or any S one time in 8.
            let base = r.below(254)
            let x = (0..<blockSize).map { _ -> Float in
                let e = UInt32(max(0, min(254, base - r.below(12))))
                let bits = UInt32(r.below(2)) << 31 | e << 23 | UInt32(r.below(1 << 23)) & (r.chance(1, in: 3) ? 0x70_0000 : 0x7F_FFFF)
                return Float(bitPattern: bits)
            }
            let m = x.map(\.magnitude).max()!
            let s = r.chance(1, in: 8) ? Float(bitPattern: UInt32(1 + r.below(0x7F7F_FFFF)))
                : max(Float.leastNonzeroMagnitude, min(Float.greatestFiniteMagnitude, m * Float(sign: .plus, exponent: r.below(10), significand: 1) / 2688))
            return VectorCase(index: index, category: "random-bits", lines: [line(x, s)])
        }
        // LLM-like: outlier-channel activations at a random binade, S from a tensor maximum 1–64×
        // the block's.
        let x = Distribution.outlierChannels.sample(rows: 1, columns: blockSize, seed: r.next())
            .map { $0 * Float(sign: .plus, exponent: r.below(40) - 20, significand: 1) }
        let m = max(x.map(\.magnitude).max()!, Float.leastNonzeroMagnitude)
        let s = max(Float.leastNonzeroMagnitude, m * Float(1 + r.below(64)) / 2688)
        return VectorCase(index: index, category: "llm-like", lines: [line(x, s)])
    }

    func inputs(_ v: [UInt64]) -> (x: [Float], s: Float) {
        (v[0..<blockSize].map { Float(bitPattern: UInt32($0)) }, Float(bitPattern: UInt32(v[blockSize])))
    }

    public func fastOutputs(_ c: VectorCase) -> [[UInt64]] {
        c.lines.map { v in
            let (x, s) = inputs(v)
            return Self.outputs(quantizer, x, s)
        }
    }

    /// The scale and element codes of `q` for one block under tensor scale s.
    static func outputs(_ q: BlockFloatQuantizer, _ x: [Float], _ s: Float) -> [UInt64] {
        var statistics = QuantizationStatistics()
        let r = try! q.quantizeRows(x, rows: 1, columns: x.count, firstRow: 0, tensorScale: s, statistics: &statistics)
        return [UInt64(r.blockScales[0])] + r.codes.map(UInt64.init)
    }

    /// The exact reference: q = m / (6·S) on rationals rounded to E4M3 by `Oracle.encode` (RNE,
    /// saturating at 448); b its value; each element the RNE level of the exact x / (b·S) (GMP),
    /// level 0 throughout when b = 0; E2M1's 1000 for a negative value or −0.0 at level 0.
    public func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64]) {
        var outputs = [[UInt64]](), flags = [UInt64]()
        let e4m3 = BinaryFloatFormat.e4m3
        for v in c.lines {
            let (x, s) = inputs(v)
            let values = x.map { Rational(exactly: Double($0))! }, sValue = Rational(exactly: Double(s))!
            let m = values.map(\.magnitude).max()!
            let q = m / (Rational(6) * sValue)
            let code = Oracle.encode(q, as: e4m3, saturating: true)
            let b = Oracle.value(ofBits: code, format: e4m3)!
            var f: UInt64 = 0
            if m.signum == 0 { f |= 1 }
            if m.signum != 0 && code == 0 { f |= 2 }
            if code != 0 && code < 8 { f |= 4 }
            if q > Rational(448) { f |= 8 }
            // q on an E4M3 midpoint: between two neighbouring values.
            let below = Oracle.encode(q, as: e4m3, rounding: .towardZero, saturating: true)
            if m.signum != 0, below < 0x7E,
               (Oracle.value(ofBits: below, format: e4m3)! + Oracle.value(ofBits: below + 1, format: e4m3)!) / Rational(2) == q { f |= 16 }
            var codes: [UInt64] = [UInt64(code)]
            for (i, value) in values.enumerated() {
                let e = ExactE2M1(value: value, sign: x[i].sign, steps: b.signum == 0 ? Rational(0) : value / (b * sValue))
                if e.saturated { f |= 32 }
                if e.tie { f |= 64 }
                if e.underflow { f |= 128 }
                if e.negativeZero { f |= 256 }
                codes.append(e.code)
            }
            outputs.append(codes)
            flags.append(f)
        }
        return (outputs, flags)
    }
}
