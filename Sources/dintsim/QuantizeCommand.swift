import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO
import Workflows

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a 2-D tensor (rows = output channels): symmetric max-scaling to a level format, or an FP4 block format.",
        discussion: """
        Level formats need --granularity and write one float32 scale per group. mxfp4 / nvfp4 use their own blocks \
        along each row (32 / 16 elements; --granularity is refused) and write the block scale codes as uint8 \
        (UE8M0 / E4M3 bits, shape [rows, blocks]); NVFP4's FP32 tensor scale is printed and goes into --stats-json.
        """)

    @Option(help: "Level format (dint4, fp4, int4, int4-sym, int8-sym, int8, codebook:FILE.json) or block format (mxfp4, nvfp4).")
    var format: String
    @Option(help: "tensor, channel (per row; per token for activations) or group:G (G consecutive elements of a row). Level formats only.")
    var granularity: Granularity?
    @Option(help: "Rounding rule: \(RoundingRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Seed of the counter-based generator (stochastic rounding of elements or block scales).")
    var seed: UInt64 = 0
    @Option(help: "With --rounding stochastic (or stochastic block scales): random bits drawn per element (per block scale), 1-16 (default 16; 8 is the FP4 training recipes' software rounder). docs/formats.md, \"A B-bit rounder\".")
    var stochasticBits: Int = 16
    @Option(help: "Input: 2-D float32 or float16 .npy, or a .safetensors checkpoint with --tensor.")
    var input: String
    @Option(help: "With a .safetensors --input: the tensor (F32, F16 or BF16, 2-D).")
    var tensor: String?
    @Option(help: "Output: uint8 .npy of raw code bit patterns, same shape as the input.")
    var codesOut: String
    @Option(help: "Output: float32 .npy of scales, one per group.")
    var scalesOut: String
    @Option(help: "Also write the statistics as JSON here.")
    var statsJson: String?
    @Option(help: "A library's or spec's FP4 conventions at once, for mxfp4 / nvfp4: \(BlockFloatConvention.allCases.map(\.rawValue).joined(separator: ", ")) (ocp: mxfp4 only). The options below override single rules. docs/quantization.md, \"Conventions\".")
    var convention: BlockFloatConvention?
    @Option(help: "The code of a negative value (or −0) at level 0 in formats with a negative zero (E2M1: fp4, mxfp4, nvfp4): keep (1000, as IEEE conversion and most FP4 libraries; default), flush (0000) or sign-of-value (1000 for x < 0 only, so −0.0 gives 0000: compressed-tensors). docs/quantization.md, \"Sign of zero\".")
    var signedZero: SignedZero?
    @Option(help: "nvfp4's tensor scale: decode (S = M / 2688, default), encode (G = 2688 / M, NVIDIA's recipe; written and printed in that form) or encode-reciprocal (G = fl32(2688 · fl32(1 / M)), 1 on overflow: compressed-tensors). docs/quantization.md, \"NVFP4 conventions\".")
    var nvfp4TensorScale: NVFP4TensorScale?
    @Option(help: "nvfp4's block-scale quotient before E4M3 rounding: exact-quotient (default with decode), amax-first (fl32(m/6) first: torchao, compressed-tensors) or scale-first (fl32(m · fl32(G · fl32(1/6))): TransformerEngine; default with encode).")
    var nvfp4BlockScale: NVFP4BlockScale?
    @Option(help: "nvfp4's element division: exact (x / (b·S), default), reciprocal (fl32(x · fl32(1 / fl32(b·S))), TransformerEngine) quotient (fl32(x / fl32(b·S)), or fl32(x / fl32(b / G)) with encode: compressed-tensors) or global-over-block (fl32(x · fl32(fl32(1 / S) / b)), or fl32(x · fl32(G / b)) with encode: torchao).")
    var nvfp4ElementDivision: NVFP4ElementDivision?
    @Option(help: "nvfp4's zero and underflowing block scales: allow-zero (code 0, default), min-normal (raised to 2^-6 before rounding: torchao) or eighth (code 0 becomes 0.125: compressed-tensors).")
    var nvfp4ScaleFloor: NVFP4ScaleFloor?
    @Option(help: "nvfp4's block shape: 1x16 (16 elements of a row, default) or 16x16 (16 × 16 tiles, NVIDIA's training recipe for weights; the scales .npy is then [⌈rows/16⌉, ⌈cols/16⌉]).")
    var nvfp4Blocks: NVFP4Blocks?
    @Option(help: "nvfp4's block-scale format: e4m3 (the format's definition, default) or ue5m3 (unsigned, 5 exponent bits, 3 fraction bits, bias 15: the FP4 training studies' proposal; the tensor scale then maps max|x| to 6 · 114688).")
    var nvfp4ScaleFormat: NVFP4ScaleFormat?
    @Option(help: "nvfp4's block-scale rounding to E4M3 / UE5M3: nearest (ties to even, default) or stochastic (from --seed, --stochastic-bits bits per block scale). docs/quantization.md, \"Stochastic block scales\".")
    var nvfp4ScaleRounding: NVFP4ScaleRounding?
    @Option(help: "mxfp4 / nvfp4: apply the 16-point random Hadamard transform to each run of 16 elements of a row before quantizing: 16 (signs from seed 0), 16:SEED, or 16:te (TransformerEngine's fixed signs). Codes and scales are of the transformed tensor; MSE and SQNR compare the input with the inverse transform of the dequantized values. docs/quantization.md, \"Random Hadamard transform\".")
    var rht: String?
    @Option(help: "With --rht: the transformed values' precision before quantization, fp32 (default) or bf16.")
    var rhtOutput: RandomHadamardTransform.Output?
    @Option(help: "With --rht: the 16 signs from a text file (16 entries +1 or -1, separated by spaces, commas or newlines) instead of a seed.")
    var rhtSigns: String?
    @Option(help: "mxfp4's shared-exponent rule: floor (OCP MX v1.0, default), ceil, rceil (NVIDIA cuBLAS), even (torchao EVEN), stochastic (m / 6 rounded stochastically onto the powers of two, from --seed). docs/quantization.md, \"MX scale rules\".")
    var mxScale: MXScaleRule?
    @Option(help: "Accept NaN/Inf inputs: zero (they become 0) or saturate (±Inf to the extreme levels, NaN to 0).")
    var allowNonfinite: NonFinitePolicy?

    func validate() throws {
        if allowNonfinite == .error { throw ValidationError("--allow-nonfinite takes zero or saturate") }
        if stochasticBits != 16 && rounding != .stochastic && mxScale != .stochastic && nvfp4ScaleRounding != .stochastic {
            throw ValidationError("--stochastic-bits applies to --rounding stochastic, --mx-scale stochastic or --nvfp4-scale-rounding stochastic")
        }
        if BlockFloatScheme(rawValue: format) != nil {
            if granularity != nil { throw ValidationError("--granularity does not apply to \(format) (its blocks are fixed)") }
            if allowNonfinite != nil { throw ValidationError("--allow-nonfinite does not apply to \(format) (NaN/Inf are refused)") }
        }
        if mxScale != nil && format != BlockFloatScheme.mxfp4.rawValue {
            throw ValidationError("--mx-scale applies to --format mxfp4 only (nvfp4's block scales are E4M3)")
        }
        if (nvfp4TensorScale != nil || nvfp4BlockScale != nil || nvfp4ElementDivision != nil || nvfp4ScaleFloor != nil || nvfp4Blocks != nil || nvfp4ScaleFormat != nil
            || nvfp4ScaleRounding != nil) && format != BlockFloatScheme.nvfp4.rawValue {
            throw ValidationError("--nvfp4-tensor-scale, --nvfp4-block-scale, --nvfp4-element-division, --nvfp4-scale-floor, --nvfp4-blocks, --nvfp4-scale-format and --nvfp4-scale-rounding apply to --format nvfp4 only")
        }
        if (rht != nil || rhtOutput != nil || rhtSigns != nil) && BlockFloatScheme(rawValue: format) == nil {
            throw ValidationError("--rht applies to the block formats mxfp4 and nvfp4")
        }
        if (rhtOutput != nil || rhtSigns != nil) && rht == nil { throw ValidationError("--rht-output and --rht-signs go with --rht 16") }
        if convention != nil && BlockFloatScheme(rawValue: format) == nil {
            throw ValidationError("--convention applies to the block formats mxfp4 and nvfp4; for \(format) choose --signed-zero alone")
        }
        if BlockFloatScheme(rawValue: format) != nil {
        } else if granularity == nil {
            throw ValidationError("--granularity is required for level formats")
        }
    }

    func run() throws {
        let source = try rowSource(input, tensor: tensor)
        let codes = try badInput { try OutputFile(path: codesOut) }, scales = try badInput { try OutputFile(path: scalesOut) }
        let progress = rowProgress("quantize")
        let line: String, statsBytes: [UInt8]?
        if let scheme = BlockFloatScheme(rawValue: format) {
            let quantizer = try badInput { try BlockFloatQuantizer(try variant(scheme), rounding: rounding, seed: seed, stochasticBits: stochasticBits) }
            let form = scheme == .nvfp4 ? quantizer.nvfp4TensorScale : .decode
            let r = try withNonFiniteHint { try StreamingQuantization.quantize(source, with: quantizer, codes: codes, scales: scales, progress: progress) }
            let bits = "0x" + String(r.tensorScale.bitPattern, radix: 16)
            statsBytes = try statsJson.map { _ in
                try jsonFileBytes(BlockStatistics(format: quantizer.variant.name, blockSize: r.blockSize, tensorScale: r.tensorScale, tensorScaleBits: bits,
                                                  tensorScaleForm: form.rawValue, elementDivision: quantizer.nvfp4ElementDivision.rawValue, statistics: r.statistics))
            }
            line = """
                quantized \(r.rows) × \(r.columns) to \(quantizer.variant.name)\(convention.map { " (\($0.rawValue) convention)" } ?? ""), blocks of \(r.blockRows == 1 ? "" : "\(r.blockRows) × ")\(r.blockSize), \(rounding): \(r.blockScaleCount) \(quantizer.scaleFormat.name) block scale(s), tensor scale \(form.isEncodeForm ? "(encode form G) " : "")\(r.tensorScale) (\(bits))
                \(Self.summary(r.statistics))
                """
        } else {
            let granularity = granularity!
            let fmt = try resolveFormat(format)
            let quantizer = try badInput {
                try SymmetricQuantizer(format: fmt, granularity: granularity, rounding: rounding, seed: seed, nonFinite: allowNonfinite ?? .error, signedZero: signedZero ?? .keep,
                                       stochasticBits: stochasticBits)
            }
            let r = try withNonFiniteHint { try StreamingQuantization.quantize(source, with: quantizer, codes: codes, scales: scales, progress: progress) }
            statsBytes = try statsJson.map { _ in try jsonFileBytes(r.statistics) }
            line = """
                quantized \(r.rows) × \(r.columns) to \(fmt.name), \(granularity), \(rounding): \(r.scaleCount) scale(s)
                \(Self.summary(r.statistics))
                """
        }
        var writers = [codes, scales]
        if let statsJson, let statsBytes {
            let w = try badInput { try OutputFile(path: statsJson) }
            try badInput { try w.write(statsBytes) }
            writers.append(w)
        }
        // Everything is written and synced before the first rename.
        try badInput { for w in writers { try w.finish() }; for w in writers { try w.commit() } }
        printOut(line)
    }

    /// The block format's variant: the convention's (or the defaults), then each option given.
    func variant(_ scheme: BlockFloatScheme) throws -> BlockFloatVariant {
        var transform: RandomHadamardTransform?
        if let rht {
            transform = try RandomHadamardTransform(parsing: rht, output: rhtOutput ?? .fp32)
            if let rhtSigns {
                let signs = try RandomHadamardTransform.signs(parsing: String(decoding: try Files.read(rhtSigns), as: UTF8.self), source: rhtSigns)
                transform = try RandomHadamardTransform(signs: .explicit(signs), output: transform!.output)
            }
        }
        return try BlockFloatVariant(scheme, convention: convention, mxScale: mxScale, nvfp4TensorScale: nvfp4TensorScale,
                                     nvfp4BlockScale: nvfp4BlockScale, nvfp4ElementDivision: nvfp4ElementDivision, nvfp4ScaleFloor: nvfp4ScaleFloor,
                                     nvfp4Blocks: nvfp4Blocks, nvfp4ScaleFormat: nvfp4ScaleFormat, nvfp4ScaleRounding: nvfp4ScaleRounding,
                                     signedZero: signedZero, rht: transform)
    }

    /// quantize's own option for the non-finite refusal.
    func withNonFiniteHint<T>(_ body: () throws -> T) throws -> T {
        do { return try badInput(body) } catch let e as CLIError where e.message.hasPrefix("non-finite input") {
            throw CLIError.badInput(e.message + ", or accept them with --allow-nonfinite zero|saturate")
        }
    }

    /// The statistics line both forms print.
    static func summary(_ stats: QuantizationStatistics) -> String {
        "underflow \(FigureText.percent(stats.underflowRate)) (\(stats.underflowCount) of \(stats.nonzeroCount) non-zero), clip \(FigureText.percent(stats.clipRate)) (\(stats.clipCount)), MSE \(FigureText.scientific(stats.meanSquaredError)), SQNR \(FigureText.decibels(stats.sqnrDecibels))"
    }

    /// Block statistics JSON: the statistics plus the scheme and NVFP4's tensor scale.
    struct BlockStatistics: Encodable {
        let format: String
        let blockSize: Int
        let tensorScale: Float
        let tensorScaleBits: String
        /// "decode" (S) or "encode" (G = 2688 / M): the form `tensor_scale` is written in.
        let tensorScaleForm: String
        let elementDivision: String
        let statistics: QuantizationStatistics
        enum CodingKeys: String, CodingKey {
            case format, blockSize = "block_size", tensorScale = "tensor_scale", tensorScaleBits = "tensor_scale_bits"
            case tensorScaleForm = "tensor_scale_form", elementDivision = "element_division", statistics
        }
    }
}

extension QuantizeCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [input, codeBookPath(format), rhtSigns], outputs: [codesOut, scalesOut, statsJson]) }
}
