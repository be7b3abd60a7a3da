import Circuits
import Formats
import TAHQuant
import TensorIO
import Units

public enum CheckedDecodingError: Error, Equatable, CustomStringConvertible {
    /// The gate-level datapath and the software decoder disagree: a defect of dintsim.
    case mismatch(element: Int, datapath: UInt32, software: UInt32)
    public var description: String {
        if case .mismatch(let i, let d, let s) = self {
            return "datapath and software decoder differ at element \(i): \(String(d, radix: 16)) vs \(String(s, radix: 16))"
        }
        return ""
    }
}

/// `tahquant decode` as one library call: the software decoder's bits, checked (when a datapath
/// architecture is given) against the gate-level decode datapath tile by tile.
public enum CheckedDecoding {
    public struct Outcome {
        /// Element bit patterns in the output format, in the tensor's order.
        public let bits: [UInt32]
        public let shape: [Int]
        public let format: BinaryFloatFormat
        /// The datapath run, when one decoded too.
        public let datapath: (architecture: HadamardDatapath.Architecture, tileSize: Int, cells: Int, run: HadamardDecodeRun)?
        /// The waveform of datapath instance 0, when asked for.
        public let vcd: String?

        /// The decoded values as `.npy` bytes: float16 for fp16, else float32 (bf16 values exactly).
        public func npyBytes() throws -> [UInt8] {
            if format == .fp16 {
                return NpyCodec.encode(try NpyArray(dtype: .float16, shape: shape, data: bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
            }
            return NpyCodec.encode(try NpyArray(float32: bits.map { Float(format.decode($0)) }, shape: shape))
        }

        /// The datapath line `tahquant decode` prints.
        public var datapathSummary: String? {
            datapath.map { d in
                "\(d.architecture) datapath, G = \(d.tileSize): \(d.cells) cells, \(d.run.cycles) cycles (\(d.run.tiles) tiles × \(d.run.cyclesPerTile) + latency \(d.run.latency)), \(d.run.togglesByBlock.values.reduce(0, +)) toggles; equal to the software decoder"
            }
        }
    }

    /// Decodes `t` to `format` (fp32, bf16 or fp16); with an architecture, through the datapath
    /// as well, throwing `.mismatch` at the first element where the two differ.
    public static func decode(_ t: TahQuantTensor, to format: BinaryFloatFormat, architecture: HadamardDatapath.Architecture?, vcd: Bool = false) throws -> Outcome {
        let bits = TahQuantDecoder.decodeBits(t, output: format)
        let shape = t.sequences == 1 ? [t.tokensPerSequence, t.channels] : [t.sequences, t.tokensPerSequence, t.channels]
        guard let architecture else { return Outcome(bits: bits, shape: shape, format: format, datapath: nil, vcd: nil) }
        guard let output = ScaleRoundStage.Output(rawValue: format.name) else { throw TensorIOError.unsupported("the decode datapath writes fp32, bf16 or fp16, not \(format.name)") }
        let datapath = HadamardDatapath(tileSize: t.configuration.tileSize, architecture: architecture, output: output)
        let writer = vcd ? VCDWriter(signals: datapath.netlist.signals, scopes: VCDWriter.scopes(datapath.netlist, index: "element", count: t.configuration.tileSize),
                                     instance: 0, module: "hadamard_decoder") : nil
        let run = HadamardDecodeRunner.run(t, architecture: architecture, output: output, vcd: writer, datapath: datapath)
        if let i = zip(run.bits, bits).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            throw CheckedDecodingError.mismatch(element: i, datapath: run.bits[i], software: bits[i])
        }
        return Outcome(bits: bits, shape: shape, format: format, datapath: (architecture, t.configuration.tileSize, datapath.netlist.cellCount, run), vcd: writer?.text)
    }
}
