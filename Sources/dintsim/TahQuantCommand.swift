import ArgumentParser
import Foundation
import Formats
import TAHQuant
import TensorIO
import Units
import Circuits
import Workflows

extension HadamardDatapath.Architecture: ExpressibleByArgument {}

extension TahQuantConfiguration.Allocation: ExpressibleByArgument {}

struct TahQuantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tahquant",
        abstract: "TAH-Quant activation compression: tile-wise INT3/INT4, entropy allocation, pivot swap + Hadamard.",
        subcommands: [Encode.self, Decode.self])

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encode a float32 [tokens, hidden] or [batch, seq, hidden] .npy into a .tahq stream.")
        @Option(help: "Input activations (float32 or float16 .npy, rank 2 or 3).") var input: String
        @Option(help: "Output .tahq stream.") var output: String
        @Option(help: "Tile size G: 8, 16, 32, 64 or 128.") var tile = 64
        @Option(help: "Share of tokens (or tiles) given INT4.") var int4Share = 0.8
        @Option(help: "Entropy allocation per token or per tile.") var allocation: TahQuantConfiguration.Allocation = .token
        @Option(help: "Outlier threshold: largest ≥ tau × second largest.") var tau = 2.0

        func run() throws {
            let (values, sequences, perSequence, channels) = try badInput { () -> ([Float], Int, Int, Int) in
                let a = try Files.readNpy(input)
                switch a.shape.count {
                case 2: return (try a.floatValues(), 1, a.shape[0], a.shape[1])
                case 3: return (try a.floatValues(), a.shape[0], a.shape[1], a.shape[2])
                default: throw TensorIOError.unsupported("\(input): rank \(a.shape.count) array; need [tokens, hidden] or [batch, seq, hidden]")
                }
            }
            let c = TahQuantConfiguration(tileSize: tile, int4Share: int4Share, allocation: allocation, tau: tau)
            let start = DispatchTime.now().uptimeNanoseconds
            let t = try badInput { try TahQuantEncoder.encode(values, sequences: sequences, tokensPerSequence: perSequence, channels: channels, configuration: c) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let bytes = TahQuantWire.encode(t)
            try badInput { try Files.writeAtomically(bytes, to: output) }
            let flagged = t.flagged.filter { $0 }.count, int4 = t.tileBits.filter { $0 == 4 }.count
            printOut("""
                encoded [\(sequences), \(perSequence), \(channels)] with G = \(tile), INT4 share \(int4Share) per \(allocation), tau \(tau)
                tiles \(t.tileCount): \(int4) INT4, \(t.tileCount - int4) INT3, \(flagged) outlier-flagged (\(String(format: "%.2f", 100 * Double(flagged) / Double(max(1, t.tileCount)))) %)
                \(bytes.count) bytes, \(String(format: "%.4f", TahQuantWire.bitsPerElement(t, streamBytes: bytes.count))) bits/element (everything included), \(String(format: "%.3g", Double(values.count) / seconds)) elements/s
                """)
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode a .tahq stream by the exact decode spec (docs/tahquant.md).")
        @Option(help: "Input .tahq stream.") var input: String
        @Option(help: "Output .npy: float32 for fp32 and bf16 (bf16 values, exactly), float16 for fp16.") var output: String
        @Option(help: "Output format: fp32, bf16 or fp16.") var outFormat = "fp32"
        @Option(help: "Decode datapath: pipelined or folded (gate level, checked against the software decoder); software skips it.") var arch = "pipelined"
        @Option(help: "Write a VCD waveform of datapath instance 0 (tiles 0, 64, 128, …).") var vcd: String?

        func run() throws {
            guard let format = BinaryFloatFormat.all.first(where: { $0.name == outFormat }) else {
                throw CLIError.badInput("unknown --out-format '\(outFormat)' (fp32, bf16, fp16)")
            }
            let bytes = try badInput { try Files.read(input) }
            let t = try badInput { try TahQuantWire.decode(bytes) }
            var architecture: HadamardDatapath.Architecture?
            if arch != "software" {
                guard let a = HadamardDatapath.Architecture(rawValue: arch) else { throw CLIError.badInput("unknown --arch '\(arch)' (pipelined, folded, software)") }
                architecture = a
            } else if vcd != nil {
                throw CLIError.badInput("--vcd needs a datapath (--arch pipelined or folded)")
            }
            let outcome: CheckedDecoding.Outcome
            do {
                outcome = try CheckedDecoding.decode(t, to: format, architecture: architecture, vcd: vcd != nil)
            } catch let e as CheckedDecodingError {
                throw CLIError(message: e.description, exitCode: 1)
            } catch {
                throw CLIError.badInput(ErrorText.describe(error))
            }
            var files: [(path: String, bytes: [UInt8])] = [(output, try badInput { try outcome.npyBytes() })]
            if let vcd, let text = outcome.vcd { files.append((vcd, Array(text.utf8))) }
            try badInput { try Files.writeAllAtomically(files) }
            let shape = outcome.shape, report = outcome.datapathSummary.map { "\n" + $0 } ?? ""
            printOut("decoded \(shape) to \(format.name): \(String(format: "%.4f", TahQuantWire.bitsPerElement(t, streamBytes: bytes.count))) bits/element on the wire" + report)
        }
    }
}

extension TahQuantCommand.Encode: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [input], outputs: [output]) }
}

extension TahQuantCommand.Decode: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [input], outputs: [output, vcd]) }
}
