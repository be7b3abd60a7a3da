/// A netlist of gates for timed simulation: each gate drives one node with a function of up
/// to three input nodes (a truth table), and reads each input through its own delay.
///
/// It shares node numbers with the `Netlist` it was made from (inputs, cell outputs, flip-flop
/// outputs keep their nodes; nodes 0 and 1 are the constants), and may add nodes of its own —
/// the internal nets of a cell that a cell library realises with several library cells.
/// Gates are in an order where each comes after the gates driving its inputs.
public struct GateNetlist: Sendable {
    public struct Gate: Sendable {
        /// Input nodes; unused slots hold node 0.
        public var inputs: (Node, Node, Node)
        public var arity: Int8
        /// Bit m is the output when input i carries bit i of m.
        public var truthTable: UInt8
        public var output: Node
        /// Per input: the delay (ticks) of the path from that input when the output rises, and
        /// when it falls.
        public var riseDelays: (Int32, Int32, Int32) = (0, 0, 0)
        public var fallDelays: (Int32, Int32, Int32) = (0, 0, 0)
        /// The `Netlist` cell this gate belongs to (per-block figures).
        public var cell: Int32

        public init(inputs: [Node], truthTable: UInt8, output: Node, cell: Int32) {
            precondition(inputs.count <= 3)
            let i = inputs + [Node](repeating: Netlist.zero, count: 3 - inputs.count)
            self.inputs = (i[0], i[1], i[2])
            arity = Int8(inputs.count)
            self.truthTable = truthTable
            self.output = output
            self.cell = cell
        }

        public var inputList: [Node] { Array([inputs.0, inputs.1, inputs.2].prefix(Int(arity))) }
    }

    public struct FlipFlop: Sendable {
        public var d: Node, q: Node
        /// Clock-to-Q delay (ticks) of a rising and of a falling output.
        public var clockToQRise: Int32 = 0, clockToQFall: Int32 = 0
        public var cell: Int32
        public init(d: Node, q: Node, cell: Int32) { self.d = d; self.q = q; self.cell = cell }
    }

    public var nodeCount: Int
    public var gates: [Gate]
    public var flipFlops: [FlipFlop]

    public init(nodeCount: Int, gates: [Gate], flipFlops: [FlipFlop]) {
        self.nodeCount = nodeCount
        self.gates = gates
        self.flipFlops = flipFlops
    }

    /// Truth tables of the netlist's cell kinds, per output (out0, out1, out2), inputs in the
    /// cell's order (in0, in1, in2).
    public static func truthTables(_ kind: CellKind) -> [UInt8] {
        func table(_ arity: Int, _ f: (Bool, Bool, Bool) -> Bool) -> UInt8 {
            var t: UInt8 = 0
            for m in 0..<(1 << arity) where f(m & 1 == 1, m & 2 == 2, m & 4 == 4) { t |= 1 << UInt8(m) }
            return t
        }
        switch kind {
        case .inv: return [table(1) { a, _, _ in !a }]
        case .and2: return [table(2) { a, b, _ in a && b }]
        case .or2: return [table(2) { a, b, _ in a || b }]
        case .nand2: return [table(2) { a, b, _ in !(a && b) }]
        case .nor2: return [table(2) { a, b, _ in !(a || b) }]
        case .xor2: return [table(2) { a, b, _ in a != b }]
        case .xnor2: return [table(2) { a, b, _ in a == b }]
        case .mux2: return [table(3) { s, a, b in s ? b : a }]
        case .halfAdder: return [table(2) { a, b, _ in a != b }, table(2) { a, b, _ in a && b }]
        case .fullAdder:
            return [table(3) { a, b, c in (a != b) != c }, table(3) { a, b, c in (a && b) || (c && (a != b)) }, table(2) { a, b, _ in a != b }]
        case .dff: return []
        }
    }

    public static func arity(_ kind: CellKind) -> Int {
        switch kind {
        case .inv: return 1
        case .mux2, .fullAdder: return 3
        case .dff: return 1
        default: return 2
        }
    }

    /// One gate per cell output of `netlist` (the full adder's internal a⊕b node included, so
    /// its toggles can be priced as the technology table does), no delays.
    public init(_ netlist: Netlist) {
        var gates: [Gate] = [], flipFlops: [FlipFlop] = []
        let n = netlist
        for c in 0..<n.cellCount {
            let kind = n.kinds[c]
            if kind == .dff { flipFlops.append(FlipFlop(d: n.in0[c], q: n.out0[c], cell: Int32(c))); continue }
            let ins = Array([n.in0[c], n.in1[c], n.in2[c]].prefix(Self.arity(kind)))
            let outs = [n.out0[c], n.out1[c], n.out2[c]]
            for (k, t) in Self.truthTables(kind).enumerated() {
                // The FA's internal node depends on a and b only.
                let inputs = kind == .fullAdder && k == 2 ? Array(ins.prefix(2)) : ins
                gates.append(Gate(inputs: inputs, truthTable: t, output: outs[k], cell: Int32(c)))
            }
        }
        self.init(nodeCount: n.nodeCount, gates: gates, flipFlops: flipFlops)
    }

    /// Every path `ticks` long, clock-to-Q too (the unit-delay model).
    public func withUnitDelays(_ ticks: Int32 = 1) -> GateNetlist {
        var g = self
        for i in g.gates.indices {
            g.gates[i].riseDelays = (ticks, ticks, ticks); g.gates[i].fallDelays = (ticks, ticks, ticks)
        }
        for i in g.flipFlops.indices { g.flipFlops[i].clockToQRise = ticks; g.flipFlops[i].clockToQFall = ticks }
        return g
    }
}
