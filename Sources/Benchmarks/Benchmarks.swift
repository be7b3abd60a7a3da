import CProcessAffinity
import Kernels
import Foundation
import Formats
import Quantization
import TAHQuant
import TensorIO
import Units
import Vectors
import Workloads

/// One throughput figure: the median of timed runs after a warm-up, with min and max, and the
/// process's peak RSS during that item alone.
public struct Figure: Codable, Sendable {
    public let name: String
    public let unit: String
    /// All cores: the process as started (worker threads on every CPU it may use).
    public let median: Double
    public let min: Double
    public let max: Double
    public let peakRSSBytes: Int
    /// One core: the median of the same runs with every thread of the process confined to one
    /// CPU; `nil` where the process may use only one CPU (then `median` is per core) or where it
    /// cannot be confined.
    public var oneCoreMedian: Double? = nil
}

/// Collects figures: times a body once to warm up and `runs` times more.
public final class FigureRecorder {
    public private(set) var all: [Figure] = []
    let runs: Int
    let progress: (String) -> Void
    public init(runs: Int, progress: @escaping (String) -> Void = { _ in }) { self.runs = runs; self.progress = progress }

    /// Times `body` (which returns the work it did, in `unit`s) on every core, then — where the
    /// process may use more than one CPU — on one core (every thread confined to one CPU, as
    /// `taskset -c` would); the peak RSS is this item's alone.
    public func measure(_ name: String, unit: String, _ body: () throws -> Int) rethrows {
        progress("bench: \(name)")
        ProcessMemory.resetPeak()
        let rates = try timedRates(body)
        var figure = Figure(name: name, unit: unit, median: rates[rates.count / 2], min: rates.first!, max: rates.last!, peakRSSBytes: ProcessMemory.peakBytes())
        if dintsim_allowed_cpu_count() > 1, dintsim_confine_to_one_cpu() == 1 {
            defer { dintsim_restore_cpus() }
            progress("bench: \(name), one core")
            let one = try timedRates(body)
            figure.oneCoreMedian = one[one.count / 2]
        }
        all.append(figure)
    }

    /// One warm-up run, then `runs` timed ones: their rates, sorted.
    func timedRates(_ body: () throws -> Int) rethrows -> [Double] {
        var rates: [Double] = []
        for run in 0...runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let work = try body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { rates.append(Double(work) / seconds) }
        }
        return rates.sorted()
    }

    /// A figure measured once (memory-only items).
    public func record(_ name: String, unit: String, value: Double) {
        all.append(Figure(name: name, unit: unit, median: value, min: value, max: value, peakRSSBytes: ProcessMemory.peakBytes()))
    }
}

/// The process's resident memory (Linux `/proc`; `getrusage` elsewhere).
public enum ProcessMemory {
    /// Peak resident set size (VmHWM), since the last `resetPeak`.
    public static func peakBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            return kib * 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// Resets the high-water mark to the current RSS (Linux: write 5 to clear_refs).
    public static func resetPeak() {
        if let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            h.write(Data("5".utf8))
            try? h.close()
        }
    }
}

/// `bench` as a library call (docs/performance.md): quantizers, the TAH-Quant encoder and
/// decoder, the MAC units in every simulation mode, the decode datapaths and vector generation.
public struct Benchmarks {
    /// Timed runs per figure.
    public var runs = 5
    /// Rows and columns of the synthetic quantized matrix.
    public var size = 4096
    /// Sequences of the synthetic TAH-Quant activations [B, 2048, 4096], streamed.
    public var sequences = 8
    /// A float32 2-D `.npy` to quantize instead of the synthetic matrix.
    public var weights: String?
    /// A float32 [B, S, C] `.npy` to encode with TAH-Quant instead of the synthetic stream.
    public var activations: String?
    /// A directory to write our dINT4 and TAH-Quant outputs to (scripts/compare-performance.sh).
    public var dump: String?
    /// Only the quantizer and TAH-Quant encoder figures.
    public var quantizersOnly = false
    /// The quantizers' kernel instruction set (`InstructionSet.isSupported`; every level gives
    /// the same bytes, so the figures compare speed alone).
    public var instructionSet = InstructionSet.best

    public init() {}

    /// Every figure, in order; progress lines go to `progress`.
    public func run(progress: @escaping (String) -> Void = { _ in }) throws -> [Figure] {
        guard instructionSet.isSupported else {
            throw BenchmarkError("this CPU does not support the \(instructionSet) instruction set; use one of: \(InstructionSet.supported.map(\.description).joined(separator: ", "))")
        }
        let figures = FigureRecorder(runs: runs, progress: progress)
        if let dump { try Files.createDirectory(dump) }
        if !quantizersOnly { Self.memcpyBandwidth(figures) }
        try quantizers(figures, progress: progress)
        try tahQuant(figures, progress: progress)
        if !quantizersOnly {
            try Self.macUnits(figures)
            try Self.decoderDatapaths(figures)
            try Self.vectorGeneration(figures)
        }
        return figures.all
    }

    /// The table `bench` prints.
    public static func markdown(_ figures: [Figure]) -> String {
        var out = "| figure | median, all cores | min | max | median, one core | unit | peak RSS |\n|---|---|---|---|---|---|---|\n"
        for f in figures {
            out += "| \(f.name) | \(String(format: "%.3g", f.median)) | \(String(format: "%.3g", f.min)) | \(String(format: "%.3g", f.max)) | "
                + "\(f.oneCoreMedian.map { String(format: "%.3g", $0) } ?? "–") | \(f.unit) | \(f.peakRSSBytes >> 20) MiB |\n"
        }
        return out
    }

    /// Bytes per second memcpy moves between two 256 MiB buffers (each byte read once, written once).
    static func memcpyBandwidth(_ figures: FigureRecorder) {
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

    func quantizers(_ figures: FigureRecorder, progress: (String) -> Void) throws {
        let (matrix, rows, columns, origin): ([Float], Int, Int, String)
        if let weights {
            let a = try Files.readNpy(weights)
            let shape = try a.matrixShape()
            (matrix, rows, columns, origin) = (try a.floatValues(), shape.rows, shape.columns, FilePaths.split(weights).name)
        } else {
            progress("bench: sampling a \(size)×\(size) float32 Laplace matrix")
            (matrix, rows, columns, origin) = (Distribution.laplace.sample(rows: size, columns: size, seed: 1), size, size, "laplace")
        }
        var cases: [(String, LevelFormat, Granularity, RoundingRule)] = [("dint4 per-channel", .dint4, .channel, .toNearestOrEven)]
        if !quantizersOnly {
            cases += [("int4-sym per-channel", .int4Symmetric, .channel, .toNearestOrEven),
                      ("dint4 group:128 stochastic", .dint4, .group(128), .stochastic),
                      ("int8-sym per-token", .int8Symmetric, .channel, .toNearestOrEven)]
        }
        for (label, format, granularity, rule) in cases {
            var q = try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule)
            q.instructionSet = instructionSet
            var last: QuantizedTensor?
            try figures.measure("quantize \(label) \(rows)×\(columns) \(origin)", unit: "elements/s") {
                let r = try q.quantize(matrix, rows: rows, columns: columns)
                last = r
                return r.codes.count
            }
            if let dump, format == .dint4, rule == .toNearestOrEven, let r = last {
                try Files.writeNpy(try NpyArray(uint8: r.codes, shape: [rows, columns]), to: "\(dump)/dint4_codes.npy")
                try Files.writeNpy(try NpyArray(float32: r.scales, shape: [rows]), to: "\(dump)/dint4_scales.npy")
            }
        }
        if !quantizersOnly {
            for scheme in BlockFloatScheme.allCases {
                var q = try BlockFloatQuantizer(scheme: scheme)
                q.instructionSet = instructionSet
                try figures.measure("quantize \(scheme.rawValue) \(rows)×\(columns) \(origin)", unit: "elements/s") {
                    try q.quantize(matrix, rows: rows, columns: columns).codes.count
                }
            }
        }
    }

    func tahQuant(_ figures: FigureRecorder, progress: (String) -> Void) throws {
        let config = TahQuantConfiguration()
        if let activations {
            // One tensor from a file: encode it whole (what the numpy comparison does).
            let a = try Files.readNpy(activations)
            guard a.shape.count == 3 else { throw TensorIOError.malformed("\(activations): need a float32 [B, S, C] array, got shape \(a.shape)") }
            let values = try a.floatValues()
            var encoded: TahQuantTensor?
            try figures.measure("tahquant encode \(a.shape) \(FilePaths.split(activations).name)", unit: "elements/s") {
                encoded = try TahQuantEncoder.encode(values, sequences: a.shape[0], tokensPerSequence: a.shape[1], channels: a.shape[2], configuration: config)
                return values.count
            }
            if let dump, let t = encoded { try Self.dumpTahQuant(t, to: dump) }
            if !quantizersOnly, let encoded {
                figures.measure("tahquant decode \(a.shape) fp32", unit: "elements/s") { TahQuantDecoder.decodeBits(encoded).count }
            }
            return
        }
        // The synthetic stream: [B, 2048, 4096] LLM-like activations (outlier channels), one
        // sequence at a time — an encoder call per sequence, so memory holds one sequence whatever B
        // is. Drawing 8.4 M samples costs more than encoding them, so the stream cycles through a
        // pool of two drawn sequences; drawing is outside the timed region.
        let tokens = 2048, channels = 4096
        progress("bench: sampling 2 × [\(tokens), \(channels)] outlier-channel activations")
        let pool = (0..<2).map { Distribution.outlierChannels.sample(rows: tokens, columns: channels, seed: 10 + UInt64($0)) }
        func stream(_ b: Int) throws -> Int {
            for k in 0..<b {
                _ = try TahQuantEncoder.encode(pool[k % 2], sequences: 1, tokensPerSequence: tokens, channels: channels, configuration: config)
            }
            return b * tokens * channels
        }
        let shape = "[\(sequences), \(tokens), \(channels)]"
        try figures.measure("tahquant encode \(shape) streamed", unit: "elements/s") { try stream(sequences) }
        guard !quantizersOnly else { return }
        let sample = try TahQuantEncoder.encode(pool[0], sequences: 1, tokensPerSequence: tokens, channels: channels, configuration: config)
        figures.measure("tahquant decode \(shape) fp32 streamed", unit: "elements/s") {
            (0..<sequences).reduce(0) { n, _ in n + TahQuantDecoder.decodeBits(sample).count }
        }
        // Memory independent of the stream's length: the same per-sequence peak for B and 4B.
        for b in [sequences, 4 * sequences] {
            ProcessMemory.resetPeak()
            _ = try stream(b)
            figures.record("tahquant encode peak memory, \(b) sequences streamed", unit: "peak RSS bytes", value: Double(ProcessMemory.peakBytes()))
        }
    }

    static func dumpTahQuant(_ t: TahQuantTensor, to dump: String) throws {
        // FP16 bit patterns, widened to uint32 (the .npy writer's unsigned 32-bit type).
        func u16(_ v: [UInt16]) throws -> NpyArray { try NpyArray(dtype: .uint32, shape: [v.count], data: v.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8), 0, 0] }) }
        try Files.writeNpy(try NpyArray(uint8: t.tileBits, shape: [t.tileCount]), to: "\(dump)/tah_bits.npy")
        try Files.writeNpy(try NpyArray(uint8: t.flagged.map { $0 ? 1 : 0 }, shape: [t.tileCount]), to: "\(dump)/tah_flagged.npy")
        try Files.writeNpy(try NpyArray(uint8: t.pivots, shape: [t.tileCount]), to: "\(dump)/tah_pivots.npy")
        try Files.writeNpy(try u16(t.scales), to: "\(dump)/tah_scales.npy")
        try Files.writeNpy(try u16(t.zeros), to: "\(dump)/tah_zeros.npy")
        try Files.writeNpy(try NpyArray(uint8: t.codes, shape: [t.tokens, t.channels]), to: "\(dump)/tah_codes.npy")
    }

    /// MAC units: 4096 dot products of length 256 (Laplace weights quantized to the unit's
    /// format, INT8 activations), in each simulation mode.
    static func macUnits(_ figures: FigureRecorder) throws {
        let rows = 4096, length = 256
        let macWeights = Distribution.laplace.sample(rows: rows, columns: length, seed: 2)
        let macActs = Distribution.gaussian.sample(rows: rows, columns: length, seed: 3)
        for kind in MacKind.fixed {
            let (codes, actCodes) = try OperandQuantization.operands(weights: macWeights, weightRows: rows, activations: macActs, activationRows: rows,
                                                                     length: length, weightFormat: kind.operandWeightFormat)
            for lanes in [1, 16] {
                let runner = MacRunner(try MacConfiguration(kind: kind, lanes: lanes))
                for mode in SimulationMode.allCases {
                    try figures.measure("simulate \(kind.unitName) lanes \(lanes) \(mode.rawValue)", unit: "unit-cycles/s") {
                        try runner.run(codes: codes, activations: actCodes, rows: rows, length: length, mode: mode).simulatedUnitCycles
                    }
                }
            }
        }
    }

    /// The whole TAH-Quant decode datapath (gate level, toggles), G = 64, FP32, on 64 × 4096
    /// outlier-channel activations (4096 tiles), per architecture.
    static func decoderDatapaths(_ figures: FigureRecorder) throws {
        let acts = Distribution.outlierChannels.sample(rows: 64, columns: 4096, seed: 4)
        let small = try TahQuantEncoder.encode(acts, sequences: 1, tokensPerSequence: 64, channels: 4096, configuration: TahQuantConfiguration())
        for architecture in HadamardDatapath.Architecture.allCases {
            let d = HadamardDatapath(tileSize: 64, architecture: architecture, output: .fp32)
            figures.measure("tahquant decode datapath G 64 \(architecture.rawValue) (gate level, toggles)", unit: "tiles/s") {
                HadamardDecodeRunner.run(small, architecture: architecture, output: .fp32, datapath: d).tiles
            }
        }
    }

    /// Vector generation (GMP cross-check included) into a scratch directory; the peak memory of
    /// a set 4× larger shows that generation streams.
    static func vectorGeneration(_ figures: FigureRecorder) throws {
        let scratch = NSTemporaryDirectory() + "dintsim-bench-vectors-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let units: [(String, VectorUnit, Int)] = [
            ("dint-mac", try MacVectors(try MacConfiguration(kind: .dint)), 2000),
            ("quantizer dint4", QuantizerVectors(format: .dint4, rule: .toNearestOrEven), 20000),
            ("hadamard-decoder G 16 fp32", try DecoderVectors(tileSize: 16, output: .fp32), 2000),
        ]
        for (name, unit, count) in units {
            try figures.measure("generate vectors \(name) (level 2, count \(count))", unit: "lines/s") {
                try VectorGenerator.generate(unit, level: 2, seed: 1, count: count, directory: scratch).lines
            }
        }
        for count in [5000, 20000] {
            ProcessMemory.resetPeak()
            let lines = try VectorGenerator.generate(units[0].1, level: 2, seed: 1, count: count, directory: scratch).lines
            figures.record("generate vectors dint-mac peak memory, \(lines) lines", unit: "peak RSS bytes", value: Double(ProcessMemory.peakBytes()))
        }
    }
}

/// A benchmark request this machine cannot run; the text names the problem and the fix.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `bench --replay`: one vector set through a cycle model, as one JSON line (the Verilator
/// harness's counterpart, scripts/compare-performance.sh).
public struct ReplayFigure: Sendable {
    public let model: SimulationMode
    public let unitName: String
    public let isDecoder: Bool
    public let outcome: VectorReplay.Outcome
    public let peakRSSBytes: Int
    /// The netlist simulator's instruction set (`nil` for the word-level model).
    public let instructionSet: InstructionSet?

    public static func measure(directory: String, model: SimulationMode, repetitions: Int, threads: Int,
                               instructionSet: InstructionSet = .best) throws -> ReplayFigure {
        guard instructionSet.isSupported else {
            throw BenchmarkError("this CPU does not support the \(instructionSet) instruction set; use one of: \(InstructionSet.supported.map(\.description).joined(separator: ", "))")
        }
        let set = try VectorReplay(directory: directory)
        let o = set.run(model, repetitions: repetitions, threads: threads, instructionSet: instructionSet)
        return ReplayFigure(model: model, unitName: set.unitName, isDecoder: set.isDecoder, outcome: o, peakRSSBytes: ProcessMemory.peakBytes(),
                            instructionSet: model == .fast ? nil : instructionSet)
    }

    /// What is counted: tiles (decoder) or cycles (MAC/PE).
    public var what: String { isDecoder ? "tiles" : "cycles" }

    /// The JSON line (keys in a fixed order, as the comparison script reads them).
    public var jsonLine: String {
        let o = outcome
        return "{\"simulator\": \"dintsim-\(model.rawValue)\", \"unit\": \"\(unitName)\", \"\(what)\": \(o.cycles), \"seconds\": \(String(format: "%.6f", o.seconds)), "
            + "\"\(what)_per_second\": \(String(format: "%.6g", Double(o.cycles) / o.seconds)), \"failed\": \(o.failed), \"threads\": \(o.threads), "
            + "\"preparation_seconds\": \(String(format: "%.3f", o.preparationSeconds)), \"toggles\": \(o.toggles), \"peak_rss_bytes\": \(peakRSSBytes), "
            + "\"instruction_set\": \(instructionSet.map { "\"\($0)\"" } ?? "null")}"
    }
}
