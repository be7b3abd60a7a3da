import Dispatch
import Foundation
import Formats

/// The FP4 block formats: E2M1 elements (`LevelFormat.fp4`), blocks of consecutive elements
/// along a row (never straddling rows; a row's last block may be shorter), one scale per block.
public enum BlockFloatScheme: String, CaseIterable, Sendable, Codable {
    /// OCP MX v1.0 MXFP4: 32-element blocks, UE8M0 scale 2^(⌊log2 max|x|⌋ − 2).
    case mxfp4
    /// NVFP4: 16-element blocks, E4M3 scale of max|x| / 6 in units of a per-tensor FP32 scale
    /// max|x|_tensor / (6 · 448).
    case nvfp4

    public var defaultBlockSize: Int { self == .mxfp4 ? 32 : 16 }

    /// The format of the per-block scale codes.
    public var scaleFormat: BinaryFloatFormat { self == .mxfp4 ? .ue8m0 : .e4m3 }
}

/// How an MXFP4 block's shared exponent k (scale X = 2^k) follows from the block's max|x| = m > 0
/// (docs/quantization.md, "MX scale rules"). E2M1's largest value is 6 = 1.5 · 2^2.
public enum MXScaleRule: String, CaseIterable, Sendable, Codable {
    /// k = ⌊log2 m⌋ − 2 (OCP MX v1.0 §6.3; torchao `FLOOR`, its default). m / X ∈ [4, 8): elements
    /// above 6 · X saturate.
    case floor
    /// k = ⌈log2 m⌉ − 2 (torchao `CEIL`): m / X ∈ (2, 4], nothing saturates, the top binade unused.
    case ceil
    /// k = ⌈log2 (m / 6)⌉, the smallest X with m / X ≤ 6 (NVIDIA cuBLAS's MXFP scale derivation,
    /// "round the scale up", `cvt.rp` to UE8M0; torchao `RCEIL`): k = ⌊log2 m⌋ − 2, plus 1 when m's
    /// significand exceeds 1.5.
    case rceil
    /// k = ⌊log2 RNE₂(m)⌋ − 2, m first rounded to E2M1's 2 significant bits, ties to even (torchao
    /// `EVEN`): ⌊log2 m⌋ − 2, plus 1 when m's significand is 1.75 or more.
    case even

    /// The unclamped shared exponent for a finite m > 0 (binary32, subnormals included).
    public func exponent(forMaxMagnitude m: Float) -> Int {
        let e = Int(m.exponent), f = m.significand // m = f · 2^e, f ∈ [1, 2), exact for subnormals too
        switch self {
        case .floor: return e - 2
        case .ceil: return e - 2 + (f == 1 ? 0 : 1)
        case .rceil: return e - 2 + (f > 1.5 ? 1 : 0)
        case .even: return e - 2 + (f >= 1.75 ? 1 : 0)
        }
    }
}

/// The form of NVFP4's per-tensor scale and how it is computed (docs/quantization.md, "NVFP4
/// conventions").
public enum NVFP4TensorScale: String, CaseIterable, Sendable, Codable {
    /// S = fl32(M / 2688), the decode scale; block code = E4M3 of the exact m / (6·S).
    case decode
    /// G = fl32(2688 / M), the encode scale (NVIDIA's recipe, TransformerEngine); the decode
    /// scale is fl32(1 / G), block code = E4M3 of fl32(m · fl32(G · fl32(1/6))).
    case encode

    /// The decode scale S of a tensor scale written in this form.
    public func decodeScale(_ tensorScale: Float) -> Float { self == .encode ? 1 / tensorScale : tensorScale }
}

/// How NVFP4 divides an element by its scale b·S.
public enum NVFP4ElementDivision: String, CaseIterable, Sendable, Codable {
    /// The level of the exact x / (b·S).
    case exact
    /// The level of fl32(x · e), e = fl32(1 / fl32(b·S)) (the largest finite binary32 when that
    /// overflows), as GPU kernels multiply by a reciprocal.
    case reciprocal
}

/// A block format with its conventions, as one name: "mxfp4[:floor|ceil|rceil|even]",
/// "nvfp4[:decode|encode][:exact|reciprocal]" (defaults omitted). `underflow --formats` and the C
/// scheme string read it.
public struct BlockFloatVariant: Sendable, Equatable {
    public var scheme: BlockFloatScheme
    public var mxScale: MXScaleRule = .floor
    public var nvfp4TensorScale: NVFP4TensorScale = .decode
    public var nvfp4ElementDivision: NVFP4ElementDivision = .exact

    public init(_ scheme: BlockFloatScheme, mxScale: MXScaleRule = .floor, nvfp4TensorScale: NVFP4TensorScale = .decode,
                nvfp4ElementDivision: NVFP4ElementDivision = .exact) {
        self.scheme = scheme; self.mxScale = mxScale; self.nvfp4TensorScale = nvfp4TensorScale; self.nvfp4ElementDivision = nvfp4ElementDivision
    }

    /// nil when `name` is not a block format; an option that does not belong to the scheme (or is
    /// unknown, or given twice) throws, naming the choices.
    public init?(parsing name: String) throws {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let scheme = BlockFloatScheme(rawValue: parts[0]) else { return nil }
        self.init(scheme)
        let choices = scheme == .mxfp4 ? "mxfp4:" + MXScaleRule.allCases.map(\.rawValue).joined(separator: "|")
            : "nvfp4:" + NVFP4TensorScale.allCases.map(\.rawValue).joined(separator: "|") + ":" + NVFP4ElementDivision.allCases.map(\.rawValue).joined(separator: "|")
        var seen = Set<String>()
        for token in parts.dropFirst() {
            let kind: String
            if scheme == .mxfp4, let r = MXScaleRule(rawValue: token) { mxScale = r; kind = "scale rule" }
            else if scheme == .nvfp4, let t = NVFP4TensorScale(rawValue: token) { nvfp4TensorScale = t; kind = "tensor-scale" }
            else if scheme == .nvfp4, let d = NVFP4ElementDivision(rawValue: token) { nvfp4ElementDivision = d; kind = "element-division" }
            else { throw QuantizationError.unsuitableFormat("'\(name)': '\(token)' is not an option of \(scheme.rawValue); use \(choices)") }
            guard seen.insert(kind).inserted else { throw QuantizationError.unsuitableFormat("'\(name)': two \(kind) options; use \(choices)") }
        }
    }

    /// The name `init(parsing:)` reads back, defaults omitted.
    public var name: String {
        var tokens = [scheme.rawValue]
        if mxScale != .floor { tokens.append(mxScale.rawValue) }
        if nvfp4TensorScale != .decode { tokens.append(nvfp4TensorScale.rawValue) }
        if nvfp4ElementDivision != .exact { tokens.append(nvfp4ElementDivision.rawValue) }
        return tokens.joined(separator: ":")
    }
}

/// Codes and scales of one block-format quantization.
public struct BlockQuantizedTensor: Sendable {
    public let scheme: BlockFloatScheme
    public let rows: Int
    public let columns: Int
    public let blockSize: Int
    /// E2M1 codes, row-major, rows × columns.
    public var codes: [UInt8]
    /// Block scale codes (UE8M0 or E4M3 bits), row-major, rows × blocksPerRow.
    public var blockScales: [UInt8]
    /// The per-tensor FP32 scale (NVFP4) in the quantizer's `NVFP4TensorScale` form; 1 for MXFP4.
    public var tensorScale: Float
    /// The form of `tensorScale`: S itself, or the encode scale G (decode scale fl32(1 / G)).
    public var tensorScaleForm: NVFP4TensorScale = .decode

    /// The decode scale S elements are multiplied by (with their block scale).
    public var decodeTensorScale: Float { tensorScaleForm.decodeScale(tensorScale) }
    public var statistics: QuantizationStatistics

    public var blocksPerRow: Int { (columns + blockSize - 1) / blockSize }

    /// The scale of block b (flat index): decode(block code) × tensor scale, exact in binary64.
    public func elementScale(block b: Int) -> Double { scheme.scaleFormat.decode(UInt32(blockScales[b])) * Double(decodeTensorScale) }

    /// Element (r, c)'s value: E2M1 value × its block's scale (exact).
    public func dequantized(row r: Int, column c: Int) -> Double {
        LevelFormat.fp4.decodeSteps(codes[r * columns + c]) * elementScale(block: r * blocksPerRow + c / blockSize)
    }
}

/// Quantizes to MXFP4 or NVFP4. Scale rules (docs/quantization.md):
/// - MXFP4: X = 2^k, k from the block's max|x| = m > 0 under `mxScale` (default floor: ⌊log2 m⌋ − 2, 2 = E2M1's largest exponent),
///   clamped to UE8M0's 2^−127 … 2^127; m = 0 gives code 0 (2^−127) and zero codes.
/// - NVFP4: S = fl32(M / 2688) for the tensor's max|x| = M (1 if M = 0; 2^−149 if the division
///   underflows); block code = E4M3(m / (6·S)) rounded to nearest even, saturating at 448 (the
///   exact quotient rounded once). The block's element scale is E4M3 value × S.
/// Each element is the E2M1 level of the exact x / scale under `rounding`, saturating at ±6.
public struct BlockFloatQuantizer: Sendable {
    public let scheme: BlockFloatScheme
    public let blockSize: Int
    /// MXFP4's shared-exponent rule (ignored by NVFP4, whose scale is E4M3).
    public let mxScale: MXScaleRule
    /// NVFP4's tensor-scale form and element division (defaults: decode, exact).
    public let nvfp4TensorScale: NVFP4TensorScale
    public let nvfp4ElementDivision: NVFP4ElementDivision
    let elements: ElementQuantizer

    /// The format and conventions as one name (`BlockFloatVariant`).
    public var variant: BlockFloatVariant {
        BlockFloatVariant(scheme, mxScale: mxScale, nvfp4TensorScale: nvfp4TensorScale, nvfp4ElementDivision: nvfp4ElementDivision)
    }

    public init(_ v: BlockFloatVariant, blockSize: Int? = nil, rounding: RoundingRule = .toNearestOrEven, signedZero: SignedZero = .keep) throws {
        try self.init(scheme: v.scheme, blockSize: blockSize, rounding: rounding, mxScale: v.mxScale, signedZero: signedZero,
                      nvfp4TensorScale: v.nvfp4TensorScale, nvfp4ElementDivision: v.nvfp4ElementDivision)
    }

    public var rounding: RoundingRule { elements.rounding }

    public var signedZero: SignedZero { elements.selector.signedZero }

    public init(scheme: BlockFloatScheme, blockSize: Int? = nil, rounding: RoundingRule = .toNearestOrEven, mxScale: MXScaleRule = .floor,
                signedZero: SignedZero = .keep, nvfp4TensorScale: NVFP4TensorScale = .decode,
                nvfp4ElementDivision: NVFP4ElementDivision = .exact) throws {
        let size = blockSize ?? scheme.defaultBlockSize
        guard size >= 1 else { throw QuantizationError.unsuitableFormat("block size \(size) must be at least 1") }
        guard rounding != .stochastic else {
            throw QuantizationError.unsuitableFormat("\(scheme.rawValue) is defined with deterministic rounding only (stochastic is not offered)")
        }
        guard scheme == .mxfp4 || mxScale == .floor else {
            throw QuantizationError.unsuitableFormat("the MX scale rule (\(mxScale.rawValue)) applies to mxfp4 only; nvfp4's block scales are E4M3")
        }
        guard scheme == .nvfp4 || (nvfp4TensorScale == .decode && nvfp4ElementDivision == .exact) else {
            throw QuantizationError.unsuitableFormat("the NVFP4 tensor-scale form and element division apply to nvfp4 only")
        }
        self.scheme = scheme
        self.blockSize = size
        self.mxScale = mxScale
        self.nvfp4TensorScale = nvfp4TensorScale
        self.nvfp4ElementDivision = nvfp4ElementDivision
        elements = ElementQuantizer(selector: LevelSelector(format: .fp4, rule: rounding, signedZero: signedZero), seed: 0, nonFinite: .error)
    }

    /// The largest E2M1 value, 6, and E4M3's, 448.
    static let elementTop: Float = 6, scaleTop: Float = 448

    /// NVFP4's per-tensor scale for a tensor whose max|x| is `maxAbs`, in the `nvfp4TensorScale`
    /// form; 1 for MXFP4.
    /// - decode: S = fl32(M / 2688); 1 when M = 0, 2^−149 when the quotient underflows.
    /// - encode: G = fl32(2688 / M); the largest finite binary32 when M = 0 or the quotient
    ///   overflows (TransformerEngine's min(…, FLT_MAX)).
    public func tensorScale(forMaxMagnitude maxAbs: Float) -> Float {
        guard scheme == .nvfp4 else { return 1 }
        switch nvfp4TensorScale {
        case .decode:
            guard maxAbs != 0 else { return 1 }
            let s = maxAbs / (Self.elementTop * Self.scaleTop)
            return s == 0 ? .leastNonzeroMagnitude : s
        case .encode:
            let g = (Self.elementTop * Self.scaleTop) / maxAbs
            return g.isFinite ? g : .greatestFiniteMagnitude
        }
    }


    /// The block scale code for a block whose max|x| is `maxAbs`.
    public func blockScaleCode(forMaxMagnitude maxAbs: Float, tensorScale: Float) -> UInt8 {
        switch scheme {
        case .mxfp4:
            if maxAbs == 0 { return 0 }
            let exponent = min(max(mxScale.exponent(forMaxMagnitude: maxAbs), -127), 127)
            return UInt8(exponent + 127)
        case .nvfp4:
            if maxAbs == 0 { return 0 }
            let quotient: Double
            switch nvfp4TensorScale {
            case .decode:
                // One correctly rounded binary64 division: its result cannot cross or land on an
                // E4M3 rounding boundary unless the exact quotient is on it (docs/quantization.md).
                quotient = Double(maxAbs) / (6 * Double(tensorScale))
            case .encode:
                // The recipe's binary32 steps: fl32(m · fl32(G · fl32(1/6))), FLT_MAX on overflow.
                let d = maxAbs * (tensorScale * (1 / Self.elementTop))
                quotient = Double(d.isFinite ? d : .greatestFiniteMagnitude)
            }
            return UInt8(BinaryFloatFormat.e4m3.encode(quotient, rounding: .toNearestOrEven, saturating: true))
        }
    }

    /// Quantizes a rows × columns row-major tensor. Every input must be finite.
    public func quantize(_ values: [Float], rows: Int, columns: Int) throws -> BlockQuantizedTensor {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) tensor")
        }
        let s = tensorScale(forMaxMagnitude: try maxMagnitude(values, firstIndex: 0))
        var statistics = QuantizationStatistics()
        let (codes, blockScales) = try quantizeRows(values, rows: rows, columns: columns, firstRow: 0, tensorScale: s, statistics: &statistics)
        return BlockQuantizedTensor(scheme: scheme, rows: rows, columns: columns, blockSize: blockSize, codes: codes,
                                    blockScales: blockScales, tensorScale: s, tensorScaleForm: scheme == .nvfp4 ? nvfp4TensorScale : .decode,
                                    statistics: statistics)
    }

    /// Blocks per row of a tensor with `columns` columns.
    public func blocksPerRow(columns: Int) -> Int { (columns + blockSize - 1) / blockSize }

    /// max|x| of `values` (NVFP4's first pass over a streamed tensor); a non-finite value throws,
    /// named by its flat index (`firstIndex` is that of `values[0]`).
    public func maxMagnitude(_ values: [Float], firstIndex: Int) throws -> Float {
        var m: Float = 0
        for (i, v) in values.enumerated() {
            guard v.isFinite else { throw QuantizationError.nonFinite(index: firstIndex + i, value: v) }
            m = max(m, abs(v))
        }
        return m
    }

    /// Quantizes rows `firstRow ..< firstRow + rows` given as their own row-major block, with the
    /// whole tensor's `tensorScale` (`tensorScale(forMaxMagnitude:)`; 1 for MXFP4): the codes and
    /// block scale codes `quantize` gives for those rows. Block statistics are added to
    /// `statistics` in block order, so streamed blocks sum exactly as one call.
    public func quantizeRows(_ values: [Float], rows: Int, columns: Int, firstRow: Int, tensorScale s: Float,
                             statistics: inout QuantizationStatistics) throws -> (codes: [UInt8], blockScales: [UInt8]) {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) block")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) { throw QuantizationError.nonFinite(index: firstRow * columns + i, value: values[i]) }
        let perRow = blocksPerRow(columns: columns)
        let decodeScale = nvfp4TensorScale.decodeScale(s)
        var codes = [UInt8](repeating: 0, count: values.count)
        var blockScales = [UInt8](repeating: 0, count: rows * perRow)
        let blocks = rows * perRow
        if blocks == 0 { return (codes, blockScales) }
        // Blocks are independent; statistics are merged in block order so the sums (and the
        // output bytes) do not depend on scheduling.
        var blockStatistics = [QuantizationStatistics](repeating: QuantizationStatistics(), count: blocks)
        let chunks = min(blocks, max(1, ProcessInfo.processInfo.activeProcessorCount * 4))
        values.withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { codes in
                blockScales.withUnsafeMutableBufferPointer { scales in
                    blockStatistics.withUnsafeMutableBufferPointer { stats in
                        // Each block writes only its own codes, scale and statistics slot.
                        let shared = Shared((x: x, codes: codes, scales: scales, stats: stats))
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let w = shared.value
                            for b in stride(from: chunk, to: blocks, by: chunks) {
                                let start = (b / perRow) * columns + (b % perRow) * blockSize
                                let length = min(blockSize, columns - (b % perRow) * blockSize)
                                var blockMax: Float = 0
                                for i in start..<(start + length) { blockMax = max(blockMax, abs(w.x[i])) }
                                let code = blockScaleCode(forMaxMagnitude: blockMax, tensorScale: s)
                                w.scales[b] = code
                                let block = scheme.scaleFormat.decode(UInt32(code))
                                let scale = block * Double(decodeScale)
                                var reciprocal: Float? = nil
                                if nvfp4ElementDivision == .reciprocal {
                                    // e = fl32(1 / fl32(b · S)), FLT_MAX when b · S is 0.
                                    let e = 1 / (Float(block) * decodeScale)
                                    reciprocal = e.isFinite ? e : .greatestFiniteMagnitude
                                }
                                w.stats[b] = elements.quantize(w.x, w.codes, start: start, length: length,
                                                               scale: blockMax == 0 ? 0 : scale, reciprocal: reciprocal)
                            }
                        }
                    }
                }
            }
        }
        for st in blockStatistics { statistics.merge(st) }
        return (codes, blockScales)
    }
}
