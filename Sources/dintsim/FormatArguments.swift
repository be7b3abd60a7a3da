import ArgumentParser
import Formats
import Quantization
import TensorIO
import Workflows
import Foundation

/// `--format NAME` resolves a preset name, or `codebook:PATH` a user code book JSON file.
func resolveFormat(_ name: String) throws -> LevelFormat {
    if name.hasPrefix("codebook:") {
        return try badInput { try CodeBookFile.load(String(name.dropFirst("codebook:".count))) }
    }
    return try badInput { try LevelFormat.preset(named: name) }
}

extension RoundingRule: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension Granularity: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var defaultCompletionKind: CompletionKind { .list(["tensor", "channel", "group:128"]) }
}

extension NonFinitePolicy: ExpressibleByArgument {}
extension MXScaleRule: ExpressibleByArgument {}
extension SignedZero: ExpressibleByArgument {}
extension NVFP4TensorScale: ExpressibleByArgument {}
extension NVFP4ElementDivision: ExpressibleByArgument {}
extension NVFP4BlockScale: ExpressibleByArgument {}
extension NVFP4ScaleFloor: ExpressibleByArgument {}
extension NVFP4Blocks: ExpressibleByArgument {}
extension NVFP4ScaleFormat: ExpressibleByArgument {}
extension NVFP4ScaleRounding: ExpressibleByArgument {}
extension RandomHadamardTransform.Output: ExpressibleByArgument {}
extension BlockFloatConvention: ExpressibleByArgument {}

/// Reads a 2-D float32/float16 `.npy` as binary32 values.
func readMatrix(_ path: String) throws -> (values: [Float], rows: Int, columns: Int) {
    try badInput {
        let array = try Files.readNpy(path)
        let (rows, columns) = try array.matrixShape()
        return (try array.floatValues(), rows, columns)
    }
}

/// Reads one 2-D F32/F16/BF16 tensor of a checkpoint as binary32 values.
func readMatrix(_ checkpoint: SafetensorsFile, tensor: String) throws -> (values: [Float], rows: Int, columns: Int) {
    try badInput {
        let (values, shape) = try checkpoint.floatValues(tensor)
        guard shape.count == 2 else { throw TensorIOError.unsupported("tensor '\(tensor)' has shape \(shape); a 2-D tensor is required") }
        return (values, shape[0], shape[1])
    }
}

/// Reads a 2-D tensor from a `.npy`, or from a `.safetensors` checkpoint when `tensor` names one.
func readMatrix(_ path: String, tensor: String?) throws -> (values: [Float], rows: Int, columns: Int) {
    guard path.hasSuffix(".safetensors") else {
        if tensor != nil { throw CLIError.badInput("--tensor applies to a .safetensors input, not \(path)") }
        return try readMatrix(path)
    }
    guard let tensor else { throw CLIError.badInput("\(path) is a checkpoint: name the tensor with --tensor NAME") }
    return try readMatrix(try badInput { try SafetensorsFile.load(path) }, tensor: tensor)
}

/// A 2-D tensor to stream: a `.npy` read in row blocks, or a checkpoint's tensor (loaded whole).
func rowSource(_ path: String, tensor: String?) throws -> RowSource {
    guard path.hasSuffix(".safetensors") else {
        if tensor != nil { throw CLIError.badInput("--tensor applies to a .safetensors input, not \(path)") }
        return try badInput { try NpyMatrixReader(path: path) }
    }
    let (values, rows, columns) = try readMatrix(path, tensor: tensor)
    return InMemoryMatrix(values, rows: rows, columns: columns)
}

/// Progress on stderr for row-block work: a line per second at most, none for runs under a second.
func rowProgress(_ label: String) -> StreamingQuantization.Progress {
    let start = DispatchTime.now().uptimeNanoseconds
    var last = start
    return { pass, done, total in
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - last >= 1_000_000_000 || (done == total && now - start >= 1_000_000_000) else { return }
        last = now
        printProgress("\(label): \(pass) \(done)/\(total) rows")
    }
}

/// Progress on stderr for staged work (`stage done/total unit`): a line per second at most.
func stageProgress(_ label: String, unit: String) -> (String, Int, Int) -> Void {
    var last = DispatchTime.now().uptimeNanoseconds
    return { stage, done, total in
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - last >= 1_000_000_000 else { return }
        last = now
        printProgress("\(label): \(stage) \(done)/\(total) \(stage == "grid" ? "points" : unit)")
    }
}


import Foundation

/// The file a `codebook:PATH` format name reads, if any.
func codeBookPath(_ format: String) -> String? {
    format.hasPrefix("codebook:") ? String(format.dropFirst("codebook:".count)) : nil
}
