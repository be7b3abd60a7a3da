import ArgumentParser
import Foundation
import Formats
import Quantization
import Units
import TensorIO
import Vectors

struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Golden test vectors for RTL teams (docs/vectors.md).",
        subcommands: [VectorsGenerate.self, VectorsVerify.self, VectorsCanonical.self, VectorsScore.self])
}

func progressPrinter(_ label: String) -> (Int, Int) -> Void {
    var last = Date()
    return { done, total in
        let now = Date()
        if now.timeIntervalSince(last) >= 1 || done == total && total >= 1000 {
            last = now
            printProgress("\(label): \(done)/\(total) cases")
        }
    }
}

struct VectorsGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a vector set: vectors.hex, vectors.jsonl, layout.vh, MANIFEST.json.",
        discussion: """
        Level 1: exhaustive where the space is small plus boundary cases (a fixed list: --count is refused); level 2 \
        adds --count weighted random and LLM-like cases. Cases are numbered; --shard i/n writes cases [i·C/n, (i+1)·C/n), \
        so shard files concatenated in order are byte-identical to a single run. Memory does not grow with --count. \
        The directory is locked while it is written (a second writer is refused); a set estimated above 1 GB is \
        announced on stderr first, and one larger than the free space is refused. Options of another unit are refused.
        """)

    @Option(help: "int8-mac, dint-mac, fp4-mac, quantizer, block-quantizer, nvfp4-quantizer or hadamard-decoder.") var unit: String
    @Option(help: "Coverage level 1 or 2.") var level = 1
    @Option(help: "Seed of the random cases.") var seed: UInt64 = 1
    @Option(help: "Random cases added at level 2 (default 10000; refused at level 1).") var count: Int?
    @Option(help: "Output directory.") var out: String
    @Option(help: "Write shard i of n (0-based), e.g. 0/4.") var shard: String = "0/1"
    @Flag(help: "Skip the JSON-lines twin (vectors.jsonl); verify and check work from the hex file alone.") var noJsonl = false
    @OptionGroup var mac: MacShapeOptions
    @Option(help: "Quantizer level format (preset name; default dint4).") var format: String?
    @Option(help: "Quantizer rounding rule (default toNearestOrEven).") var rounding: RoundingRule?
    @Option(help: "Quantizer: the code of a negative value at level 0, keep (−0 where the format has one, default), flush (+0) or sign-of-value (−0 only when the binary32 quotient is negative).") var signedZero: SignedZero?
    @Option(help: "Decoder tile size G (default 16).") var tileSize: Int?
    @Option(help: "Decoder output format: fp32, bf16 or fp16 (default fp32).") var output: String?
    @Option(help: "Block quantizers: elements per block, 4, 8, 16 or 32 (--unit block-quantizer, default 32) or 4, 8, 16 (--unit nvfp4-quantizer, default 16).") var blockSize: Int?
    @Option(help: "Block quantizer: the MX scale rule, floor (OCP, default), ceil, rceil (NVIDIA) or even (torchao EVEN, compressed-tensors); block_quantizer.v's SCALE_RULE.") var mxScale: MXScaleRule?

    /// Bytes above which the run announces its size first.
    static let announceBytes = 1_000_000_000

    func validate() throws {
        guard level == 1 || level == 2 else { throw ValidationError("--level must be 1 or 2") }
        if level == 1 && count != nil { throw ValidationError("--count adds random cases at level 2; level 1 is a fixed list: drop --count or add --level 2") }
        if let count, count < 0 { throw ValidationError("--count must be 0 or more") }
        let quantizerOptions = [("--format", format != nil), ("--rounding", rounding != nil), ("--signed-zero", signedZero != nil)].filter(\.1).map(\.0)
        let decoderOptions = [("--tile-size", tileSize != nil), ("--output", output != nil)].filter(\.1).map(\.0)
        let blockOptions = [("--block-size", blockSize != nil), ("--mx-scale", mxScale != nil)].filter(\.1).map(\.0)
        if unit == "nvfp4-quantizer", mxScale != nil { throw ValidationError("--mx-scale does not apply to --unit nvfp4-quantizer; drop it") }
        let isMac = MacKind(unitName: unit) != nil
        for (given, applies) in [(mac.given, isMac), (quantizerOptions, unit == "quantizer"), (decoderOptions, unit == "hadamard-decoder"), (blockOptions, ["block-quantizer", "nvfp4-quantizer"].contains(unit))] where !applies {
            if let first = given.first { throw ValidationError("\(first) does not apply to --unit \(unit); drop it") }
        }
    }

    func makeUnit() throws -> VectorUnit {
        try badInput {
            switch unit {
            case let name where MacKind(unitName: name) != nil:
                return try MacVectors(try mac.configuration(MacKind(unitName: name)!))
            case "quantizer":
                return QuantizerVectors(format: try LevelFormat.preset(named: format ?? "dint4"), rule: rounding ?? .toNearestOrEven, signedZero: signedZero ?? .keep)
            case "block-quantizer":
                return try BlockQuantizerVectors(blockSize: blockSize ?? 32, scaleRule: mxScale ?? .floor)
            case "nvfp4-quantizer":
                return try NVFP4QuantizerVectors(blockSize: blockSize ?? 16)
            case "hadamard-decoder":
                let name = output ?? "fp32"
                guard let f = BinaryFloatFormat.all.first(where: { $0.name == name }) else { throw CLIError.badInput("unknown --output '\(name)' (fp32, bf16, fp16)") }
                return try DecoderVectors(tileSize: tileSize ?? 16, output: f)
            default:
                throw CLIError.badInput("unknown --unit '\(unit)' (\((MacKind.fixed.map(\.unitName) + ["quantizer", "block-quantizer", "nvfp4-quantizer", "hadamard-decoder"]).joined(separator: ", ")))")
            }
        }
    }

    func run() throws {
        let u = try makeUnit()
        let s = try badInput { try Shard(parsing: shard) }
        let count = self.count ?? 10000
        let estimate = VectorGenerator.estimate(u, level: level, seed: seed, count: count, shard: s, jsonl: !noJsonl)
        try badInput { try VectorGenerator.checkSpace(estimate, directory: out) }
        if estimate.bytes > Self.announceBytes {
            printProgress("vectors: about \(VectorGenerator.byteText(estimate.bytes)) will be written to \(out) (\(estimate.lines) lines; hex \(VectorGenerator.byteText(estimate.hexBytes))" + (noJsonl ? ")" : ", JSON twin \(VectorGenerator.byteText(estimate.jsonlBytes)); --no-jsonl skips the twin)"))
        }
        let summary = try badInput {
            try VectorGenerator.generate(u, level: level, seed: seed, count: count, shard: s, directory: out, jsonl: !noJsonl, progress: progressPrinter("vectors"))
        }
        announceStaleLock(summary, out)
        printOut("\(u.unitName): \(summary.cases) cases, \(summary.lines) lines in \(out) (\(String(format: "%.0f", Double(summary.lines) / max(summary.seconds, 1e-9))) lines/s)")
        printScore(summary)
        for n in u.notes { printOut("note: \(n)") }
    }
}

/// The mutation score the manifest now records, or why it records none.
func printScore(_ summary: GenerationSummary) {
    if let score = summary.score {
        printOut("mutation score (recorded in \(VectorFiles.manifest)): \(score.summary)" + (score.survivors.isEmpty ? "" : "; survivors: \(score.survivors.joined(separator: ", "))"))
    } else {
        printOut("mutation score: not recorded (a shard, or above \(MutationScore.recordedLineLimit) lines); run dintsim vectors score on the whole set")
    }
}

/// A note on stderr when a dead writer's lock was taken over.
func announceStaleLock(_ summary: GenerationSummary, _ directory: String) {
    guard let stale = summary.clearedStaleLock else { return }
    printProgress("vectors: cleared a stale lock of pid \(stale.pid) in \(directory) (that run is gone) and \(stale.temporaries) temporary file\(stale.temporaries == 1 ? "" : "s") it left")
}

/// `--junit F` / `--json F` of `vectors verify` and `check`.
func writeCheckReports(_ report: CheckReport, suite: String, junit: String?, json: String?) throws {
    var files: [(path: String, bytes: [UInt8])] = []
    if let junit { files.append((junit, Array(report.junit(suite: suite).utf8))) }
    if let json { files.append((json, try jsonFileBytes(report))) }
    try badInput { try Files.writeAllAtomically(files) }
}

struct VectorsVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every checksum, input, expected output and flag of a vector set by the exact reference.",
        discussion: "Exit 0 when everything agrees, 1 on any disagreement, 2 on a malformed set.")
    @Argument(help: "The vector directory.") var directory: String
    @Option(help: "Mismatches to print.") var maxErrors = 20
    @Option(help: "Also write a JUnit XML report here (one test case per case category).") var junit: String?
    @Option(help: "Also write the report as JSON here (counts per category, the first --max-errors failures).") var json: String?

    func run() throws {
        let r = try badInput { try VectorVerifier.verify(directory: directory, errorLimit: maxErrors) }
        try writeCheckReports(r, suite: "dintsim vectors verify \(directory)", junit: junit, json: json)
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
        for set in try CanonicalVectors.sets {
            let s = try badInput {
                try VectorGenerator.generate(set.unit, level: set.level, seed: set.seed, count: set.count, directory: out + "/" + set.directory,
                                             progress: progressPrinter(set.directory))
            }
            printOut("\(set.directory): \(s.cases) cases, \(s.lines) lines; mutation score: \(s.score?.summary ?? "not recorded")")
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
        'cycle N (case C CATEGORY, step S) [from the transaction of cycle M]: inputs => observed expected: expected \
        (bits differ: …) flags: …', where the inputs and flags are those of the transaction that produced the output \
        (a pipelined MAC's result appears D − 1 cycles later); x/z digits are mismatches. \
        Exit 0 all pass, 1 any mismatch, 2 malformed input.
        """)
    @Option(help: "The vector directory.") var vectors: String
    @Option(help: "The DUT's dump: a regular file, or - for standard input.") var dump: String
    @Option(help: "Mismatches to print.") var maxErrors = 20
    @Option(help: "Also write a JUnit XML report here (one test case per case category).") var junit: String?
    @Option(help: "Also write the report as JSON here (counts per category, the first --max-errors mismatches with their fields).") var json: String?

    func run() throws {
        let r = try badInput { try DumpChecker.check(directory: vectors, dump: dump, errorLimit: maxErrors) }
        try writeCheckReports(r, suite: "dintsim check \(dump)", junit: junit, json: json)
        for m in r.messages { printOut(m) }
        printOut(r.summary)
        if r.failed > 0 { throw CLIError(message: "\(dump): \(r.failed) mismatch\(r.failed == 1 ? "" : "es")", exitCode: 1) }
    }
}

extension VectorsGenerate: DeclaresFiles {
    var files: FileUse { FileUse(outputDirectories: [out]) }
}

/// The files of a vector directory a run reads (so that no report is written over one of them).
func vectorSetFiles(_ directory: String) -> [String?] {
    [VectorFiles.manifest, VectorFiles.hex, VectorFiles.jsonl, VectorFiles.verilogLayout].map { directory + "/" + $0 }
}

extension VectorsVerify: DeclaresFiles {
    var files: FileUse { FileUse(inputs: vectorSetFiles(directory), outputs: [junit, json], inputDirectories: [directory]) }
}

extension CheckCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [dump] + vectorSetFiles(vectors), outputs: [junit, json], inputDirectories: [vectors]) }
}

struct VectorsScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Replay a vector set (MAC/PE, quantizer or Hadamard decoder) against its unit's catalogue of mutants (plausible misreadings of the spec) and count the lines that kill each.",
        discussion: "Exit 1 when an applicable mutant survives (no line kills it), the unmutated model fails a line, or the score differs from the one MANIFEST.json records under the same catalogue. docs/vectors.md, \"Mutation score\".")
    @Argument(help: "The vector set directory.") var directory: String
    @Option(help: "Also write the score as JSON here.") var json: String?

    func run() throws {
        let score = try badInput { try MutationScore.score(directory: directory) }
        if let json {
            let object = ScoreFile(unit: score.unitName, configuration: score.configuration, lines: score.lines, referenceFailures: score.referenceFailures,
                                   margin: score.margin, survivors: score.survivors, mutants: score.entries)
            try badInput { try Files.writeAtomically(try jsonFileBytes(object), to: json) }
        }
        printOut(score.markdown + (score.recordComparison.map { $0.text + "\n" } ?? ""))
        let problems = (score.survivors.isEmpty ? [] : ["mutants survive: \(score.survivors.joined(separator: ", "))"])
            + (score.referenceFailures > 0 ? ["the unmutated model fails \(score.referenceFailures) line(s)"] : [])
            + (score.recordComparison?.agrees == false ? [score.recordComparison!.text] : [])
        if !problems.isEmpty { throw CLIError(message: "\(directory): " + problems.joined(separator: "; "), exitCode: 1) }
    }

    struct ScoreFile: Encodable {
        let unit: String
        let configuration: MutationScore.Configuration
        let lines: Int
        let referenceFailures: Int
        let margin: Int?
        let survivors: [String]
        let mutants: [MutationScore.Entry]
        enum CodingKeys: String, CodingKey { case unit, configuration, lines, referenceFailures = "reference_failures", margin, survivors, mutants }
    }
}

extension VectorsScore: DeclaresFiles {
    var files: FileUse { FileUse(inputs: vectorSetFiles(directory), outputs: [json], inputDirectories: [directory]) }
}

