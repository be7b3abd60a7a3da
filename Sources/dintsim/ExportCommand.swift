import ArgumentParser
import Foundation
import TensorIO
import Units
import Cost
import Liberty

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a MAC / PE netlist as structural Verilog, with the ports of rtl-reference/mac.v (drop-in for its test benches).",
        discussion: "Options as in `simulate`. The module declares mac.v's parameters with this configuration's values and stops an elaboration that overrides them with others. docs/export.md.")

    @OptionGroup var mac: MacOptions
    @Option(help: "Output format: verilog.") var format = "verilog"
    @Option(help: "Module name.") var module = "mac"
    @Option(help: "Write here (default: standard output).") var output: String?
    @Option(help: "Map to this Liberty library's cells as dintsim prices them (instances of library cells; rst left unconnected).") var liberty: String?

    func validate() throws {
        guard format == "verilog" else { throw ValidationError("--format: only verilog is supported") }
        guard module.first.map({ $0.isLetter || $0 == "_" }) == true, module.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ValidationError("--module must be a Verilog identifier (letters, digits, _)")
        }
    }

    func run() throws {
        let c = try mac.configuration()
        if case .codeBook = c.kind { throw CLIError.badInput("export writes the fixed units (int8-mac, dint-mac, fp4-mac): rtl-reference/mac.v has no code-book unit") }
        let text: String = try badInput {
            let circuit = try MacCircuit(c)
            guard let liberty else { return circuit.verilog(module: module) }
            let mapped = MappedNetlist(circuit.netlist, binding: try CellBinding(LibertyLibrary.load(liberty)))
            return mapped.verilog(module: module, ports: circuit.verilogPorts)
        }
        if let output { try badInput { try Files.writeAllAtomically([(output, Array(text.utf8))]) } } else { printOut(text) }
    }
}
