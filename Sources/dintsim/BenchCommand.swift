import ArgumentParser
import Benchmarks
import Kernels
import Foundation
import TensorIO
import Units

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput figures (run a release build: swift run -c release dintsim bench).",
        discussion: """
            Each figure is the median of --runs timed runs after one warm-up, with min and max; peak RSS is the \
            process's high-water mark during that item alone (reset before it through /proc/self/clear_refs). \
            Inputs are synthetic and seeded unless --weights / --activations name .npy files. \
            With --replay: replay one vector set through a cycle model instead (docs/performance.md).
            """)

    @Option(help: "Timed runs per figure.") var runs = 5
    @Option(help: "Rows and columns of the synthetic quantized matrix.") var size = 4096
    @Option(help: "Sequences of the synthetic TAH-Quant activations [B, 2048, 4096], streamed one sequence at a time.") var sequences = 8
    @Option(help: "Quantize this float32 2-D .npy instead of the synthetic matrix.") var weights: String?
    @Option(help: "Encode this float32 [B, S, C] .npy with TAH-Quant instead of the synthetic stream.") var activations: String?
    @Option(help: "Write our dINT4 and TAH-Quant outputs here as .npy (for scripts/compare-performance.sh).") var dump: String?
    @Flag(help: "Only the quantizer and TAH-Quant encoder figures (what the numpy comparison needs).") var quantizersOnly = false
    @Option(help: "Also write the figures as JSON here.") var json: String?
    @Option(help: ArgumentHelp("Instead of the figures: replay this MAC/PE or decoder vector set through our cycle model and print one JSON line (the Verilator harness's counterpart).", valueName: "dir"))
    var replay: String?
    @Option(help: "Replay model: fast, netlist or toggles.") var model: SimulationMode = .fast
    @Option(help: "Replay: times the set is played back to back.") var repetitions = 1
    @Option(help: "Replay: worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: ArgumentHelp("The kernels' instruction set, portable, popcount, avx2 or avx512 (default: the fastest this CPU supports): the quantizers' figures, or with --replay the netlist and toggles models' simulator.", valueName: "set"))
    var instructionSet: InstructionSet = .best

    func validate() throws {
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be in 1...100") }
        guard (16...16384).contains(size) else { throw ValidationError("--size must be in 16...16384") }
        guard (1...1024).contains(sequences) else { throw ValidationError("--sequences must be in 1...1024") }
        guard (1...1_000_000).contains(repetitions) else { throw ValidationError("--repetitions must be in 1...1000000") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") }
    }

    func run() throws {
        if let replay {
            let r = try badInput { try ReplayFigure.measure(directory: replay, model: model, repetitions: repetitions, threads: threads, instructionSet: instructionSet) }
            printOut(r.jsonLine)
            if r.outcome.failed > 0 { throw CLIError(message: "\(r.outcome.failed) of \(r.outcome.cycles) \(r.what) differ from the vector file", exitCode: 1) }
            return
        }
        var bench = Benchmarks()
        (bench.runs, bench.size, bench.sequences, bench.weights, bench.activations, bench.dump, bench.quantizersOnly, bench.instructionSet) =
            (runs, size, sequences, weights, activations, dump, quantizersOnly, instructionSet)
        let figures = try badInput { try bench.run(progress: printProgress) }
        if let json { try badInput { try Files.writeAtomically(try jsonFileBytes(figures), to: json) } }
        printOut(Benchmarks.markdown(figures))
    }
}

extension BenchCommand: DeclaresFiles {
    var files: FileUse {
        FileUse(inputs: [weights, activations] + (replay.map(vectorSetFiles) ?? []), outputs: [json], inputDirectories: [replay], outputDirectories: [dump])
    }
}
