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
        Exit codes: 0 success; 1 a check or verification found a mismatch; 2 bad input or usage; 130 / 143 \
        interrupted by SIGINT / SIGTERM (temporaries removed, no output replaced). Outputs follow one policy \
        (docs/cli.md, "Outputs"): files are replaced atomically, links followed, FIFOs and devices written through, \
        and an output that is the same file as an input is refused before any work.
        """,
        version: DintsimVersion.string,
        subcommands: [ReportCommand.self, FormatsCommand.self, QuantizeCommand.self, UnderflowCommand.self, SimulateCommand.self, TahQuantCommand.self, VectorsCommand.self, CheckCommand.self, BenchCommand.self, MergeCommand.self, AqasCommand.self, ExportCommand.self])

    /// Parses (paths as bytes: `FilePaths.arguments`), checks the files a command declares, runs,
    /// and maps every failure to the documented exit codes with one line on stderr (ArgumentParser's
    /// own usage errors would otherwise exit 64 with several lines).
    static func main() {
        Interrupts.install()
        let arguments = Array(FilePaths.arguments().dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if let declared = command as? DeclaresFiles {
                try declared.files.check()
                // Standard output carries data: the summary goes to stderr instead.
                if declared.files.outputs.contains("-") { summaryDescriptor = 2 }
            }
            try command.run()
        } catch let error as CLIError {
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) } // --help, --version
            printError(usageLine(error, arguments: arguments))
            Foundation.exit(2)
        }
    }

    /// ArgumentParser's message on one line, with where to read more.
    static func usageLine(_ error: Error, arguments: [String]) -> String {
        var message = message(for: error)
        if message.isEmpty { message = ErrorText.describe(error) }
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var text = lines.joined(separator: "; ")
        if text.hasPrefix("Error: ") { text.removeFirst(7) }
        let path = subcommandPath(arguments)
        return text + " (see dintsim \(path.isEmpty ? "" : path + " ")--help)"
    }

    /// The subcommand names at the front of the arguments ("vectors generate").
    static func subcommandPath(_ arguments: [String]) -> String {
        var names = [String](), command: ParsableCommand.Type = Dintsim.self
        for a in arguments {
            guard let next = command.configuration.subcommands.first(where: { $0.configuration.commandName == a || "\($0)".lowercased() == a }) else { break }
            names.append(a); command = next
        }
        return names.joined(separator: " ")
    }
}

/// An error the CLI reports with a chosen exit code.
struct CLIError: Error {
    let message: String
    let exitCode: Int32
    static func badInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
}

/// Errors from library modules carry their own text; wrap them so they exit 2 with it (never
/// Foundation's own text: `ErrorText`).
func badInput<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as CLIError { throw e } catch {
        throw CLIError.badInput(ErrorText.describe(error))
    }
}

/// The files a command reads and writes, checked before any work (`Files.checkDistinct`).
struct FileUse {
    var inputs: [String?] = []
    var outputs: [String?] = []
    var inputDirectories: [String?] = []
    var outputDirectories: [String?] = []

    func check() throws {
        try badInput {
            try Files.checkDistinct(inputs: inputs.compactMap { $0 }, outputs: outputs.compactMap { $0 },
                                    inputDirectories: inputDirectories.compactMap { $0 }, outputDirectories: outputDirectories.compactMap { $0 })
        }
    }
}

/// A command that names its inputs and outputs, so that `main` can refuse an output that would
/// destroy an input before the command does any work.
protocol DeclaresFiles { var files: FileUse { get } }

/// The bytes of every JSON file the CLI writes: pretty-printed, keys sorted, a final newline.
/// One encoder configuration, so that merged shard outputs equal single runs byte for byte.
func jsonFileBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try badInput { Array(try encoder.encode(value)) + [0x0A] }
}

/// Writes to a descriptor, ignoring a closed pipe (`dintsim … | head`).
private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        bytes = bytes.dropFirst(n)
    }
}

/// Where `printOut` writes: standard output, or stderr when an output is `-`.
nonisolated(unsafe) var summaryDescriptor: Int32 = 1

func printOut(_ text: String) {
    writeAll(summaryDescriptor, FilePaths.display(text.hasSuffix("\n") ? text : text + "\n"))
}

/// One line on stderr: `dintsim: message`.
func printError(_ message: String) {
    let line = message.split(separator: "\n").joined(separator: "; ")
    writeAll(2, FilePaths.display("dintsim: \(line)\n"))
}

/// A progress line on stderr.
func printProgress(_ text: String) {
    writeAll(2, FilePaths.display(text + "\n"))
}
