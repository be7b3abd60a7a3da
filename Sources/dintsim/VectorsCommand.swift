import ArgumentParser
import Foundation
import Formats
import Units
import Vectors

struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Golden test vectors for RTL teams (docs/vectors.md).",
        subcommands: [VectorsGenerate.self, VectorsVerify.self, VectorsCanonical.self])
}

func progressPrinter(_ label: String) -> (Int, Int) -> Void {
    var last = Date()
    return { done, total in
        let now = Date()
        if now.timeIntervalSince(last) >= 1 || done == total && total >= 1000 {
            last = now
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) cases\n".utf8))
        }
    }
}

struct VectorsGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a vector set: vectors.hex, vectors.jsonl, layout.vh, MANIFEST.json.",
        discussion: """
        Level 1: exhaustive where the space is small plus boundary cases; level 2 adds --count weighted random and \
        LLM-like cases. Cases are numbered; --shard i/n writes cases [i·C/n, (i+1)·C/n), so shard files \
        concatenated in order are byte-identical to a single run. Memory does not grow with --count.
        """)

    @Option(help: "int8-mac, dint-mac, fp4-mac, quantizer or hadamard-decoder.") var unit: String
    @Option(help: "Coverage level 1 or 2.") var level = 1
    @Option(help: "Seed of the random cases.") var seed: UInt64 = 1
    @Option(help: "Random cases added at level 2.") var count = 10000
    @Option(help: "Output directory.") var out: String
    @Option(help: "Write shard i of n (0-based), e.g. 0/4.") var shard: String = "0/1"
    @Option(help: "MAC lanes (a dot-product PE when > 1).") var lanes = 1
    @Option(help: "MAC pipeline depth 1–3.") var pipeline = 1
    @Option(help: "MAC accumulator width.") var accWidth = 32
    @Option(help: "MAC overflow: wrap or saturate.") var overflow: OverflowRule = .wrap
    @Option(help: "Quantizer level format (preset name).") var format = "dint4"
    @Option(help: "Quantizer rounding rule.") var rounding: RoundingRule = .toNearestOrEven
    @Option(help: "Decoder tile size G.") var tileSize = 16
    @Option(help: "Decoder output format: fp32, bf16 or fp16.") var output = "fp32"

    func makeUnit() throws -> VectorUnit {
        try badInput {
            switch unit {
            case let name where MacKind(unitName: name) != nil:
                return try MacVectors(MacConfiguration(kind: MacKind(unitName: name)!, lanes: lanes, pipelineDepth: pipeline,
                                                       accumulatorWidth: accWidth, overflow: overflow))
            case "quantizer":
                return QuantizerVectors(format: try LevelFormat.preset(named: format), rule: rounding)
            case "hadamard-decoder":
                guard let f = BinaryFloatFormat.all.first(where: { $0.name == output }) else { throw CLIError.badInput("unknown --output '\(output)' (fp32, bf16, fp16)") }
                return try DecoderVectors(tileSize: tileSize, output: f)
            default:
                throw CLIError.badInput("unknown --unit '\(unit)' (int8-mac, dint-mac, fp4-mac, quantizer, hadamard-decoder)")
            }
        }
    }

    func run() throws {
        let u = try makeUnit()
        let s = try badInput { try Shard(parsing: shard) }
        let summary = try badInput {
            try VectorGenerator.generate(u, level: level, seed: seed, count: count, shard: s, directory: out, progress: progressPrinter("vectors"))
        }
        printOut("\(u.unitName): \(summary.cases) cases, \(summary.lines) lines in \(out) (\(String(format: "%.0f", Double(summary.lines) / max(summary.seconds, 1e-9))) lines/s)")
        for n in u.notes { printOut("note: \(n)") }
    }
}

struct VectorsVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every checksum, input, expected output and flag of a vector set by the exact reference.",
        discussion: "Exit 0 when everything agrees, 1 on any disagreement, 2 on a malformed set.")
    @Argument(help: "The vector directory.") var directory: String
    @Option(help: "Mismatches to print.") var maxErrors = 20

    func run() throws {
        let r = try badInput { try VectorVerifier.verify(directory: directory, errorLimit: maxErrors) }
        for m in r.messages { printOut(m) }
        printOut(r.summary + " (cases)")
        if r.failed > 0 { throw CLIError(message: "\(directory): verification failed", exitCode: 1) }
    }
}

struct VectorsCanonical: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canonical",
        abstract: "Regenerate the committed vector sets (vectors/ in the repository).")
    @Option(help: "Directory holding one sub-directory per set.") var out = "vectors"

    func run() throws {
        for set in CanonicalVectors.sets {
            let s = try badInput {
                try VectorGenerator.generate(set.unit, level: set.level, seed: set.seed, count: set.count, directory: out + "/" + set.directory,
                                             progress: progressPrinter(set.directory))
            }
            printOut("\(set.directory): \(s.cases) cases, \(s.lines) lines")
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare a DUT's output dump with a vector set, TestFloat style.",
        discussion: """
        The dump has one line per vector line: the output fields as '_'-joined hex, as in the vector file \
        (blank lines and lines starting with // or # are skipped). Each mismatch prints \
        'cycle N: inputs => observed expected: expected (bits differ: …)'. Exit 0 all pass, 1 any mismatch, 2 malformed input.
        """)
    @Option(help: "The vector directory.") var vectors: String
    @Option(help: "The DUT's dump file.") var dump: String
    @Option(help: "Mismatches to print.") var maxErrors = 20

    func run() throws {
        let r = try badInput { try DumpChecker.check(directory: vectors, dump: dump, errorLimit: maxErrors) }
        for m in r.messages { printOut(m) }
        printOut(r.summary)
        if r.failed > 0 { throw CLIError(message: "\(dump): \(r.failed) mismatches", exitCode: 1) }
    }
}
