import ArgumentParser
import Foundation
import Reports
import TensorIO
import Vectors
import Workflows

/// Joins the outputs of `--shard i/n` runs into what the single run writes, byte for byte.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join shard outputs into the single run's: vector directories, underflow --json files or report --sweep --json files.",
        discussion: """
        Vector shards: directories from `vectors generate --shard i/n` (checksums verified, files concatenated, \
        manifest and layout.vh rewritten). Underflow: the --json files of `underflow --shard i/n` (rows renumbered \
        by the single run's order, every row present once). Report: the --json files of `report --sweep --shard i/n` \
        (everything but the sweep must agree; sweep rows concatenated). The kind is recognised from the inputs. \
        Nothing is written unless the whole merge succeeds. See docs/scaling.md.
        """)

    @Option(help: "The merged output: a directory (vectors) or a JSON file.") var out: String
    @Argument(help: "The shard outputs, in any order.") var shards: [String]

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give the shard outputs to merge") }
    }

    func run() throws {
        if Files.isDirectory(shards[0]) {
            let summary = try badInput { try VectorGenerator.merge(shards: shards, into: out) }
            announceStaleLock(summary, out)
            printOut("merged \(shards.count) vector shards into \(out): \(summary.cases) cases, \(summary.lines) lines")
            printScore(summary)
            return
        }
        let texts = try shards.map { path in try badInput { try Files.read(path) } }
        let objects = try zip(shards, texts).map { (path, bytes) -> Any in
            guard let o = try? JSONSerialization.jsonObject(with: Data(bytes)) else { throw CLIError.badInput("\(path): not JSON") }
            return o
        }
        if objects.allSatisfy({ $0 is [Any] }) {
            try mergeUnderflow(texts)
        } else if objects.allSatisfy({ ($0 as? [String: Any])?["sweep_shard"] != nil }) {
            try mergeReports(texts)
        } else {
            throw CLIError.badInput("the inputs are neither all underflow --json files nor all report --json files")
        }
    }

    func mergeUnderflow(_ texts: [[UInt8]]) throws {
        let parts = try zip(shards, texts).map { (path, bytes) in
            try badInput {
                do { return try JSONDecoder().decode([UnderflowComparison.Row].self, from: Data(bytes)) } catch {
                    throw CLIError.badInput("\(path): not an underflow --json file (\(ErrorText.describe(error)))")
                }
            }
        }
        let rows = try badInput { try UnderflowComparison.merge(parts) }
        let bytes = try jsonFileBytes(rows)
        try badInput { try Files.writeAtomically(bytes, to: out) }
        printOut("merged \(shards.count) underflow shards into \(out): \(rows.count) rows")
    }

    func mergeReports(_ texts: [[UInt8]]) throws {
        let parts = try zip(shards, texts).map { (path, bytes) in
            try badInput {
                do { return try JSONDecoder().decode(ReportDocument.self, from: Data(bytes)) } catch {
                    throw CLIError.badInput("\(path): not a report --json file (\(ErrorText.describe(error)))")
                }
            }
        }
        let merged = try badInput { try ReportDocument.merge(parts) }
        let bytes = try jsonFileBytes(merged)
        try badInput { try Files.writeAtomically(bytes, to: out) }
        printOut(merged.markdown)
    }
}

extension MergeCommand: DeclaresFiles {
    var files: FileUse {
        shards.first.map(Files.isDirectory) == true
            ? FileUse(inputs: shards.flatMap(vectorSetFiles), inputDirectories: shards, outputDirectories: [out])
            : FileUse(inputs: shards, outputs: [out])
    }
}
