import ArgumentParser
import Foundation
import Formats
import Quantization
import Circuits
import Units
import TAHQuant
import TensorIO
import Workloads
import Vectors

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

    func validate() throws {
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be in 1...100") }
        guard (16...16384).contains(size) else { throw ValidationError("--size must be in 16...16384") }
        guard (1...1024).contains(sequences) else { throw ValidationError("--sequences must be in 1...1024") }
        guard (1...1_000_000).contains(repetitions) else { throw ValidationError("--repetitions must be in 1...1000000") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") }
    }

    struct Figure: Codable {
        let name: String
        let unit: String
        let median: Double
        let min: Double
        let max: Double
        let peakRSSBytes: Int
    }

    final class Figures {
        var all: [Figure] = []
        let runs: Int
        init(runs: Int) { self.runs = runs }

        /// Times `body` (which returns the work it did, in `unit`s) once to warm up and `runs`
        /// times more; the peak RSS is this item's alone.
        func measure(_ name: String, unit: String, _ body: () throws -> Int) rethrows {
            printProgress("bench: \(name)")
            resetPeakResident()
            var rates: [Double] = []
            for run in 0...runs {
                let start = DispatchTime.now().uptimeNanoseconds
                let work = try body()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if run > 0 { rates.append(Double(work) / seconds) }
            }
            rates.sort()
            all.append(Figure(name: name, unit: unit, median: rates[rates.count / 2], min: rates.first!, max: rates.last!, peakRSSBytes: peakResidentBytes()))
        }

        /// A figure measured once (memory-only items).
        func record(_ name: String, unit: String, value: Double) {
            all.append(Figure(name: name, unit: unit, median: value, min: value, max: value, peakRSSBytes: peakResidentBytes()))
        }
    }

    func run() throws {
        if let replay { return try runReplay(replay) }
        let figures = Figures(runs: runs)
        if let dump { try badInput { try Files.createDirectory(dump) } }
        if !quantizersOnly { memcpyBandwidth(figures) }
        try quantizers(figures)
        try tahQuant(figures)
        if !quantizersOnly {
            try macUnits(figures)
            decoderDatapaths(figures)
            try vectorGeneration(figures)
        }
        var out = "| figure | median | min | max | unit | peak RSS |\n|---|---|---|---|---|---|\n"
        for f in figures.all {
            out += "| \(f.name) | \(String(format: "%.3g", f.median)) | \(String(format: "%.3g", f.min)) | \(String(format: "%.3g", f.max)) | \(f.unit) | \(f.peakRSSBytes >> 20) MiB |\n"
        }
        if let json {
            let bytes = try jsonFileBytes(figures.all)
            try badInput { try Files.writeAtomically(bytes, to: json) }
        }
        printOut(out)
    }

    /// Bytes per second memcpy moves between two 256 MiB buffers (each byte read once, written once).
    func memcpyBandwidth(_ figures: Figures) {
        let bytes = 256 << 20
        let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let target = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { source.deallocate(); target.deallocate() }
        memset(source, 1, bytes)
        memset(target, 0, bytes)
        figures.measure("memcpy 256 MiB", unit: "bytes/s") {
            memcpy(target, source, bytes)
            return bytes
        }
    }

    func quantizers(_ figures: Figures) throws {
        let (matrix, rows, columns, origin): ([Float], Int, Int, String)
        if let weights {
            let a = try badInput { try Files.readNpy(weights) }
            let shape = try badInput { try a.matrixShape() }
            (matrix, rows, columns, origin) = (try badInput { try a.floatValues() }, shape.rows, shape.columns, (weights as NSString).lastPathComponent)
        } else {
            printProgress("bench: sampling a \(size)×\(size) float32 Laplace matrix")
            (matrix, rows, columns, origin) = (Distribution.laplace.sample(rows: size, columns: size, seed: 1), size, size, "laplace")
        }
        var cases: [(String, LevelFormat, Granularity, RoundingRule)] = [("dint4 per-channel", .dint4, .channel, .toNearestOrEven)]
        if !quantizersOnly {
            cases += [("int4-sym per-channel", .int4Symmetric, .channel, .toNearestOrEven),
                      ("dint4 group:128 stochastic", .dint4, .group(128), .stochastic),
                      ("int8-sym per-token", .int8Symmetric, .channel, .toNearestOrEven)]
        }
        for (label, format, granularity, rule) in cases {
            let q = try badInput { try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule) }
            var last: QuantizedTensor?
            try figures.measure("quantize \(label) \(rows)×\(columns) \(origin)", unit: "elements/s") {
                let r = try badInput { try q.quantize(matrix, rows: rows, columns: columns) }
                last = r
                return r.codes.count
            }
            if let dump, format == .dint4, rule == .toNearestOrEven, let r = last {
                try badInput {
                    try Files.writeNpy(try NpyArray(uint8: r.codes, shape: [rows, columns]), to: "\(dump)/dint4_codes.npy")
                    try Files.writeNpy(try NpyArray(float32: r.scales, shape: [rows]), to: "\(dump)/dint4_scales.npy")
                }
            }
        }
        if !quantizersOnly {
            for scheme in BlockFloatScheme.allCases {
                let q = try badInput { try BlockFloatQuantizer(scheme: scheme) }
                try figures.measure("quantize \(scheme.rawValue) \(rows)×\(columns) \(origin)", unit: "elements/s") {
                    try badInput { try q.quantize(matrix, rows: rows, columns: columns) }.codes.count
                }
            }
        }
    }

    func tahQuant(_ figures: Figures) throws {
        let config = TahQuantConfiguration()
        if let activations {
            // One tensor from a file: encode it whole (what the numpy comparison does).
            let a = try badInput { try Files.readNpy(activations) }
            guard a.shape.count == 3 else { throw CLIError.badInput("\(activations): need a float32 [B, S, C] array, got shape \(a.shape)") }
            let values = try badInput { try a.floatValues() }
            var encoded: TahQuantTensor?
            try figures.measure("tahquant encode \(a.shape) \((activations as NSString).lastPathComponent)", unit: "elements/s") {
                encoded = try badInput { try TahQuantEncoder.encode(values, sequences: a.shape[0], tokensPerSequence: a.shape[1], channels: a.shape[2], configuration: config) }
                return values.count
            }
            if let dump, let t = encoded { try dumpTahQuant(t, to: dump) }
            if !quantizersOnly {
                figures.measure("tahquant decode \(a.shape) fp32", unit: "elements/s") { TahQuantDecoder.decodeBits(encoded!).count }
            }
            return
        }
        // The synthetic stream: [B, 2048, 4096] LLM-like activations (outlier channels), one
        // sequence at a time — an encoder call per sequence, so memory holds one sequence whatever B
        // is. Drawing 8.4 M samples costs more than encoding them, so the stream cycles through a
        // pool of two drawn sequences; drawing is outside the timed region.
        let tokens = 2048, channels = 4096
        printProgress("bench: sampling 2 × [\(tokens), \(channels)] outlier-channel activations")
        let pool = (0..<2).map { Distribution.outlierChannels.sample(rows: tokens, columns: channels, seed: 10 + UInt64($0)) }
        func stream(_ b: Int, _ body: (TahQuantTensor) -> Void) throws -> Int {
            for k in 0..<b {
                let t = try badInput { try TahQuantEncoder.encode(pool[k % 2], sequences: 1, tokensPerSequence: tokens, channels: channels, configuration: config) }
                body(t)
            }
            return b * tokens * channels
        }
        let shape = "[\(sequences), \(tokens), \(channels)]"
        try figures.measure("tahquant encode \(shape) streamed", unit: "elements/s") { try stream(sequences) { _ in } }
        guard !quantizersOnly else { return }
        let sample = try badInput { try TahQuantEncoder.encode(pool[0], sequences: 1, tokensPerSequence: tokens, channels: channels, configuration: config) }
        figures.measure("tahquant decode \(shape) fp32 streamed", unit: "elements/s") {
            (0..<sequences).reduce(0) { n, _ in n + TahQuantDecoder.decodeBits(sample).count }
        }
        // Memory independent of the stream's length: the same per-sequence peak for B and 4B.
        for b in [sequences, 4 * sequences] {
            resetPeakResident()
            _ = try stream(b) { _ in }
            figures.record("tahquant encode peak memory, \(b) sequences streamed", unit: "peak RSS bytes", value: Double(peakResidentBytes()))
        }
    }

    func dumpTahQuant(_ t: TahQuantTensor, to dump: String) throws {
        // FP16 bit patterns, widened to uint32 (the .npy writer's unsigned 32-bit type).
        func u16(_ v: [UInt16]) -> NpyArray { try! NpyArray(dtype: .uint32, shape: [v.count], data: v.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8), 0, 0] }) }
        try badInput {
            try Files.writeNpy(try NpyArray(uint8: t.tileBits, shape: [t.tileCount]), to: "\(dump)/tah_bits.npy")
            try Files.writeNpy(try NpyArray(uint8: t.flagged.map { $0 ? 1 : 0 }, shape: [t.tileCount]), to: "\(dump)/tah_flagged.npy")
            try Files.writeNpy(try NpyArray(uint8: t.pivots, shape: [t.tileCount]), to: "\(dump)/tah_pivots.npy")
            try Files.writeNpy(u16(t.scales), to: "\(dump)/tah_scales.npy")
            try Files.writeNpy(u16(t.zeros), to: "\(dump)/tah_zeros.npy")
            try Files.writeNpy(try NpyArray(uint8: t.codes, shape: [t.tokens, t.channels]), to: "\(dump)/tah_codes.npy")
        }
    }

    /// MAC units: 4096 dot products of length 256 (Laplace weights quantized to the unit's
    /// format, INT8 activations), in each simulation mode.
    func macUnits(_ figures: Figures) throws {
        let rows = 4096, length = 256
        let macWeights = Distribution.laplace.sample(rows: rows, columns: length, seed: 2)
        let macActs = Distribution.gaussian.sample(rows: rows, columns: length, seed: 3)
        for kind in MacKind.fixed {
            let unitName = kind.description
            let (codes, actCodes) = try badInput {
                try OperandQuantization.operands(weights: macWeights, weightRows: rows, activations: macActs, activationRows: rows, length: length,
                                                 weightFormat: kind.operandWeightFormat)
            }
            for lanes in [1, 16] {
                let runner = MacRunner(try badInput { try MacConfiguration(kind: kind, lanes: lanes) })
                for mode in SimulationMode.allCases {
                    try figures.measure("simulate \(unitName) lanes \(lanes) \(mode.rawValue)", unit: "unit-cycles/s") {
                        try runner.run(codes: codes, activations: actCodes, rows: rows, length: length, mode: mode).simulatedUnitCycles
                    }
                }
            }
        }
    }

    /// The whole TAH-Quant decode datapath (gate level, toggles), G = 64, FP32, on 64 × 4096
    /// outlier-channel activations (4096 tiles), per architecture.
    func decoderDatapaths(_ figures: Figures) {
        let acts = Distribution.outlierChannels.sample(rows: 64, columns: 4096, seed: 4)
        let small = try! TahQuantEncoder.encode(acts, sequences: 1, tokensPerSequence: 64, channels: 4096, configuration: TahQuantConfiguration())
        for architecture in HadamardDatapath.Architecture.allCases {
            let d = HadamardDatapath(tileSize: 64, architecture: architecture, output: .fp32)
            figures.measure("tahquant decode datapath G 64 \(architecture.rawValue) (gate level, toggles)", unit: "tiles/s") {
                HadamardDecodeRunner.run(small, architecture: architecture, output: .fp32, datapath: d).tiles
            }
        }
    }

    /// Vector generation (GMP cross-check included) into a scratch directory; the peak memory of
    /// a set 4× larger shows that generation streams.
    func vectorGeneration(_ figures: Figures) throws {
        let scratch = NSTemporaryDirectory() + "dintsim-bench-vectors-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let units: [(String, VectorUnit, Int)] = [
            ("dint-mac", try badInput { try MacVectors(try MacConfiguration(kind: .dint)) }, 2000),
            ("quantizer dint4", QuantizerVectors(format: .dint4, rule: .toNearestOrEven), 20000),
            ("hadamard-decoder G 16 fp32", try badInput { try DecoderVectors(tileSize: 16, output: .fp32) }, 2000),
        ]
        for (name, unit, count) in units {
            try figures.measure("generate vectors \(name) (level 2, count \(count))", unit: "lines/s") {
                try badInput { try VectorGenerator.generate(unit, level: 2, seed: 1, count: count, directory: scratch).lines }
            }
        }
        for count in [5000, 20000] {
            resetPeakResident()
            let lines = try badInput { try VectorGenerator.generate(units[0].1, level: 2, seed: 1, count: count, directory: scratch).lines }
            figures.record("generate vectors dint-mac peak memory, \(lines) lines", unit: "peak RSS bytes", value: Double(peakResidentBytes()))
        }
    }
}

extension BenchCommand {
    func runReplay(_ directory: String) throws {
        let set = try badInput { try VectorReplay(directory: directory) }
        let o = set.run(model, repetitions: repetitions, threads: threads)
        let what = set.isDecoder ? "tiles" : "cycles"
        printOut("{\"simulator\": \"dintsim-\(model.rawValue)\", \"unit\": \"\(set.unitName)\", \"\(what)\": \(o.cycles), \"seconds\": \(String(format: "%.6f", o.seconds)), "
                 + "\"\(what)_per_second\": \(String(format: "%.6g", Double(o.cycles) / o.seconds)), \"failed\": \(o.failed), \"threads\": \(o.threads), "
                 + "\"preparation_seconds\": \(String(format: "%.3f", o.preparationSeconds)), \"toggles\": \(o.toggles), \"peak_rss_bytes\": \(peakResidentBytes())}")
        if o.failed > 0 { throw CLIError(message: "\(o.failed) of \(o.cycles) \(what) differ from the vector file", exitCode: 1) }
    }
}

/// Peak resident set size of this process (VmHWM; since the last `resetPeakResident`).
func peakResidentBytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
        return kib * 1024
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// Resets the peak-RSS high-water mark to the current RSS (Linux: write 5 to clear_refs).
func resetPeakResident() {
    if let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        h.write(Data("5".utf8))
        try? h.close()
    }
}

extension BenchCommand: DeclaresFiles {
    var files: FileUse {
        FileUse(inputs: [weights, activations] + (replay.map(vectorSetFiles) ?? []), outputs: [json], inputDirectories: [replay], outputDirectories: [dump])
    }
}
