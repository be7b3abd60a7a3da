import ArgumentParser
import Foundation
import Formats
import TensorIO

@main
struct Dintsim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dintsim",
        abstract: "Bit-exact reference and cycle-level simulator of dINT / INT low-bit quantization arithmetic.",
        discussion: """
        Exit codes: 0 success; 1 a check or verification found a mismatch; 2 bad input or usage.
        """,
        subcommands: [ReportCommand.self, FormatsCommand.self, QuantizeCommand.self, UnderflowCommand.self, SimulateCommand.self, TahQuantCommand.self, VectorsCommand.self, CheckCommand.self, BenchCommand.self, MergeCommand.self, AqasCommand.self, ExportCommand.self])

    /// Parses and runs, mapping every failure to the documented exit codes (ArgumentParser's own
    /// usage errors would otherwise exit 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("dintsim: \(error.message)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) } // --help, --version
            FileHandle.standardError.write(Data("dintsim: \(describe(error))\n".utf8))
            Foundation.exit(2)
        }
    }

    static func describe(_ error: Error) -> String {
        let message = fullMessage(for: error)
        return message.isEmpty ? "\(error)" : message
    }
}

/// An error the CLI reports with a chosen exit code.
struct CLIError: Error {
    let message: String
    let exitCode: Int32
    static func badInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
}

/// Errors from library modules carry their own text; wrap them so they exit 2 with it.
func badInput<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as CLIError { throw e } catch let e as CustomStringConvertible {
        throw CLIError.badInput(e.description)
    } catch {
        throw CLIError.badInput("\(error)")
    }
}

/// The bytes of every JSON file the CLI writes: pretty-printed, keys sorted, a final newline.
/// One encoder configuration, so that merged shard outputs equal single runs byte for byte.
func jsonFileBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try badInput { Array(try encoder.encode(value)) + [0x0A] }
}

func printOut(_ text: String) {
    FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}
