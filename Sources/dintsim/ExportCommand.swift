import ArgumentParser
import Foundation
import Quantization
import TensorIO
import Units
import Circuits
import Cost
import Liberty

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a MAC / PE, the MXFP4 or NVFP4 block quantizer or the TAH-Quant decode datapath as structural Verilog, with the ports of its rtl-reference module (drop-in for its test benches).",
        discussion: """
        MAC / PE: options as in `simulate`; the module declares mac.v's parameters with this configuration's values and stops an \
        elaboration that overrides them with others. Block quantizer: --unit block-quantizer with --block-size and --mx-scale; block_quantizer.v's \
        ports (with --liberty: the datapath's x, scale and c, as dintsim maps and prices it). NVFP4 quantizer: --unit nvfp4-quantizer with \
        --block-size (default 16); nvfp4_quantizer.v's ports (x, s, scale, c). Decoder: --unit hadamard-decoder with \
        --tile, --out-format and --arch as in `tahquant`; pipelined has hadamard_decoder.v's ports. docs/export.md.
        """)

    @OptionGroup var mac: MacOptions
    @Option(help: "Output format: verilog.") var format = "verilog"
    @Option(help: "Module name (default: mac, block_quantizer, nvfp4_quantizer or hadamard_decoder, by unit).") var module = "mac"
    @Option(help: "Write here (default: standard output).") var output: String?
    @Option(help: "Map to this Liberty library's cells as dintsim prices them (instances of library cells; rst left unconnected). MAC / PE and block quantizers.") var liberty: String?
    @Option(help: "block-quantizer / nvfp4-quantizer: block size B (1-64; default 32, MXFP4's, or 16, NVFP4's).") var blockSize: Int?
    @Option(help: "block-quantizer: the MX scale rule, floor (OCP, default), ceil, rceil or even (block_quantizer.v's SCALE_RULE).") var mxScale: MXScaleRule = .floor
    @Option(help: "hadamard-decoder: tile size G (8, 16, 32, 64, 128).") var tile = 16
    @Option(help: "hadamard-decoder: output format fp32, bf16 or fp16.") var outFormat: String = "fp32"
    @Option(help: "hadamard-decoder: pipelined (hadamard_decoder.v's ports) or folded (a start input per tile).") var arch: String = "pipelined"

    func validate() throws {
        guard format == "verilog" else { throw ValidationError("--format: only verilog is supported") }
        guard module.first.map({ $0.isLetter || $0 == "_" }) == true, module.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ValidationError("--module must be a Verilog identifier (letters, digits, _)")
        }
    }

    func run() throws {
        if mac.unit == "block-quantizer" || mac.unit == "nvfp4-quantizer" {
            let nvfp4 = mac.unit == "nvfp4-quantizer", blockSize = self.blockSize ?? (nvfp4 ? 16 : 32)
            guard (1...64).contains(blockSize) else { throw CLIError.badInput("--block-size must be in 1...64 (32 is MXFP4's, 16 NVFP4's)") }
            guard mxScale != .stochastic else { throw CLIError.badInput("--mx-scale stochastic has no hardware block quantizer (no random source); use floor, ceil, rceil or even") }
            if nvfp4 && mxScale != .floor { throw CLIError.badInput("--mx-scale does not apply to --unit nvfp4-quantizer; drop it") }
            let netlist: Netlist, ports: [VerilogPort], verilog: (String) -> String
            if nvfp4 {
                let d = NVFP4QuantizerDatapath(blockSize: blockSize)
                (netlist, ports, verilog) = (d.netlist, d.verilogPorts, { d.verilog(module: $0) })
            } else {
                let d = BlockQuantizerDatapath(blockSize: blockSize, scaleRule: mxScale)
                (netlist, ports, verilog) = (d.netlist, d.verilogPorts, { d.verilog(module: $0) })
            }
            let module = self.module == "mac" ? (nvfp4 ? "nvfp4_quantizer" : "block_quantizer") : self.module
            try write(try badInput {
                guard let liberty else { return verilog(module) }
                return MappedNetlist(netlist, binding: try CellBinding(LibertyLibrary.load(liberty))).verilog(module: module, ports: ports)
            })
            return
        }
        if mac.unit == "hadamard-decoder" {
            guard [8, 16, 32, 64, 128].contains(tile) else { throw CLIError.badInput("--tile must be 8, 16, 32, 64 or 128") }
            guard let output = ScaleRoundStage.Output(rawValue: outFormat) else { throw CLIError.badInput("unknown --out-format '\(outFormat)' (fp32, bf16, fp16)") }
            guard let architecture = HadamardDatapath.Architecture(rawValue: arch) else { throw CLIError.badInput("unknown --arch '\(arch)' (pipelined, folded)") }
            guard liberty == nil else { throw CLIError.badInput("--liberty maps the MAC / PE units; export the decoder without it") }
            let module = self.module == "mac" ? "hadamard_decoder" : self.module
            try write(HadamardDatapath(tileSize: tile, architecture: architecture, output: output).verilog(module: module))
            return
        }
        let c = try mac.configuration()
        if case .codeBook = c.kind { throw CLIError.badInput("export writes the fixed units (int8-mac, dint-mac, fp4-mac): rtl-reference/mac.v has no code-book unit") }
        let text: String = try badInput {
            let circuit = MacCircuit(c)
            guard let liberty else { return circuit.verilog(module: module) }
            let mapped = MappedNetlist(circuit.netlist, binding: try CellBinding(LibertyLibrary.load(liberty)))
            return mapped.verilog(module: module, ports: circuit.verilogPorts)
        }
        try write(text)
    }

    func write(_ text: String) throws {
        if let output { try badInput { try Files.writeAllAtomically([(output, Array(text.utf8))]) } } else { printOut(text) }
    }
}

extension ExportCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [liberty, mac.codebook.flatMap(codeBookPath)], outputs: [output]) }
}
