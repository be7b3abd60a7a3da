import ArgumentParser
import Cost
import Foundation
import Reports
import Vectors
import TensorIO
import Workflows

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Area and activity-based energy of the INT8 MAC vs the dINT MAC (lanes 1 and 16), beside the paper's 1.93× / 2.56×.",
        discussion: """
        Data: LLM-like synthetic weights (Laplace) and activations (outlier channels), and the MiniLM tensors in \
        --minilm DIR when present; with --weights/--activations, your float32 .npy pair instead (same number of columns). \
        All are quantized with dintsim's own quantizers (weights per output channel, activations INT8 per token).
        """)

    @Option(help: "Your float32/float16 2-D weights .npy (rows = output channels).") var weights: String?
    @Option(help: "Your float32/float16 2-D activations .npy (rows = tokens), same column count.") var activations: String?
    @Option(help: "Directory of the MiniLM fixtures (used when it exists).") var minilm = "fixtures/minilm"
    @Option(help: "A .safetensors checkpoint: price the MACs on every 2-D float tensor matching --tensors (weights; activations synthetic, outlier channels).") var checkpoint: String?
    @Option(help: "With --checkpoint: a regular expression selecting the weight tensors (default: every 2-D float tensor).") var tensors = "."
    @Option(help: "A technology table JSON (default: the bundled 45 nm table).") var tech: String?
    @Option(help: "A Liberty cell library (.lib or .lib.gz), e.g. /usr/share/qflow/tech/osu018/osu018_stdcells.lib: area, timing and energy from its cells instead of the table.") var liberty: String?
    @Option(help: "How toggles are timed: zero (functional only), unit (one tick per arc), liberty (per-arc delays from the library; needs --liberty).") var delayModel: DelayModel = .zero
    @Option(help: "Clock period (ns) for leakage and timing checks (default: with --liberty, the slowest unit's critical path in each comparison; else the table's).") var clockNs: Double?
    @Flag(help: "With --liberty: also run the faster units at the slowest unit's clock with their supply lowered until their critical path just meets it (alpha-power law), and report both energy ratios.") var isoThroughput = false
    @Option(help: "Rows (dot products) of the synthetic data.") var rows = 256
    @Option(help: "Dot-product length of the synthetic data.") var length = 256
    @Option(help: "Seed of the synthetic data.") var seed: UInt64 = 0
    @Flag(help: "Also sweep accumulator width, lanes, pipeline depth, multiplier, adder, overflow and data distribution.") var sweep = false
    @Option(help: "With --sweep: compute only shard i of n (0-based) of the sweep's points; join the shards' --json files with `dintsim merge`.") var shard = "0/1"
    @Option(help: "Write every row as JSON here (with \"ratios\": {\"area\", \"energy\"}).") var json: String?
    @Option(help: "Write a CSV here.") var csv: String?
    @Option(help: "Write the charts as SVG here (ratios on a value axis, per-block stacked area and energy, the sweep).") var svg: String?
    @Option(help: "Write one self-contained HTML page here (every table and chart, no external assets).") var html: String?

    func validate() throws {
        guard (1...4096).contains(rows), (1...4096).contains(length) else { throw ValidationError("--rows and --length must be in 1...4096") }
        if (weights == nil) != (activations == nil) { throw ValidationError("--weights and --activations go together") }
        if checkpoint != nil && weights != nil { throw ValidationError("give --checkpoint or --weights/--activations, not both") }
        if shard != "0/1" && !sweep { throw ValidationError("--shard splits the sweep: it needs --sweep") }
        if tech != nil && liberty != nil { throw ValidationError("give --tech or --liberty, not both") }
        if delayModel == .liberty && liberty == nil { throw ValidationError("--delay-model liberty needs --liberty FILE (per-arc delays come from the library)") }
        if isoThroughput && liberty == nil { throw ValidationError("--iso-throughput needs --liberty FILE (critical paths come from the library)") }
        if let clockNs, !(clockNs > 0 && clockNs.isFinite) { throw ValidationError("--clock-ns must be a positive number of nanoseconds") }
    }

    func run() throws {
        let technology = try badInput { try Technology.load(tech: tech, liberty: liberty) }
        let settings = CostSettings(technology: technology, delayModel: delayModel, clockNs: clockNs, isoThroughput: isoThroughput, libertyPath: liberty)
        let data = try badInput { () -> [ReportData] in
            if let checkpoint { return try ReportInputs.checkpoint(path: checkpoint, matching: tensors, seed: seed) }
            if let weights, let activations { return try ReportInputs.pair(weights: weights, activations: activations) }
            return try ReportInputs.defaults(rows: rows, length: length, seed: seed, minilm: minilm) { printProgress("report: \($0)") }
        }
        let document = try badInput {
            let part = try Shard(parsing: shard)
            return try CostReport.build(data: data, settings: settings, sweep: sweep, sweepShard: (part.index, part.count)) {
                printProgress("report: \($0)")
            }
        }
        var files: [(path: String, bytes: [UInt8])] = []
        if let json {
            files.append((json, try jsonFileBytes(document)))
        }
        if let csv { files.append((csv, Array(document.csv.utf8))) }
        if let svg { files.append((svg, Array(document.svg.utf8))) }
        if let html { files.append((html, Array(document.html.utf8))) }
        try badInput { try Files.writeAllAtomically(files) }
        printOut(document.markdown)
    }
}

extension DelayModel: ExpressibleByArgument {}

extension ReportCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [weights, activations, checkpoint, tech, liberty], outputs: [json, csv, svg, html]) }
}
