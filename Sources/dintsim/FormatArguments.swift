import ArgumentParser
import Formats
import Quantization
import TensorIO

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

/// Reads a 2-D float32/float16 `.npy` as binary32 values.
func readMatrix(_ path: String) throws -> (values: [Float], rows: Int, columns: Int) {
    try badInput {
        let array = try Files.readNpy(path)
        let (rows, columns) = try array.matrixShape()
        return (try array.floatValues(), rows, columns)
    }
}

/// Formats a statistics row for the Markdown tables.
func percent(_ x: Double) -> String { String(format: "%.3f %%", 100 * x) }
func decibels(_ x: Double) -> String { x.isFinite ? String(format: "%.2f dB", x) : "∞" }
func scientific(_ x: Double) -> String { String(format: "%.4e", x) }

import Foundation
