/// Cycle-by-cycle, bit-sliced simulation of a `Netlist`: every node holds a `UInt64`, bit k of
/// which is the node's value in independent instance k (64 copies of the circuit run at once on
/// different data). Toggles are counted with XOR + popcount, restricted to the active instances.
///
/// A cycle is: drive the inputs (`set`), `evaluate` the combinational cells in netlist order,
/// read outputs, then `clock` (every flip-flop takes its D). `step` does evaluate + clock.
public final class Simulator {
    public let netlist: Netlist
    public private(set) var values: [UInt64]
    /// Per cell: output node toggles so far (all counted instances together).
    public var cellToggles: [Int] { perCell(programToggles, flipFlopToggles: true) }
    /// Per cell: internal node toggles (the full adder's a⊕b), priced separately by the cost model.
    public var internalToggles: [Int] { perCell(programInternalToggles, flipFlopToggles: false) }
    /// Count toggles (the energy model needs them; a plain functional run does not).
    public var countsToggles: Bool
    /// Instances whose toggles count (bit k = instance k).
    public var activeMask: UInt64 = ~0
    public private(set) var cycle = 0

    /// The combinational cells as a flat program, in an evaluation order that keeps the netlist's
    /// topological order but groups cells of one kind within each logic level (fewer mispredicted
    /// branches in the dispatch; the order of independent cells does not change any value).
    let program: [Instruction]
    /// Maximal runs of one kind in `program`.
    let runs: [(kind: CellKind, start: Int32, end: Int32)]
    let flipFlops: [Int32]
    let flipFlopD: [Int32], flipFlopQ: [Int32]
    var sampled: [UInt64]
    /// Toggles by program position (mapped back to cells on request).
    var programToggles: [Int], programInternalToggles: [Int]
    var flipFlopToggleCounts: [Int]

    struct Instruction {
        var kind: CellKind, in0: Int32, in1: Int32, in2: Int32, out0: Int32, out1: Int32, out2: Int32, cell: Int32
    }

    public init(_ netlist: Netlist, countsToggles: Bool = true) {
        self.netlist = netlist
        self.countsToggles = countsToggles
        values = [UInt64](repeating: 0, count: netlist.nodeCount)
        values[Int(Netlist.one)] = ~0
        let n = netlist
        // Logic level of every node: sources (inputs, constants, flip-flop outputs) are level 0.
        var nodeLevel = [Int32](repeating: 0, count: n.nodeCount)
        var cellLevel = [Int32](repeating: 0, count: n.cellCount)
        for c in 0..<n.cellCount where n.kinds[c] != .dff {
            let l = max(nodeLevel[Int(n.in0[c])], nodeLevel[Int(n.in1[c])], nodeLevel[Int(n.in2[c])]) + 1
            cellLevel[c] = l
            for o in [n.out0[c], n.out1[c], n.out2[c]] where o > Netlist.one { nodeLevel[Int(o)] = l }
        }
        let order = (0..<n.cellCount).filter { n.kinds[$0] != .dff }
            .sorted { (cellLevel[$0], n.kinds[$0], $0) < (cellLevel[$1], n.kinds[$1], $1) }
        program = order.map { c in
            Instruction(kind: n.kinds[c], in0: n.in0[c], in1: n.in1[c], in2: n.in2[c],
                        out0: n.out0[c], out1: n.out1[c], out2: n.out2[c], cell: Int32(c))
        }
        var runs: [(kind: CellKind, start: Int32, end: Int32)] = []
        for (p, instruction) in program.enumerated() {
            if let last = runs.last, last.kind == instruction.kind { runs[runs.count - 1].end = Int32(p + 1) }
            else { runs.append((instruction.kind, Int32(p), Int32(p + 1))) }
        }
        self.runs = runs
        flipFlops = n.kinds.indices.filter { n.kinds[$0] == .dff }.map(Int32.init)
        flipFlopD = flipFlops.map { n.in0[Int($0)] }
        flipFlopQ = flipFlops.map { n.out0[Int($0)] }
        sampled = [UInt64](repeating: 0, count: flipFlops.count)
        programToggles = [Int](repeating: 0, count: program.count)
        programInternalToggles = programToggles
        flipFlopToggleCounts = [Int](repeating: 0, count: flipFlops.count)
        // Power-on: flip-flops hold 0, inputs are 0; let the combinational logic settle once
        // without counting, so that gates that output 1 for all-zero inputs are not "toggles".
        self.countsToggles = false
        evaluate()
        self.countsToggles = countsToggles
    }

    func perCell(_ byPosition: [Int], flipFlopToggles: Bool) -> [Int] {
        var out = [Int](repeating: 0, count: netlist.cellCount)
        for (i, instruction) in program.enumerated() { out[Int(instruction.cell)] = byPosition[i] }
        if flipFlopToggles { for (k, c) in flipFlops.enumerated() { out[Int(c)] = flipFlopToggleCounts[k] } }
        return out
    }

    /// Drives a bus with `bus.count` consecutive words of `words` starting at `start`.
    public func set(_ bus: Bus, words: [UInt64], from start: Int) {
        for (i, node) in bus.enumerated() { values[Int(node)] = words[start + i] }
    }

    /// Drives a bus with one integer per instance (two's complement, low `bus.count` bits).
    public func set(_ bus: Bus, instances: [Int64]) {
        for (bit, node) in bus.enumerated() {
            var w: UInt64 = 0
            for (k, v) in instances.enumerated() where (v >> Int64(bit)) & 1 == 1 { w |= 1 << UInt64(k) }
            values[Int(node)] = w
        }
    }

    /// Drives a single-bit signal with one word.
    public func set(_ node: Node, word: UInt64) { values[Int(node)] = word }

    public func word(_ node: Node) -> UInt64 { values[Int(node)] }

    /// Evaluates every combinational cell once, in program order.
    public func evaluate() {
        if countsToggles { run(counting: true) } else { run(counting: false) }
    }

    /// `counting` is a constant at each call site, so the compiler specialises the loop for it.
    /// The program is walked run by run (cells of one kind, consecutive): one dispatch per run.
    @inline(__always)
    func run(counting: Bool) {
        let mask = activeMask
        program.withUnsafeBufferPointer { program in
        runs.withUnsafeBufferPointer { runs in
        values.withUnsafeMutableBufferPointer { v in
        programToggles.withUnsafeMutableBufferPointer { t in
        programInternalToggles.withUnsafeMutableBufferPointer { ti in
            @inline(__always) func store(_ p: Int, _ node: Int32, _ r: UInt64) {
                if counting { t[p] &+= ((v[Int(node)] ^ r) & mask).nonzeroBitCount }
                v[Int(node)] = r
            }
            @inline(__always) func gates(_ range: Range<Int>, _ f: (UInt64, UInt64) -> UInt64) {
                for p in range {
                    let c = program[p]
                    store(p, c.out0, f(v[Int(c.in0)], v[Int(c.in1)]))
                }
            }
            for run in runs {
                let range = Int(run.start)..<Int(run.end)
                switch run.kind {
                case .inv: gates(range) { a, _ in ~a }
                case .and2: gates(range) { $0 & $1 }
                case .or2: gates(range) { $0 | $1 }
                case .nand2: gates(range) { ~($0 & $1) }
                case .nor2: gates(range) { ~($0 | $1) }
                case .xor2: gates(range) { $0 ^ $1 }
                case .xnor2: gates(range) { ~($0 ^ $1) }
                case .mux2:   // sel = in0, data0 = in1, data1 = in2
                    for p in range {
                        let c = program[p]
                        let sel = v[Int(c.in0)]
                        store(p, c.out0, (v[Int(c.in1)] & ~sel) | (v[Int(c.in2)] & sel))
                    }
                case .halfAdder:
                    for p in range {
                        let c = program[p]
                        let a = v[Int(c.in0)], b = v[Int(c.in1)]
                        store(p, c.out1, a & b)
                        store(p, c.out0, a ^ b)
                    }
                case .fullAdder:
                    for p in range {
                        let c = program[p]
                        let a = v[Int(c.in0)], b = v[Int(c.in1)], cin = v[Int(c.in2)]
                        let half = a ^ b
                        if counting { ti[p] &+= ((v[Int(c.out2)] ^ half) & mask).nonzeroBitCount }
                        v[Int(c.out2)] = half
                        store(p, c.out1, (a & b) | (half & cin))
                        store(p, c.out0, half ^ cin)
                    }
                case .dff: break   // never in the program
                }
            }
        }}}}}
    }

    /// Drives `nodes[i]` with `words[i]` (a whole input vector per call, for replay loops).
    public func set(_ nodes: [Node], words: UnsafePointer<UInt64>) {
        values.withUnsafeMutableBufferPointer { v in
            nodes.withUnsafeBufferPointer { n in for i in 0..<n.count { v[Int(n[i])] = words[i] } }
        }
    }

    /// The instances in which any of `nodes` differs from `expected` (bit k = instance k).
    public func difference(_ nodes: [Node], expected: UnsafePointer<UInt64>) -> UInt64 {
        values.withUnsafeBufferPointer { v in
            nodes.withUnsafeBufferPointer { n in
                var d: UInt64 = 0
                for i in 0..<n.count { d |= v[Int(n[i])] ^ expected[i] }
                return d
            }
        }
    }

    /// Rising clock edge: every flip-flop's Q takes its D — or 0 in the instances of
    /// `resetting` (a synchronous reset applied by the test bench, not a netlist cell).
    public func clock(resetting: UInt64 = 0) {
        let counting = countsToggles, mask = activeMask, keep = ~resetting
        flipFlopD.withUnsafeBufferPointer { d in
        flipFlopQ.withUnsafeBufferPointer { q in
        sampled.withUnsafeMutableBufferPointer { s in
        flipFlopToggleCounts.withUnsafeMutableBufferPointer { t in
        values.withUnsafeMutableBufferPointer { v in
            // Sample all D inputs first: a flip-flop may feed another's D directly.
            for k in 0..<d.count { s[k] = v[Int(d[k])] & keep }
            for k in 0..<d.count {
                if counting { t[k] &+= ((v[Int(q[k])] ^ s[k]) & mask).nonzeroBitCount }
                v[Int(q[k])] = s[k]
            }
        }}}}}
        cycle += 1
    }

    public func step() {
        evaluate()
        clock()
    }

    /// Toggle totals per block name and per cell kind.
    public func togglesByBlock() -> [String: Int] {
        var out: [String: Int] = [:]
        let (cells, inner) = (cellToggles, internalToggles)
        for c in cells.indices where cells[c] + inner[c] > 0 {
            out[netlist.blockNames[Int(netlist.cellBlock[c])], default: 0] += cells[c] + inner[c]
        }
        return out
    }


    /// Output and internal node toggles together.
    public var totalToggles: Int { programToggles.reduce(0, +) + programInternalToggles.reduce(0, +) + flipFlopToggleCounts.reduce(0, +) }

}
