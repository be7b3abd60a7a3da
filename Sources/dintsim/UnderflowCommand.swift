import ArgumentParser
import Foundation
import Formats
import Quantization
import TensorIO
import Vectors
import Workloads
import Workflows

struct UnderflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "underflow",
        abstract: "INT4, symmetric INT4, dINT4 and the FP4 formats side by side: underflow, clipping, MSE, SQNR, bits per element.",
        discussion: """
        Without --input, runs on seeded synthetic weights of every distribution (or the one named). Level formats \
        (int4, int4-sym, dint4, fp4 = E2M1 levels, …) use --granularity with an FP32 scale per group; mxfp4 and \
        nvfp4 use their own blocks (32 with a UE8M0 scale, 16 with an E4M3 scale and an FP32 tensor scale) \
        along each row, whatever --granularity says. --input takes a .npy or a .safetensors checkpoint with \
        --tensor NAME (one tensor) or --tensors REGEX (every 2-D float tensor whose name matches, e.g. every \
        linear layer). --shard i/n measures only the i-th of n contiguous slices of the data sets; \
        `dintsim merge` joins the shards' --json files into the single run's bytes (docs/scaling.md).
        """)

    @Option(help: "A 2-D float32/float16 .npy, or a .safetensors checkpoint (with --tensor or --tensors), to measure instead of synthetic data.")
    var input: String?
    @Option(help: "With a .safetensors --input: the tensor to measure.") var tensor: String?
    @Option(help: "With a .safetensors --input: a regular expression; every 2-D F32/F16/BF16 tensor whose name matches.") var tensors: String?
    @Option(help: "Synthetic distribution: \(Distribution.allCases.map(\.rawValue).joined(separator: ", ")) (default: all).")
    var distribution: Distribution?
    @Option(help: "Rows of the synthetic tensor (default 256).") var rows: Int?
    @Option(help: "Columns of the synthetic tensor (default 1024).") var columns: Int?
    @Option(help: "Seed of the synthetic data and of stochastic rounding.") var seed: UInt64 = 0
    @Option(help: "tensor, channel or group:G.") var granularity: Granularity = .channel
    @Option(help: "Rounding rule.") var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Formats to compare, comma-separated: level formats, any block format variant name: mxfp4[:CONVENTION][:floor|ceil|rceil|even|stochastic], nvfp4[:CONVENTION][:decode|encode|encode-reciprocal][:exact|reciprocal|quotient|global-over-block]… as in quantize (docs/quantization.md; stochastic scales draw from --seed).") var formats = "int4,int4-sym,dint4,fp4,mxfp4,nvfp4"
    @Option(help: "Also write the rows as JSON here.") var json: String?
    @Option(help: "Measure only shard i of n (0-based) of the data sets, e.g. 0/4.") var shard = "0/1"

    func validate() throws {
        guard (1...1 << 14).contains(rows ?? 256), (1...1 << 16).contains(columns ?? 1024) else {
            throw ValidationError("--rows must be in 1...16384 and --columns in 1...65536")
        }
        if input != nil {
            if distribution != nil { throw ValidationError("--distribution chooses synthetic data; with --input your tensor is measured: drop one") }
            if rows != nil || columns != nil { throw ValidationError("--rows and --columns size synthetic data; with --input the tensor's shape is used: drop them") }
        }
        if (tensor != nil || tensors != nil) && !(input?.hasSuffix(".safetensors") ?? false) {
            throw ValidationError("--tensor and --tensors need a .safetensors --input")
        }
        if tensor != nil && tensors != nil { throw ValidationError("give --tensor or --tensors, not both") }
    }

    func run() throws {
        let choices: [UnderflowComparison.Choice] = try formats.split(separator: ",").map { name in
            if let v = try badInput({ try BlockFloatVariant(parsing: String(name)) }) { return .block(v) }
            return .level(try resolveFormat(String(name)))
        }
        let part = try badInput { try Shard(parsing: shard) }
        let dataSets: [UnderflowComparison.DataSet]
        if let input, input.hasSuffix(".safetensors") {
            let checkpoint = try badInput { try SafetensorsFile.load(input) }
            let names: [String]
            if let tensors { names = try badInput { try checkpoint.matrixNames(matching: tensors) } }
            else if let tensor { names = [tensor] }
            else { throw CLIError.badInput("a .safetensors --input needs --tensor NAME or --tensors REGEX") }
            guard !names.isEmpty else { throw CLIError.badInput("no 2-D float tensor in \(input) matches '\(tensors ?? "")'") }
            dataSets = UnderflowComparison.DataSet.tensors(names, of: checkpoint)
        } else if let input {
            dataSets = [.init(name: FilePaths.split(input).name) { try NpyMatrixReader(path: input) }]
        } else {
            dataSets = UnderflowComparison.DataSet.synthetic(distribution.map { [$0] } ?? Distribution.allCases, rows: rows ?? 256, columns: columns ?? 1024, seed: seed)
        }
        let rows = try badInput {
            try UnderflowComparison.measure(dataSets, selected: part.range(of: dataSets.count), formats: choices, granularity: granularity,
                                            rounding: rounding, seed: seed, progress: rowProgress("underflow"))
        }
        if let json { try badInput { try Files.writeAtomically(try jsonFileBytes(rows), to: json) } }
        printOut(UnderflowComparison.markdown(rows, rounding: rounding))
    }
}

extension Distribution: ExpressibleByArgument {}

extension UnderflowCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [input] + formats.split(separator: ",").map { codeBookPath(String($0)) }, outputs: [json]) }
}
