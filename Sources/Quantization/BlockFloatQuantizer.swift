import Dispatch
import Foundation
import Formats
import Kernels

/// The FP4 block formats: E2M1 elements (`LevelFormat.fp4`), blocks of consecutive elements
/// along a row (never straddling rows; a row's last block may be shorter), one scale per block.
public enum BlockFloatScheme: String, CaseIterable, Sendable, Codable {
    /// OCP MX v1.0 MXFP4: 32-element blocks, UE8M0 scale 2^(⌊log2 max|x|⌋ − 2).
    case mxfp4
    /// NVFP4: 16-element blocks, E4M3 scale of max|x| / 6 in units of a per-tensor FP32 scale
    /// max|x|_tensor / (6 · 448).
    case nvfp4

    public var defaultBlockSize: Int { self == .mxfp4 ? 32 : 16 }

    /// The format of the per-block scale codes under the format's definition (NVFP4 may use UE5M3
    /// instead: `BlockFloatQuantizer.scaleFormat`).
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
    /// m / 6 stochastically rounded onto the powers of two: with 2^j ≤ m / 6 < 2^(j+1), k = j + 1
    /// iff 2^16 · (m / 6 − 2^j) > r · 2^j for the block's draw r (a B-bit rounder), else j. So
    /// E[X] = m / 6 (to 2^−B relative): unbiased scales; m / X ∈ (3, 6] rounded up, [6, 12) down
    /// (elements above 6 · X then saturate).
    case stochastic

    /// The unclamped shared exponent for a finite m > 0 (binary32, subnormals included); `draw`
    /// is the block's 16-bit stochastic draw (`.stochastic` only).
    public func exponent(forMaxMagnitude m: Float, draw: UInt32 = 0) -> Int {
        let e = Int(m.exponent), f = m.significand // m = f · 2^e, f ∈ [1, 2), exact for subnormals too
        switch self {
        case .floor: return e - 2
        case .ceil: return e - 2 + (f == 1 ? 0 : 1)
        case .rceil: return e - 2 + (f > 1.5 ? 1 : 0)
        case .even: return e - 2 + (f >= 1.75 ? 1 : 0)
        case .stochastic:
            // 2^j ≤ m / 6 < 2^(j+1); the comparison multiplied by 6 is exact in binary64.
            let j = e - 3 + (f >= 1.5 ? 1 : 0), lo = Double(sign: .plus, exponent: j, significand: 1)
            return j + (65536 * (Double(m) - 6 * lo) > 6 * Double(draw) * lo ? 1 : 0)
        }
    }

    /// The rules that need no random draw.
    public static let deterministic: [MXScaleRule] = [.floor, .ceil, .rceil, .even]
}

/// How NVFP4's block-scale quotient q is rounded to the scale format (E4M3 or UE5M3), saturating
/// at its largest value.
public enum NVFP4ScaleRounding: String, CaseIterable, Sendable, Codable {
    /// To nearest, ties to even (the format's definition and every library).
    case nearest
    /// Stochastically: with lo ≤ q < hi adjacent values of the format, hi iff 2^16 · (q − lo) >
    /// r · (hi − lo) for the block's draw r (a B-bit rounder), the rule elements use.
    case stochastic
}

/// The form of NVFP4's per-tensor scale and how it is computed (docs/quantization.md, "NVFP4
/// conventions").
public enum NVFP4TensorScale: String, CaseIterable, Sendable, Codable {
    /// S = fl32(M / 2688), the decode scale; block code = E4M3 of the exact m / (6·S).
    case decode
    /// G = fl32(2688 / M), the encode scale (NVIDIA's recipe, TransformerEngine); the decode
    /// scale is fl32(1 / G), block code = E4M3 of fl32(m · fl32(G · fl32(1/6))).
    case encode
    /// G = fl32(2688 · fl32(1 / max(M, 2^−126))), 1 when that overflows (compressed-tensors 0.20:
    /// PyTorch evaluates `2688 / tensor` as a reciprocal times 2688; its non-finite fallback is 1).
    /// Otherwise as `encode`.
    case encodeReciprocal = "encode-reciprocal"

    /// Whether the scale is written as the encode scale G (the decode scale S is then fl32(1 / G)).
    public var isEncodeForm: Bool { self != .decode }

    /// The decode scale S of a tensor scale written in this form.
    public func decodeScale(_ tensorScale: Float) -> Float { isEncodeForm ? 1 / tensorScale : tensorScale }
}

/// How NVFP4's block-scale quotient q = m / (6·S) (m the block's max|x|, S the decode tensor scale)
/// is computed before it is rounded to E4M3 (docs/quantization.md, "NVFP4 conventions").
public enum NVFP4BlockScale: String, CaseIterable, Sendable, Codable {
    /// The exact quotient (m / (6·S), or m · G / 6 in the encode form), rounded once to E4M3.
    case exactQuotient = "exact-quotient"
    /// a = fl32(m / 6) first, then fl32(a / S) or fl32(G · a) (torchao, compressed-tensors).
    case amaxFirst = "amax-first"
    /// fl32(m · fl32(G · fl32(1/6))): the encode scale times 1/6 first (TransformerEngine); encode form only.
    case scaleFirst = "scale-first"

    /// The default under a tensor-scale form: exact for decode, TransformerEngine's steps for encode.
    public static func defaultRule(for form: NVFP4TensorScale) -> NVFP4BlockScale { form.isEncodeForm ? .scaleFirst : .exactQuotient }
}

/// What NVFP4 does with a block-scale quotient that is 0 or rounds to E4M3 code 0.
public enum NVFP4ScaleFloor: String, CaseIterable, Sendable, Codable {
    /// Code 0 stands (a zero or underflowing block; dintsim, TransformerEngine).
    case allowZero = "allow-zero"
    /// The quotient is raised to E4M3's smallest normal 2^−6 before rounding: codes ≥ 0x08, no
    /// subnormal scales (torchao's clamp(min = finfo(float8_e4m3fn).tiny)).
    case minNormal = "min-normal"
    /// Code 0 is replaced by 0x20, the value 0.125 (compressed-tensors).
    case eighth
}

/// How NVFP4 divides an element by its scale b·S.
public enum NVFP4ElementDivision: String, CaseIterable, Sendable, Codable {
    /// The level of the exact x / (b·S).
    case exact
    /// The level of fl32(x · e), e = fl32(1 / fl32(b·S)) (the largest finite binary32 when that
    /// overflows), as GPU kernels multiply by a reciprocal (TransformerEngine).
    case reciprocal
    /// The level of fl32(x / d), d the element scale in binary32: fl32(S · b) in the decode form
    /// (torchao before 0.18), fl32(b / G) in the encode form (compressed-tensors). d = 0 gives ±∞
    /// (level ±6) for x ≠ 0 and level 0 for x = 0.
    case quotient
    /// The level of fl32(x · r), r = fl32(R / b) with R = fl32(1 / S) in the decode form, G in the
    /// encode form: the tensor's reciprocal over the block scale (torchao 0.18, "x * (global_scale
    /// / fp8_scale)" as its Triton kernel). b = 0 gives r = ∞: level ±6 for x ≠ 0, 0 for x = 0.
    case globalOverBlock = "global-over-block"
}

/// The format of NVFP4's block scales: OCP E4M3 (the format's definition) or UE5M3
/// (`BinaryFloatFormat.ue5m3`, proposed by the FP4 training studies for its range). The tensor
/// scale maps the tensor's max to 6 × the format's largest value (2688 for E4M3, 688128 for UE5M3).
public enum NVFP4ScaleFormat: String, CaseIterable, Sendable, Codable {
    case e4m3, ue5m3

    public var format: BinaryFloatFormat { self == .e4m3 ? .e4m3 : .ue5m3 }
}

/// The shape of an NVFP4 scale block.
public enum NVFP4Blocks: String, CaseIterable, Sendable, Codable {
    /// 16 consecutive elements of a row (the format's definition; activations, and weights at inference).
    case row = "1x16"
    /// 16 rows × 16 columns, one scale for the tile (NVIDIA's NVFP4 training recipe for weights, so
    /// that the forward and the transposed backward use the same scales); tiles at the bottom and
    /// right edges may be smaller.
    case tile = "16x16"

    public var rowsPerBlock: Int { self == .tile ? 16 : 1 }
}

/// A named set of FP4 conventions: what a library or spec does, as one choice
/// (docs/quantization.md, "Conventions").
public enum BlockFloatConvention: String, CaseIterable, Sendable, Codable {
    /// The OCP MX v1.0 spec: MXFP4 floor, signed zero kept. The spec does not define NVFP4.
    case ocp
    /// NVIDIA cuBLAS / TransformerEngine: MXFP4 rceil; NVFP4 encode, scale-first, reciprocal, code 0 allowed.
    case nvidia
    /// torchao 0.18 (prototype.mx_formats): MXFP4 floor; NVFP4 decode, amax-first,
    /// global-over-block, min-normal.
    case torchao
    /// compressed-tensors 0.20 (vLLM / llm-compressor): MXFP4 even; NVFP4 encode-reciprocal,
    /// amax-first, quotient, code 0 → 0.125; a zero code is negative for x < 0 only (sign-of-value).
    case compressedTensors = "compressed-tensors"

    /// The variant this convention gives `scheme`; throws where the convention does not define it.
    public func variant(_ scheme: BlockFloatScheme) throws -> BlockFloatVariant {
        switch (self, scheme) {
        case (.ocp, .mxfp4), (.torchao, .mxfp4): return BlockFloatVariant(.mxfp4)
        case (.nvidia, .mxfp4): return BlockFloatVariant(.mxfp4, mxScale: .rceil)
        case (.compressedTensors, .mxfp4): return BlockFloatVariant(.mxfp4, mxScale: .even, signedZero: .signOfValue)
        case (.ocp, .nvfp4):
            throw QuantizationError.unsuitableFormat("the ocp convention (OCP MX v1.0) defines the MX formats only, not nvfp4; use --convention nvidia, torchao or compressed-tensors")
        case (.nvidia, .nvfp4):
            return BlockFloatVariant(.nvfp4, nvfp4TensorScale: .encode, nvfp4BlockScale: .scaleFirst, nvfp4ElementDivision: .reciprocal)
        case (.torchao, .nvfp4):
            return BlockFloatVariant(.nvfp4, nvfp4TensorScale: .decode, nvfp4BlockScale: .amaxFirst, nvfp4ElementDivision: .globalOverBlock,
                                     nvfp4ScaleFloor: .minNormal)
        case (.compressedTensors, .nvfp4):
            return BlockFloatVariant(.nvfp4, nvfp4TensorScale: .encodeReciprocal, nvfp4BlockScale: .amaxFirst, nvfp4ElementDivision: .quotient,
                                     nvfp4ScaleFloor: .eighth, signedZero: .signOfValue)
        }
    }
}

/// A block format with its conventions, as one name: the scheme, then optionally a convention
/// (`BlockFloatConvention`), then options that override it, defaults omitted:
/// "mxfp4[:CONVENTION][:floor|ceil|rceil|even|stochastic][:keep|flush|sign-of-value]",
/// "nvfp4[:CONVENTION][:decode|encode|encode-reciprocal][:exact-quotient|amax-first|scale-first][:exact|reciprocal|quotient|global-over-block][:allow-zero|min-normal|eighth][:1x16|16x16][:e4m3|ue5m3][:nearest|stochastic][:keep|flush|sign-of-value]", either followed by ":rht16[-SEED|-te][-bf16]"
/// (the random Hadamard transform). In a name, `stochastic` is the block scales' rounding (the
/// elements' rounding is the quantizer's `rounding`, not part of the format).
/// `quantize`, `underflow --formats`, the C scheme string and Python's format argument read it.
public struct BlockFloatVariant: Sendable, Equatable {
    public var scheme: BlockFloatScheme
    public var mxScale: MXScaleRule = .floor
    public var nvfp4TensorScale: NVFP4TensorScale = .decode
    public var nvfp4BlockScale: NVFP4BlockScale = .exactQuotient
    public var nvfp4ElementDivision: NVFP4ElementDivision = .exact
    public var nvfp4ScaleFloor: NVFP4ScaleFloor = .allowZero
    public var nvfp4Blocks: NVFP4Blocks = .row
    public var nvfp4ScaleFormat: NVFP4ScaleFormat = .e4m3
    public var nvfp4ScaleRounding: NVFP4ScaleRounding = .nearest
    public var signedZero: SignedZero = .keep
    /// The 16-point random Hadamard transform applied to each row before quantization, if any.
    public var rht: RandomHadamardTransform? = nil

    /// `nvfp4BlockScale` nil: the form's default (`NVFP4BlockScale.defaultRule(for:)`).
    public init(_ scheme: BlockFloatScheme, mxScale: MXScaleRule = .floor, nvfp4TensorScale: NVFP4TensorScale = .decode,
                nvfp4BlockScale: NVFP4BlockScale? = nil, nvfp4ElementDivision: NVFP4ElementDivision = .exact,
                nvfp4ScaleFloor: NVFP4ScaleFloor = .allowZero, nvfp4Blocks: NVFP4Blocks = .row, nvfp4ScaleFormat: NVFP4ScaleFormat = .e4m3,
                nvfp4ScaleRounding: NVFP4ScaleRounding = .nearest, signedZero: SignedZero = .keep, rht: RandomHadamardTransform? = nil) {
        self.scheme = scheme; self.mxScale = mxScale; self.nvfp4TensorScale = nvfp4TensorScale
        self.nvfp4BlockScale = nvfp4BlockScale ?? .defaultRule(for: nvfp4TensorScale)
        self.nvfp4ElementDivision = nvfp4ElementDivision; self.nvfp4ScaleFloor = nvfp4ScaleFloor; self.nvfp4Blocks = nvfp4Blocks
        self.nvfp4ScaleFormat = nvfp4ScaleFormat; self.nvfp4ScaleRounding = nvfp4ScaleRounding; self.signedZero = signedZero; self.rht = rht
    }

    /// `scheme` under `convention` (the defaults without one), then every option given overriding
    /// it — the one composition `quantize`'s options and the parsed names share. A tensor-scale
    /// form given without a block-scale rule and without a convention takes the form's default
    /// block scale (`NVFP4BlockScale.defaultRule(for:)`). Throws for a combination `validate` refuses.
    public init(_ scheme: BlockFloatScheme, convention: BlockFloatConvention?, mxScale: MXScaleRule? = nil,
                nvfp4TensorScale: NVFP4TensorScale? = nil, nvfp4BlockScale: NVFP4BlockScale? = nil,
                nvfp4ElementDivision: NVFP4ElementDivision? = nil, nvfp4ScaleFloor: NVFP4ScaleFloor? = nil,
                nvfp4Blocks: NVFP4Blocks? = nil, nvfp4ScaleFormat: NVFP4ScaleFormat? = nil, nvfp4ScaleRounding: NVFP4ScaleRounding? = nil,
                signedZero: SignedZero? = nil, rht: RandomHadamardTransform? = nil) throws {
        self = try convention?.variant(scheme) ?? BlockFloatVariant(scheme)
        if let mxScale { self.mxScale = mxScale }
        if let nvfp4TensorScale {
            self.nvfp4TensorScale = nvfp4TensorScale
            if nvfp4BlockScale == nil && convention == nil { self.nvfp4BlockScale = .defaultRule(for: nvfp4TensorScale) }
        }
        if let nvfp4BlockScale { self.nvfp4BlockScale = nvfp4BlockScale }
        if let nvfp4ElementDivision { self.nvfp4ElementDivision = nvfp4ElementDivision }
        if let nvfp4ScaleFloor { self.nvfp4ScaleFloor = nvfp4ScaleFloor }
        if let nvfp4Blocks { self.nvfp4Blocks = nvfp4Blocks }
        if let nvfp4ScaleFormat { self.nvfp4ScaleFormat = nvfp4ScaleFormat }
        if let nvfp4ScaleRounding { self.nvfp4ScaleRounding = nvfp4ScaleRounding }
        if let signedZero { self.signedZero = signedZero }
        if let rht { self.rht = rht }
        try validate()
    }

    /// Every choice the name of `scheme` may carry, for messages.
    public static func choices(_ scheme: BlockFloatScheme) -> String {
        func list<E: RawRepresentable & CaseIterable>(_ e: E.Type) -> String where E.RawValue == String { e.allCases.map(\.rawValue).joined(separator: "|") }
        let options = scheme == .mxfp4 ? [list(MXScaleRule.self)]
            : [list(NVFP4TensorScale.self), list(NVFP4BlockScale.self), list(NVFP4ElementDivision.self), list(NVFP4ScaleFloor.self), list(NVFP4Blocks.self),
               list(NVFP4ScaleFormat.self), list(NVFP4ScaleRounding.self)]
        return ([scheme.rawValue, "[" + list(BlockFloatConvention.self) + "]"] + options.map { "[\($0)]" } + ["[" + list(SignedZero.self) + "]", "[rht16[-SEED|-te][-bf16]]"]).joined(separator: ":")
    }

    /// nil when `name` is not a block format; an option that does not belong to the scheme (or is
    /// unknown, or given twice), a convention not right after the scheme, or a combination the
    /// quantizer refuses throws, naming the choices.
    public init?(parsing name: String) throws {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let scheme = BlockFloatScheme(rawValue: parts[0]) else { return nil }
        var convention: BlockFloatConvention?, mxScale: MXScaleRule?, nvfp4TensorScale: NVFP4TensorScale?, nvfp4BlockScale: NVFP4BlockScale?
        var nvfp4ElementDivision: NVFP4ElementDivision?, nvfp4ScaleFloor: NVFP4ScaleFloor?, nvfp4Blocks: NVFP4Blocks?
        var nvfp4ScaleFormat: NVFP4ScaleFormat?, nvfp4ScaleRounding: NVFP4ScaleRounding?, signedZero: SignedZero?, rht: RandomHadamardTransform?
        var seen = Set<String>()
        for (i, token) in parts.dropFirst().enumerated() {
            let kind: String
            if let c = BlockFloatConvention(rawValue: token), i == 0 { convention = c; kind = "convention" }
            else if scheme == .mxfp4, let r = MXScaleRule(rawValue: token) { mxScale = r; kind = "scale rule" }
            else if scheme == .nvfp4, let t = NVFP4TensorScale(rawValue: token) { nvfp4TensorScale = t; kind = "tensor-scale" }
            else if scheme == .nvfp4, let b = NVFP4BlockScale(rawValue: token) { nvfp4BlockScale = b; kind = "block-scale" }
            else if scheme == .nvfp4, let d = NVFP4ElementDivision(rawValue: token) { nvfp4ElementDivision = d; kind = "element-division" }
            else if scheme == .nvfp4, let f = NVFP4ScaleFloor(rawValue: token) { nvfp4ScaleFloor = f; kind = "scale-floor" }
            else if scheme == .nvfp4, let b = NVFP4Blocks(rawValue: token) { nvfp4Blocks = b; kind = "blocks" }
            else if scheme == .nvfp4, let f = NVFP4ScaleFormat(rawValue: token) { nvfp4ScaleFormat = f; kind = "scale-format" }
            else if scheme == .nvfp4, let r = NVFP4ScaleRounding(rawValue: token) { nvfp4ScaleRounding = r; kind = "scale-rounding" }
            else if let z = SignedZero(rawValue: token) { signedZero = z; kind = "signed-zero" }
            else if let t = try RandomHadamardTransform(token: token) { rht = t; kind = "rht" }
            else {
                let hint = BlockFloatConvention(rawValue: token) != nil ? " (a convention comes right after the scheme)" : ""
                throw QuantizationError.unsuitableFormat("'\(name)': '\(token)' is not an option of \(scheme.rawValue)\(hint); use \(Self.choices(scheme))")
            }
            guard seen.insert(kind).inserted else { throw QuantizationError.unsuitableFormat("'\(name)': two \(kind) options; use \(Self.choices(scheme))") }
        }
        try self.init(scheme, convention: convention, mxScale: mxScale, nvfp4TensorScale: nvfp4TensorScale, nvfp4BlockScale: nvfp4BlockScale,
                      nvfp4ElementDivision: nvfp4ElementDivision, nvfp4ScaleFloor: nvfp4ScaleFloor, nvfp4Blocks: nvfp4Blocks,
                      nvfp4ScaleFormat: nvfp4ScaleFormat, nvfp4ScaleRounding: nvfp4ScaleRounding, signedZero: signedZero, rht: rht)
    }

    /// Throws for a combination no rule defines: scale-first needs the encode form.
    public func validate() throws {
        if scheme == .nvfp4 && nvfp4BlockScale == .scaleFirst && !nvfp4TensorScale.isEncodeForm {
            throw QuantizationError.unsuitableFormat("the scale-first block scale multiplies by the encode scale G: use it with the encode tensor scale (nvfp4:encode:scale-first)")
        }
    }

    /// The name `init(parsing:)` reads back, defaults omitted.
    public var name: String {
        var tokens = [scheme.rawValue]
        if mxScale != .floor { tokens.append(mxScale.rawValue) }
        if nvfp4TensorScale != .decode { tokens.append(nvfp4TensorScale.rawValue) }
        if nvfp4BlockScale != .defaultRule(for: nvfp4TensorScale) { tokens.append(nvfp4BlockScale.rawValue) }
        if nvfp4ElementDivision != .exact { tokens.append(nvfp4ElementDivision.rawValue) }
        if nvfp4ScaleFloor != .allowZero { tokens.append(nvfp4ScaleFloor.rawValue) }
        if nvfp4Blocks != .row { tokens.append(nvfp4Blocks.rawValue) }
        if nvfp4ScaleFormat != .e4m3 { tokens.append(nvfp4ScaleFormat.rawValue) }
        if nvfp4ScaleRounding != .nearest { tokens.append(nvfp4ScaleRounding.rawValue) }
        if signedZero != .keep { tokens.append(signedZero.rawValue) }
        if let rht { tokens.append(rht.description) }
        return tokens.joined(separator: ":")
    }
}

/// Codes and scales of one block-format quantization.
public struct BlockQuantizedTensor: Sendable {
    public let scheme: BlockFloatScheme
    public let rows: Int
    public let columns: Int
    public let blockSize: Int
    /// Rows per block: 1, or 16 for NVFP4's 16 × 16 tiles.
    public var blockRows: Int = 1
    /// The format of `blockScales` (UE8M0, E4M3 or UE5M3).
    public var scaleFormat: BinaryFloatFormat
    /// E2M1 codes, row-major, rows × columns.
    public var codes: [UInt8]
    /// Block scale codes (UE8M0 or E4M3 bits), row-major, ⌈rows / blockRows⌉ × blocksPerRow.
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
    public func elementScale(block b: Int) -> Double { scaleFormat.decode(UInt32(blockScales[b])) * Double(decodeTensorScale) }

    /// Element (r, c)'s value: E2M1 value × its block's scale (exact).
    public func dequantized(row r: Int, column c: Int) -> Double {
        LevelFormat.fp4.decodeSteps(codes[r * columns + c]) * elementScale(block: block(row: r, column: c))
    }

    /// The flat index of the block holding element (r, c).
    public func block(row r: Int, column c: Int) -> Int { (r / blockRows) * blocksPerRow + c / blockSize
    }
}

/// Quantizes to MXFP4 or NVFP4. Scale rules (docs/quantization.md):
/// - MXFP4: X = 2^k, k from the block's max|x| = m > 0 under `mxScale` (default floor: ⌊log2 m⌋ − 2, 2 = E2M1's largest exponent),
///   clamped to UE8M0's 2^−127 … 2^127; m = 0 gives code 0 (2^−127) and zero codes.
/// - NVFP4: by default S = fl32(M / 2688) for the tensor's max|x| = M (1 if M = 0; 2^−149 if the division
///   underflows); block code = E4M3(m / (6·S)) rounded to nearest even, saturating at 448 (the
///   exact quotient rounded once). The block's element scale is E4M3 value × S. The
///   `BlockFloatVariant` options name the libraries' other binary32 steps.
/// Each element is the E2M1 level of the exact x / scale under `rounding`, saturating at ±6.
public struct BlockFloatQuantizer: Sendable {
    /// The format and conventions as one name.
    public let variant: BlockFloatVariant
    public let blockSize: Int
    var elements: ElementQuantizer
    /// The instruction set of the nearest-rule element loop (the fastest this CPU supports
    /// unless chosen; every level gives the same bytes).
    public var instructionSet: InstructionSet {
        get { elements.instructionSet }
        set { elements.instructionSet = newValue }
    }

    public var scheme: BlockFloatScheme { variant.scheme }
    /// MXFP4's shared-exponent rule (ignored by NVFP4, whose scale is E4M3).
    public var mxScale: MXScaleRule { variant.mxScale }
    /// NVFP4's tensor-scale form, block-scale steps, element division and scale floor.
    public var nvfp4TensorScale: NVFP4TensorScale { variant.nvfp4TensorScale }
    public var nvfp4BlockScale: NVFP4BlockScale { variant.nvfp4BlockScale }
    public var nvfp4ElementDivision: NVFP4ElementDivision { variant.nvfp4ElementDivision }
    public var nvfp4ScaleFloor: NVFP4ScaleFloor { variant.nvfp4ScaleFloor }
    public var nvfp4ScaleRounding: NVFP4ScaleRounding { variant.nvfp4ScaleRounding }
    /// Rows per block: 1, or 16 for NVFP4's 16 × 16 tiles. A streamed row block must start at a
    /// multiple of it.
    public var blockRows: Int { scheme == .nvfp4 ? variant.nvfp4Blocks.rowsPerBlock : 1 }
    /// The block scales' format: UE8M0 (MXFP4), E4M3 or UE5M3 (NVFP4).
    public let scaleFormat: BinaryFloatFormat
    /// The largest block scale value (448 for E4M3), and the tensor-scale constant 6 · scaleTop.
    let scaleTop: Float, tensorTop: Float

    /// `rounding` decides the E2M1 elements; stochastic rounding draws `stochasticBits` bits per
    /// element from `seed`, counter = the element's flat index (as `SymmetricQuantizer`). Block
    /// scales are deterministic unless the variant rounds them stochastically (`mxfp4:stochastic`,
    /// `nvfp4:stochastic`): then block b draws from `seed` at counter 2^63 + b (`scaleDraw`).
    public init(_ v: BlockFloatVariant, blockSize: Int? = nil, rounding: RoundingRule = .toNearestOrEven, seed: UInt64 = 0,
                stochasticBits: Int = 16) throws {
        let size = blockSize ?? v.scheme.defaultBlockSize
        guard size >= 1 else { throw QuantizationError.unsuitableFormat("block size \(size) must be at least 1") }
        let stochasticScales = v.mxScale == .stochastic || v.nvfp4ScaleRounding == .stochastic
        try SymmetricQuantizer.checkStochasticBits(stochasticBits, rounding: stochasticScales ? .stochastic : rounding)
        guard v.scheme == .mxfp4 || v.mxScale == .floor else {
            throw QuantizationError.unsuitableFormat("the MX scale rule (\(v.mxScale.rawValue)) applies to mxfp4 only; nvfp4's block scales are E4M3")
        }
        guard v.scheme == .nvfp4 || (v.nvfp4TensorScale == .decode && v.nvfp4BlockScale == .exactQuotient && v.nvfp4ElementDivision == .exact
                                     && v.nvfp4ScaleFloor == .allowZero && v.nvfp4Blocks == .row && v.nvfp4ScaleFormat == .e4m3
                                     && v.nvfp4ScaleRounding == .nearest) else {
            throw QuantizationError.unsuitableFormat("the NVFP4 tensor-scale form, block-scale steps, element division, scale floor, block shape, scale format and scale rounding apply to nvfp4 only")
        }
        guard v.rht == nil || size % RandomHadamardTransform.size == 0 else {
            throw QuantizationError.unsuitableFormat("the 16-point RHT needs blocks that are a multiple of 16 elements, not \(size)")
        }
        guard v.nvfp4Blocks == .row || blockSize == nil || blockSize == 16 else {
            throw QuantizationError.unsuitableFormat("16x16 blocks are 16 columns wide, not \(blockSize!)")
        }
        try v.validate()
        variant = v
        scaleFormat = v.scheme == .mxfp4 ? .ue8m0 : v.nvfp4ScaleFormat.format
        scaleTop = Float(scaleFormat.decode(scaleFormat.maxFiniteBits))
        tensorTop = Self.elementTop * scaleTop
        self.blockSize = size
        elements = ElementQuantizer(selector: LevelSelector(format: .fp4, rule: rounding, signedZero: v.signedZero), seed: seed, nonFinite: .error,
                                    drawBits: stochasticBits)
    }

    public var seed: UInt64 { elements.seed }
    public var stochasticBits: Int { elements.drawBits }

    public init(scheme: BlockFloatScheme, blockSize: Int? = nil, rounding: RoundingRule = .toNearestOrEven, mxScale: MXScaleRule = .floor,
                signedZero: SignedZero = .keep, nvfp4TensorScale: NVFP4TensorScale = .decode,
                nvfp4ElementDivision: NVFP4ElementDivision = .exact) throws {
        try self.init(BlockFloatVariant(scheme, mxScale: mxScale, nvfp4TensorScale: nvfp4TensorScale, nvfp4ElementDivision: nvfp4ElementDivision,
                                        signedZero: signedZero), blockSize: blockSize, rounding: rounding)
    }

    public var rounding: RoundingRule { elements.rounding }

    public var signedZero: SignedZero { variant.signedZero }

    /// The largest E2M1 value.
    static let elementTop: Float = 6

    /// NVFP4's per-tensor scale for a tensor whose max|x| is `maxAbs`, in the `nvfp4TensorScale`
    /// form; 1 for MXFP4.
    /// - decode: S = fl32(M / T); 1 when M = 0, 2^−149 when the quotient underflows.
    /// - encode: G = fl32(T / M); the largest finite binary32 when M = 0 or the quotient
    ///   overflows (TransformerEngine's min(…, FLT_MAX)).
    /// - encode-reciprocal: G = fl32(T · fl32(1 / max(M, 2^−126))); 1 when that overflows.
    /// (T = 6 × the scale format's largest value: 2688 for E4M3, 688128 for UE5M3.)
    public func tensorScale(forMaxMagnitude maxAbs: Float) -> Float {
        guard scheme == .nvfp4 else { return 1 }
        switch nvfp4TensorScale {
        case .decode:
            guard maxAbs != 0 else { return 1 }
            let s = maxAbs / tensorTop
            return s == 0 ? .leastNonzeroMagnitude : s
        case .encode:
            let g = tensorTop / maxAbs
            return g.isFinite ? g : .greatestFiniteMagnitude
        case .encodeReciprocal:
            let g = tensorTop * (1 / max(maxAbs, .leastNormalMagnitude))
            return g.isFinite ? g : 1
        }
    }

    /// The stochastic draw of block `block` (its flat index in the tensor's block grid, row-major):
    /// counter 2^63 + block, which no element's flat index reaches; the quantizer's B-bit rounder.
    public func scaleDraw(block: Int) -> UInt32 {
        CounterRandom(seed: elements.seed).stochasticDraw(1 << 63 | UInt64(block), bits: elements.drawBits)
    }

    /// The block scale code for block `block` (its flat index; the stochastic draw's counter)
    /// whose max|x| is `maxAbs`.
    public func blockScaleCode(forMaxMagnitude maxAbs: Float, tensorScale: Float, block: Int = 0) -> UInt8 {
        switch scheme {
        case .mxfp4:
            if maxAbs == 0 { return 0 }
            let draw = mxScale == .stochastic ? scaleDraw(block: block) : 0
            let exponent = min(max(mxScale.exponent(forMaxMagnitude: maxAbs, draw: draw), -127), 127)
            return UInt8(exponent + 127)
        case .nvfp4:
            var quotient: Double
            if maxAbs == 0 { quotient = 0 } else {
                let g = tensorScale, encode = nvfp4TensorScale.isEncodeForm
                switch nvfp4BlockScale {
                case .exactQuotient:
                    // One correctly rounded binary64 operation on an exact numerator (m, or the
                    // 48-bit m·G): it cannot cross or land on an E4M3 rounding boundary unless the
                    // exact quotient is on it (docs/quantization.md).
                    quotient = encode ? Double(maxAbs) * Double(g) / 6 : Double(maxAbs) / (6 * Double(tensorScale))
                case .amaxFirst:
                    let a = maxAbs / Self.elementTop
                    quotient = Double(encode ? g * a : a / tensorScale)
                case .scaleFirst:
                    // The recipe's binary32 steps: fl32(m · fl32(G · fl32(1/6))).
                    quotient = Double(maxAbs * (g * (1 / Self.elementTop)))
                }
                if !quotient.isFinite { quotient = Double(Float.greatestFiniteMagnitude) } // saturates
            }
            var floored = false
            if nvfp4ScaleFloor == .minNormal && quotient < Double(sign: .plus, exponent: scaleFormat.minExponent, significand: 1) {
                quotient = Double(sign: .plus, exponent: scaleFormat.minExponent, significand: 1)
                floored = true
            }
            let code: UInt8
            if nvfp4ScaleRounding == .stochastic {
                // Whether the exact quotient exceeds t (t has at most 21 significant bits): the
                // binary32 orders' quotient is exact in binary64; the exact quotient is compared
                // through exact products (m against 6·S·t, or m·G against 6·t, at most 48 bits).
                let exact = nvfp4BlockScale == .exactQuotient && maxAbs != 0 && !floored && quotient < Double(Float.greatestFiniteMagnitude)
                let encode = nvfp4TensorScale.isEncodeForm, q = quotient
                code = stochasticScaleCode(quotient, draw: scaleDraw(block: block)) { t in
                    !exact ? q > t : encode ? Double(maxAbs) * Double(tensorScale) > 6 * t : Double(maxAbs) > 6 * Double(tensorScale) * t
                }
            } else {
                code = UInt8(scaleFormat.encode(quotient, rounding: .toNearestOrEven, saturating: true))
            }
            return code == 0 && nvfp4ScaleFloor == .eighth ? UInt8(scaleFormat.encode(0.125)) : code
        }
    }

    /// q (≥ 0, its binary64 value: on no value of the scale format unless the exact quotient is,
    /// docs/quantization.md "Exactness") stochastically rounded to the scale format, saturating:
    /// lo = q toward zero, hi the next value, hi iff q > t = lo + r · (hi − lo) · 2^−16, decided by
    /// `exceeds(t)` on the exact quotient.
    func stochasticScaleCode(_ q: Double, draw r: UInt32, exceeds: (Double) -> Bool) -> UInt8 {
        let lo = scaleFormat.encode(q, rounding: .towardZero, saturating: true)
        let loValue = scaleFormat.decode(lo)
        if loValue == q || lo == scaleFormat.maxFiniteBits { return UInt8(lo) }
        let gap = scaleFormat.decode(lo + 1) - loValue
        return UInt8(exceeds(loValue + Double(r) * gap / 65536) ? lo + 1 : lo)
    }

    /// How elements of a block with block-scale value `block` are divided by their scale.
    func elementScaling(block: Float, tensorScale: Float) -> Binary32ElementScaling? {
        let decodeScale = nvfp4TensorScale.decodeScale(tensorScale)
        switch nvfp4ElementDivision {
        case .exact: return nil
        case .reciprocal:
            // e = fl32(1 / fl32(b · S)), FLT_MAX when b · S is 0.
            let e = 1 / (block * decodeScale)
            return .multiply(e.isFinite ? e : .greatestFiniteMagnitude)
        case .quotient:
            return .divide(nvfp4TensorScale.isEncodeForm ? block / tensorScale : block * decodeScale)
        case .globalOverBlock:
            // r = fl32(R / b), R = G, or fl32(1 / S) in the decode form; ∞ when b = 0.
            return .multiply((nvfp4TensorScale.isEncodeForm ? tensorScale : 1 / tensorScale) / block)
        }
    }

    /// Quantizes a rows × columns row-major tensor. Every input must be finite.
    public func quantize(_ values: [Float], rows: Int, columns: Int) throws -> BlockQuantizedTensor {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) tensor")
        }
        if let rht = variant.rht { _ = try rht.forward([], columns: columns) } // the column check first
        let s = tensorScale(forMaxMagnitude: try maxMagnitude(values, firstIndex: 0))
        var statistics = QuantizationStatistics()
        let (codes, blockScales) = try quantizeRows(values, rows: rows, columns: columns, firstRow: 0, tensorScale: s, statistics: &statistics)
        return BlockQuantizedTensor(scheme: scheme, rows: rows, columns: columns, blockSize: blockSize, blockRows: blockRows, scaleFormat: scaleFormat, codes: codes,
                                    blockScales: blockScales, tensorScale: s, tensorScaleForm: scheme == .nvfp4 ? nvfp4TensorScale : .decode,
                                    statistics: statistics)
    }

    /// Blocks per row of a tensor with `columns` columns.
    public func blocksPerRow(columns: Int) -> Int { (columns + blockSize - 1) / blockSize }

    /// The number of block scales of a rows × columns tensor.
    public func blockScaleCount(rows: Int, columns: Int) -> Int { blockRowCount(rows: rows) * blocksPerRow(columns: columns) }

    /// Rows of blocks in a tensor (or a streamed row block) of `rows` rows.
    public func blockRowCount(rows: Int) -> Int { (rows + blockRows - 1) / blockRows }

    /// max|x| of `values` (NVFP4's first pass over a streamed tensor); a non-finite value throws,
    /// named by its flat index (`firstIndex` is that of `values[0]`).
    /// With an RHT, the max of the transformed values (`values` whole rows of a multiple of 16 columns).
    public func maxMagnitude(_ values: [Float], firstIndex: Int) throws -> Float {
        var m: Float = 0
        for (i, v) in values.enumerated() {
            guard v.isFinite else { throw QuantizationError.nonFinite(index: firstIndex + i, value: v) }
            m = max(m, abs(v))
        }
        guard let rht = variant.rht else { return m }
        guard values.count % RandomHadamardTransform.size == 0 else {
            throw QuantizationError.shapeMismatch("the 16-point RHT needs a column count that is a multiple of 16")
        }
        return try rht.forward(values, columns: RandomHadamardTransform.size).reduce(0) { max($0, abs($1)) }
    }

    /// Quantizes rows `firstRow ..< firstRow + rows` given as their own row-major block, with the
    /// whole tensor's `tensorScale` (`tensorScale(forMaxMagnitude:)`; 1 for MXFP4): the codes and
    /// block scale codes `quantize` gives for those rows. `firstRow` must be a multiple of
    /// `blockRows` (so must `rows`, except for the tensor's last rows). Block statistics are added
    /// to `statistics` in block order, so streamed blocks sum exactly as one call.
    public func quantizeRows(_ values: [Float], rows: Int, columns: Int, firstRow: Int, tensorScale s: Float,
                             statistics: inout QuantizationStatistics) throws -> (codes: [UInt8], blockScales: [UInt8]) {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) block")
        }
        guard firstRow % blockRows == 0 else {
            throw QuantizationError.shapeMismatch("a row block of 16x16 tiles starts at row \(firstRow), not a multiple of \(blockRows)")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) { throw QuantizationError.nonFinite(index: firstRow * columns + i, value: values[i]) }
        let original = values
        let rht = variant.rht
        let values = try rht?.forward(values, columns: columns) ?? values
        let perRow = blocksPerRow(columns: columns), tileRows = blockRows
        let decodeScale = nvfp4TensorScale.decodeScale(s)
        var codes = [UInt8](repeating: 0, count: values.count)
        let blocks = blockRowCount(rows: rows) * perRow
        var blockScales = [UInt8](repeating: 0, count: blocks)
        if blocks == 0 { return (codes, blockScales) }
        // Blocks are independent; statistics are merged in block order so the sums (and the
        // output bytes) do not depend on scheduling.
        var blockStatistics = [QuantizationStatistics](repeating: QuantizationStatistics(), count: blocks)
        let chunks = min(blocks, max(1, ProcessInfo.processInfo.activeProcessorCount * 4))
        original.withUnsafeBufferPointer { original in
        values.withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { codes in
                blockScales.withUnsafeMutableBufferPointer { scales in
                    blockStatistics.withUnsafeMutableBufferPointer { stats in
                        // Each block writes only its own codes, scale and statistics slot.
                        let shared = Shared((x: x, original: original, codes: codes, scales: scales, stats: stats))
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let w = shared.value
                            for b in stride(from: chunk, to: blocks, by: chunks) {
                                let rowRange = (b / perRow) * tileRows..<min(rows, (b / perRow + 1) * tileRows)
                                let column = (b % perRow) * blockSize
                                let length = min(blockSize, columns - column)
                                var blockMax: Float = 0
                                for r in rowRange { for i in (r * columns + column)..<(r * columns + column + length) { blockMax = max(blockMax, abs(w.x[i])) } }
                                let code = blockScaleCode(forMaxMagnitude: blockMax, tensorScale: s, block: (firstRow / tileRows) * perRow + b)
                                w.scales[b] = code
                                let block = scaleFormat.decode(UInt32(code))
                                let scale = block * Double(decodeScale)
                                let binary32 = elementScaling(block: Float(block), tensorScale: s)
                                var st = QuantizationStatistics()
                                for r in rowRange {
                                    st = elements.quantize(w.x, w.codes, start: r * columns + column, length: length, scale: blockMax == 0 ? 0 : scale,
                                                           binary32: binary32, indexBase: firstRow * columns, continuing: st)
                                }
                                if let rht {
                                    // The error sums in the original domain: each group of 16 dequantized,
                                    // inverse-transformed (binary64) and compared with the input.
                                    st.sumSquaredError = 0
                                    st.sumSquaredSignal = 0
                                    for r in rowRange {
                                        for g in stride(from: r * columns + column, to: r * columns + column + length, by: RandomHadamardTransform.size) {
                                            let y = (g..<(g + RandomHadamardTransform.size)).map { LevelFormat.fp4.decodeSteps(w.codes[$0]) * scale }
                                            for (k, v) in rht.inverse(y).enumerated() {
                                                let xd = Double(w.original[g + k]), err = xd - v
                                                st.sumSquaredError += err * err
                                                st.sumSquaredSignal += xd * xd
                                            }
                                        }
                                    }
                                }
                                w.stats[b] = st
                            }
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
