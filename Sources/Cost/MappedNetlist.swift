import Circuits
import Liberty

/// A `Netlist` realised in a Liberty library's cells (`CellBinding`): instances with pins on
/// nets, and the same circuit as gates for timed simulation. Nodes of the netlist keep their
/// numbers; the internal nets of composite realisations get new ones.
public final class MappedNetlist {
    public struct Instance: Sendable {
        /// Index into `library.cells`.
        public let cell: Int
        /// Every connected pin (inputs and outputs; a flip-flop's clock pin is implicit).
        public let pins: [(name: String, node: Node)]
        /// The netlist cell it realises (for per-block figures).
        public let sourceCell: Int32
        public func node(_ pin: String) -> Node? { pins.first { $0.name == pin }?.node }
    }

    public let netlist: Netlist
    public let binding: CellBinding
    public var library: LibertyLibrary { binding.library }
    public private(set) var instances: [Instance] = []
    public private(set) var nodeCount: Int
    /// One gate per combinational output pin (gate.cell = instance index); flip-flops likewise.
    public private(set) var gates: GateNetlist
    /// The library output pin each gate models.
    public private(set) var gatePins: [String] = []
    var gateList: [GateNetlist.Gate] = []
    var flipFlopList: [GateNetlist.FlipFlop] = []

    public init(_ netlist: Netlist, binding: CellBinding) {
        self.netlist = netlist
        self.binding = binding
        nodeCount = netlist.nodeCount
        gates = GateNetlist(nodeCount: 0, gates: [], flipFlops: [])
        for c in 0..<netlist.cellCount {
            let kind = netlist.kinds[c]
            let inputs = Array([netlist.in0[c], netlist.in1[c], netlist.in2[c]].prefix(GateNetlist.arity(kind)))
            let outputs: [Node] = kind == .halfAdder || kind == .fullAdder ? [netlist.out0[c], netlist.out1[c]] : [netlist.out0[c]]
            _ = expand(binding.realizations[kind]!, inputs: inputs, want: outputs, source: Int32(c))
        }
        gates = GateNetlist(nodeCount: nodeCount, gates: gateList, flipFlops: flipFlopList)
    }

    static func outputCount(_ r: CellBinding.Realization) -> Int {
        switch r {
        case .cell(_, _, let outputs): return outputs.count
        case .network(_, let outputs): return outputs.count
        }
    }

    func newNode() -> Node { defer { nodeCount += 1 }; return Node(nodeCount) }

    func expand(_ r: CellBinding.Realization, inputs: [Node], want: [Node?], source: Int32) -> [Node] {
        func resolve(_ ref: CellBinding.Ref, _ steps: [[Node]]) -> Node {
            switch ref {
            case .input(let i): return inputs[i]
            case .constant(let b): return b ? Netlist.one : Netlist.zero
            case .step(let j, let k): return steps[j][k]
            }
        }
        switch r {
        case .cell(let ci, let pinRefs, let outputPins):
            let cell = library.cells[ci]
            let outs = outputPins.indices.map { want[$0] ?? newNode() }
            var pins = pinRefs.map { (name: $0.name, node: resolve($0.ref, [])) }
            for (k, p) in outputPins.enumerated() { pins.append((p, outs[k])) }
            let index = Int32(instances.count)
            instances.append(Instance(cell: ci, pins: pins, sourceCell: source))
            if let ff = cell.flipFlop, case .variable(let d) = ff.nextState {
                flipFlopList.append(.init(d: pins.first { $0.name == d }!.node, q: outs[0], cell: index))
            } else {
                let inputPins = cell.inputs.map(\.name)
                let inputNodes = inputPins.map { name in pins.first { $0.name == name }!.node }
                for (k, p) in outputPins.enumerated() {
                    let table = cell.pin(p)!.function!.truthTable(over: inputPins)!
                    gateList.append(.init(inputs: inputNodes, truthTable: UInt8(truncatingIfNeeded: table), output: outs[k], cell: index))
                    gatePins.append(p)
                }
            }
            return outs
        case .network(let steps, let outputs):
            var made: [[Node]] = []
            for (j, s) in steps.enumerated() {
                let stepInputs = s.inputs.map { resolve($0, made) }
                let wanted: [Node?] = (0..<Self.outputCount(s.realization)).map { k in
                    outputs.firstIndex(of: .step(j, k)).flatMap { want[$0] }
                }
                made.append(expand(s.realization, inputs: stepInputs, want: wanted, source: source))
            }
            return outputs.map { resolve($0, made) }
        }
    }

    /// Library area per netlist block (µm², or the library's area unit).
    public func areaByBlock() -> [String: Double] {
        var out: [String: Double] = [:]
        for i in instances { out[netlist.blockNames[Int(netlist.cellBlock[Int(i.sourceCell)])], default: 0] += library.cells[i.cell].area }
        return out
    }

    /// Instances per library cell name.
    public func inventory() -> [String: Int] {
        var out: [String: Int] = [:]
        for i in instances { out[library.cells[i.cell].name, default: 0] += 1 }
        return out
    }
}

extension MappedNetlist {
    /// The mapped netlist as structural Verilog of library cell instances, with the given
    /// ports (docs/export.md). `rst` is a port for drop-in compatibility but is not connected:
    /// the mapped netlist is exactly what dintsim prices, and its flip-flops have no reset.
    public func verilog(module: String, ports: [VerilogPort], clockPin: (LibertyLibrary.Cell) -> String? = { $0.inputs.first { $0.isClock }?.name }) -> String {
        func net(_ n: Node) -> String { n == Netlist.zero ? "1'b0" : n == Netlist.one ? "1'b1" : "n\(n)" }
        var s = "// Generated by dintsim export --liberty \(library.source): \(library.name) cells, as dintsim maps and prices them.\n"
        s += "// rst is not connected (the mapped flip-flops have no reset; a MAC's clear starts every accumulation).\n"
        s += "module \(module) (\n    input  wire clk,\n    input  wire rst"
        for p in ports { s += ",\n    \(p.direction == .input ? "input  wire" : "output wire") \(p.bits.count > 1 ? "[\(p.bits.count - 1):0] " : "")\(p.name)" }
        s += "\n);\n"
        var used = Set<Node>()
        for i in instances { for p in i.pins { used.insert(p.node) } }
        for p in ports { for b in p.bits { used.insert(b) } }
        for n in used.sorted() where n > Netlist.one { s += "    wire n\(n);\n" }
        for p in ports where p.direction == .input {
            for (i, n) in p.bits.enumerated() where n > Netlist.one { s += "    assign n\(n) = \(p.name)\(p.bits.count > 1 ? "[\(i)]" : "");\n" }
        }
        for (k, i) in instances.enumerated() {
            let cell = library.cells[i.cell]
            var conns = i.pins.map { ".\($0.name)(\(net($0.node)))" }
            if cell.flipFlop != nil, let clk = clockPin(cell) { conns.insert(".\(clk)(clk)", at: 0) }
            s += "    \(cell.name) u\(k) (\(conns.joined(separator: ", ")));\n"
        }
        for p in ports where p.direction == .output {
            for (i, n) in p.bits.enumerated() { s += "    assign \(p.name)\(p.bits.count > 1 ? "[\(i)]" : "") = \(net(n));\n" }
        }
        return s + "endmodule\n"
    }
}
