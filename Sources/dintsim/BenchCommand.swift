import ArgumentParser
import Foundation
import Formats
import Quantization
import Circuits
import Units
import TAHQuant
import TensorIO
import Workloads

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput figures (run a release build: swift run -c release dintsim bench).",
        discussion: "Each figure is the median of --runs timed runs after one warm-up, with min and max; peak RSS is the process's after the item.")

    @Option(help: "Timed runs per figure.") var runs = 5
    @Option(help: "Rows and columns of the quantized matrix.") var size = 4096
    @Option(help: "Also write the figures as JSON here.") var json: String?

    func validate() throws {
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be in 1...100") }
        guard (16...16384).contains(size) else { throw ValidationError("--size must be in 16...16384") }
    }

    struct Figure: Codable {
        let name: String
        let unit: String
        let median: Double
        let min: Double
        let max: Double
        let peakRSSBytes: Int
    }

    func run() throws {
        var figures: [Figure] = []
        let n = size
        FileHandle.standardError.write(Data("bench: sampling a \(n)×\(n) float32 matrix\n".utf8))
        let weights = Distribution.laplace.sample(rows: n, columns: n, seed: 1)
        let cases: [(String, LevelFormat, Granularity, RoundingRule)] = [
            ("quantize dint4 per-channel \(n)×\(n)", .dint4, .channel, .toNearestOrEven),
            ("quantize int4-sym per-channel \(n)×\(n)", .int4Symmetric, .channel, .toNearestOrEven),
            ("quantize dint4 group:128 stochastic \(n)×\(n)", .dint4, .group(128), .stochastic),
            ("quantize int8-sym per-token \(n)×\(n)", .int8Symmetric, .channel, .toNearestOrEven),
        ]
        for (name, format, granularity, rule) in cases {
            FileHandle.standardError.write(Data("bench: \(name)\n".utf8))
            let q = try badInput { try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule) }
            let rates = try (0...runs).map { _ -> Double in
                let start = DispatchTime.now().uptimeNanoseconds
                let r = try q.quantize(weights, rows: n, columns: n)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                precondition(r.codes.count == n * n)
                return Double(n * n) / seconds
            }.dropFirst().sorted()
            figures.append(Figure(name: name, unit: "elements/s", median: rates[rates.count / 2], min: rates.first!, max: rates.last!,
                                  peakRSSBytes: peakResidentBytes()))
        }
        // MAC units: 4096 dot products of length 256 (MiniLM-like Laplace weights quantized to
        // the unit's format, INT8 activations), in each simulation mode.
        let rows = 4096, length = 256
        let macWeights = Distribution.laplace.sample(rows: rows, columns: length, seed: 2)
        let macActs = Distribution.gaussian.sample(rows: rows, columns: length, seed: 3)
        let actCodes = try badInput { try SymmetricQuantizer(format: .int8Symmetric, granularity: .channel).quantize(macActs, rows: rows, columns: length) }
            .codes.map { Int8(bitPattern: $0) }
        for (unitName, kind, format) in [("int8-mac", MacKind.int8, LevelFormat.int8Symmetric), ("dint-mac", .dint, .dint4)] {
            let codes = try badInput { try SymmetricQuantizer(format: format, granularity: .channel).quantize(macWeights, rows: rows, columns: length) }.codes
            for lanes in [1, 16] {
                let runner = try badInput { try MacRunner(MacConfiguration(kind: kind, lanes: lanes)) }
                for mode in MacRunner.Mode.allCases {
                    let name = "simulate \(unitName) lanes \(lanes) \(mode.rawValue)"
                    FileHandle.standardError.write(Data("bench: \(name)\n".utf8))
                    let rates = try (0...runs).map { _ -> Double in
                        let start = DispatchTime.now().uptimeNanoseconds
                        let r = try runner.run(codes: codes, activations: actCodes, rows: rows, length: length, mode: mode)
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                        return Double(r.simulatedUnitCycles) / seconds
                    }.dropFirst().sorted()
                    figures.append(Figure(name: name, unit: "unit-cycles/s", median: rates[rates.count / 2], min: rates.first!, max: rates.last!,
                                          peakRSSBytes: peakResidentBytes()))
                }
            }
        }
        // TAH-Quant software encoder and decoder on [2, 512, 4096] LLM-like activations.
        let acts = Distribution.outlierChannels.sample(rows: 1024, columns: 4096, seed: 4)
        let tahConfig = TahQuantConfiguration()
        var encoded: TahQuantTensor? = nil
        for (name, body) in [("tahquant encode [2, 512, 4096]", { encoded = try TahQuantEncoder.encode(acts, sequences: 2, tokensPerSequence: 512, channels: 4096, configuration: tahConfig) }),
                             ("tahquant decode [2, 512, 4096] fp32", { _ = TahQuantDecoder.decodeBits(encoded!) })] as [(String, () throws -> Void)] {
            FileHandle.standardError.write(Data("bench: \(name)\n".utf8))
            let rates = try (0...runs).map { _ -> Double in
                let start = DispatchTime.now().uptimeNanoseconds
                try badInput { try body() }
                return Double(acts.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }.dropFirst().sorted()
            figures.append(Figure(name: name, unit: "elements/s", median: rates[rates.count / 2], min: rates.first!, max: rates.last!, peakRSSBytes: peakResidentBytes()))
        }
        // The whole TAH-Quant decode datapath (gate level, toggles), G = 64, FP32, on 64 × 4096
        // activations (4096 tiles).
        let small = try badInput { try TahQuantEncoder.encode(Array(acts.prefix(64 * 4096)), sequences: 1, tokensPerSequence: 64, channels: 4096, configuration: tahConfig) }
        for architecture in HadamardDatapath.Architecture.allCases {
            let name = "tahquant decode datapath G 64 \(architecture.rawValue) (gate level, toggles)"
            FileHandle.standardError.write(Data("bench: \(name)\n".utf8))
            let d = HadamardDatapath(tileSize: 64, architecture: architecture, output: .fp32)
            let rates = (0...runs).map { _ -> Double in
                let start = DispatchTime.now().uptimeNanoseconds
                let run = HadamardDecodeRunner.run(small, architecture: architecture, output: .fp32, datapath: d)
                return Double(run.tiles) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }.dropFirst().sorted()
            figures.append(Figure(name: name, unit: "tiles/s", median: rates[rates.count / 2], min: rates.first!, max: rates.last!, peakRSSBytes: peakResidentBytes()))
        }
        var out = "| figure | median | min | max | unit | peak RSS |\n|---|---|---|---|---|---|\n"
        for f in figures {
            out += "| \(f.name) | \(String(format: "%.3g", f.median)) | \(String(format: "%.3g", f.min)) | \(String(format: "%.3g", f.max)) | \(f.unit) | \(f.peakRSSBytes >> 20) MiB |\n"
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try badInput { try Files.writeAtomically(Array(try encoder.encode(figures)) + [0x0A], to: json) }
        }
        printOut(out)
    }
}

/// Peak resident set size of this process so far (getrusage reports KiB on Linux).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
