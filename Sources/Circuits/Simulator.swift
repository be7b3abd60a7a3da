import CKernels
import Kernels

/// Cycle-by-cycle, bit-sliced simulation of a `Netlist`: every node holds a `UInt64`, bit k of
/// which is the node's value in independent instance k (64 copies of the circuit run at once on
/// different data). Toggles are counted with XOR + popcount, restricted to the active instances.
///
/// A cycle is: drive the inputs (`set`), `evaluate` the combinational cells in netlist order,
/// read outputs, then `clock` (every flip-flop takes its D). `step` does evaluate + clock.
///
/// Wide slices: with `wordsPerNode` W = 2 or 4, every node holds W consecutive words — 64·W
/// instances, instance 64j + k in bit k of word j — and every cell is decoded once per 64·W
/// instances instead of per 64 (the vector replay's throughput, docs/performance.md). The
/// whole-vector calls (`set(_:words:)` with W words per node, `differences`, `activeMasks`,
/// `clock(resettingWords:)`) take W words; the one-word calls (`word`, `set(_:word:)`, `read`,
/// the bus setters) are for W = 1.
///
/// The evaluation loop is C (CKernels), one function per instruction-set level
/// (`InstructionSet`), chosen at run time: the package carries no build flag.
public final class Simulator {
    public let netlist: Netlist
    /// Words per node (1, 2 or 4).
    public let wordsPerNode: Int
    /// The instruction set the evaluation loop runs on.
    public let instructionSet: InstructionSet
    /// Every node's words, node n's at [n·W ..< n·W + W] (a copy).
    public var values: [UInt64] { Array(UnsafeBufferPointer(start: v, count: netlist.nodeCount * wordsPerNode)) }
    /// Per cell: output node toggles so far (all counted instances together).
    public var cellToggles: [Int] { perCell(t, flipFlopToggles: true) }
    /// Per cell: internal node toggles (the full adder's a⊕b), priced separately by the cost model.
    public var internalToggles: [Int] { perCell(ti, flipFlopToggles: false) }
    /// Count toggles (the energy model needs them; a plain functional run does not).
    public var countsToggles: Bool
    /// Instances whose toggles count (bit k = instance k); with W > 1, setting it sets every word.
    public var activeMask: UInt64 {
        get { m[0] }
        set { for j in 0..<wordsPerNode { m[j] = newValue } }
    }
    /// Instances whose toggles count, one word per 64 (W words).
    public var activeMasks: [UInt64] {
        get { Array(UnsafeBufferPointer(start: m, count: wordsPerNode)) }
        set { precondition(newValue.count == wordsPerNode); for j in 0..<wordsPerNode { m[j] = newValue[j] } }
    }
    /// Sets the W active-mask words from `words`.
    public func setActiveMasks(_ words: UnsafePointer<UInt64>) { for j in 0..<wordsPerNode { m[j] = words[j] } }
    public private(set) var cycle = 0

    /// The combinational cells as a flat program, in a topological order chosen for long runs of
    /// one kind (`evaluationOrder`; the order of independent cells does not change any value).
    let program: [Instruction]
    /// Maximal runs of one kind in `program`.
    let runs: [dintsim_cell_run]
    let flipFlops: [Int32]
    let flipFlopD: [Int32], flipFlopQ: [Int32]
    var sampled: [UInt64]
    var flipFlopToggleCounts: [Int]
    /// The evaluation loop's memory, owned by the simulator and 64-byte aligned (the kernels
    /// load a node's W words as one vector): node values, the program's cells, the active masks,
    /// and the toggles by program position and word (output nodes; the full adder's internal
    /// node), `t[p·W + j]`, summed and mapped back to cells on request.
    let v: UnsafeMutablePointer<UInt64>
    let cells: UnsafeMutablePointer<dintsim_cell>
    let m: UnsafeMutablePointer<UInt64>
    let t: UnsafeMutablePointer<UInt64>, ti: UnsafeMutablePointer<UInt64>

    struct Instruction {
        var kind: CellKind, in0: Int32, in1: Int32, in2: Int32, out0: Int32, out1: Int32, out2: Int32, cell: Int32
    }

    public init(_ netlist: Netlist, countsToggles: Bool = true, wordsPerNode: Int = 1, instructionSet: InstructionSet = .best) {
        precondition([1, 2, 4].contains(wordsPerNode), "wordsPerNode must be 1, 2 or 4")
        precondition(instructionSet.isSupported, "this CPU does not support the \(instructionSet) instruction set")
        self.netlist = netlist
        self.countsToggles = countsToggles
        self.wordsPerNode = wordsPerNode
        self.instructionSet = instructionSet
        func words(_ count: Int) -> UnsafeMutablePointer<UInt64> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 8, alignment: 64)
                .bindMemory(to: UInt64.self, capacity: max(1, count))
            p.initialize(repeating: 0, count: max(1, count))
            return p
        }
        v = words(netlist.nodeCount * wordsPerNode)
        m = words(4)
        for j in 0..<wordsPerNode { m[j] = ~0 }
        for j in 0..<wordsPerNode { v[Int(Netlist.one) * wordsPerNode + j] = ~0 }
        let n = netlist
        let order = Self.evaluationOrder(n)
        program = order.map { c in
            Instruction(kind: n.kinds[c], in0: n.in0[c], in1: n.in1[c], in2: n.in2[c],
                        out0: n.out0[c], out1: n.out1[c], out2: n.out2[c], cell: Int32(c))
        }
        var runs: [dintsim_cell_run] = []
        for (p, instruction) in program.enumerated() {
            let kind = Self.kernelKind(instruction.kind)
            if let last = runs.last, last.kind == kind { runs[runs.count - 1].end = Int32(p + 1) }
            else { runs.append(dintsim_cell_run(kind: kind, start: Int32(p), end: Int32(p + 1))) }
        }
        self.runs = runs
        flipFlops = n.kinds.indices.filter { n.kinds[$0] == .dff }.map(Int32.init)
        flipFlopD = flipFlops.map { n.in0[Int($0)] }
        flipFlopQ = flipFlops.map { n.out0[Int($0)] }
        sampled = [UInt64](repeating: 0, count: flipFlops.count * wordsPerNode)
        cells = .allocate(capacity: max(1, program.count))
        cells.initialize(from: program.map { dintsim_cell(in0: $0.in0, in1: $0.in1, in2: $0.in2, out0: $0.out0, out1: $0.out1, out2: $0.out2) },
                         count: program.count)
        t = words(program.count * wordsPerNode)
        ti = words(program.count * wordsPerNode)
        flipFlopToggleCounts = [Int](repeating: 0, count: flipFlops.count)
        // Power-on: flip-flops hold 0, inputs are 0; let the combinational logic settle once
        // without counting, so that gates that output 1 for all-zero inputs are not "toggles".
        self.countsToggles = false
        evaluate()
        self.countsToggles = countsToggles
    }

    deinit {
        v.deallocate(); cells.deallocate(); m.deallocate(); t.deallocate(); ti.deallocate()
    }

    /// The kernel's number for a combinational cell kind (include/kernels.h).
    static func kernelKind(_ kind: CellKind) -> Int32 {
        switch kind {
        case .inv: Int32(DINTSIM_CELL_INV)
        case .and2: Int32(DINTSIM_CELL_AND2)
        case .or2: Int32(DINTSIM_CELL_OR2)
        case .nand2: Int32(DINTSIM_CELL_NAND2)
        case .nor2: Int32(DINTSIM_CELL_NOR2)
        case .xor2: Int32(DINTSIM_CELL_XOR2)
        case .xnor2: Int32(DINTSIM_CELL_XNOR2)
        case .mux2: Int32(DINTSIM_CELL_MUX2)
        case .halfAdder: Int32(DINTSIM_CELL_HALF_ADDER)
        case .fullAdder: Int32(DINTSIM_CELL_FULL_ADDER)
        case .dff: preconditionFailure("a flip-flop is not in the combinational program")
        }
    }

    /// A topological order of the combinational cells with few, long runs of one kind: each run
    /// costs a dispatch and a loop exit, both mispredicted branches. Greedy list scheduling:
    /// take the kind with the most cells ready (every input driven by a source or an earlier
    /// cell; ties to the kind that comes first), emit its ready cells in netlist order, and keep
    /// emitting that kind while cells of it become ready (a ripple-carry chain becomes one run).
    /// Deterministic: it depends on the netlist only. The 16-lane INT8 PE's 2,460 cells form 14
    /// runs, the 1-lane dINT MAC's 156 cells 18.
    static func evaluationOrder(_ n: Netlist) -> [Int] {
        let combinational = (0..<n.cellCount).filter { n.kinds[$0] != .dff }
        // The cell driving each node (combinational cells only).
        var driver = [Int32](repeating: -1, count: n.nodeCount)
        for c in combinational {
            for o in [n.out0[c], n.out1[c], n.out2[c]] where o > Netlist.one { driver[Int(o)] = Int32(c) }
        }
        var pending = [Int](repeating: 0, count: n.cellCount)
        var consumers = [[Int32]](repeating: [], count: n.cellCount)
        for c in combinational {
            for i in [n.in0[c], n.in1[c], n.in2[c]] where driver[Int(i)] >= 0 {
                pending[c] += 1
                consumers[Int(driver[Int(i)])].append(Int32(c))
            }
        }
        let kinds = CellKind.allCases
        let kindIndex = Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1, $0) })
        var ready = [[Int]](repeating: [], count: kinds.count)
        for c in combinational where pending[c] == 0 { ready[kindIndex[n.kinds[c]]!].append(c) }
        var order: [Int] = []
        order.reserveCapacity(combinational.count)
        while let k = ready.indices.filter({ !ready[$0].isEmpty }).max(by: { (ready[$0].count, $1) < (ready[$1].count, $0) }) {
            while !ready[k].isEmpty {
                let batch = ready[k].sorted()
                ready[k] = []
                for c in batch {
                    order.append(c)
                    for d in consumers[c] {
                        pending[Int(d)] -= 1
                        if pending[Int(d)] == 0 { ready[kindIndex[n.kinds[Int(d)]]!].append(Int(d)) }
                    }
                }
            }
        }
        precondition(order.count == combinational.count, "the netlist has a combinational loop")
        return order
    }

    /// Position p's toggles, summed over its W words.
    func toggles(_ byPosition: UnsafeMutablePointer<UInt64>, _ p: Int) -> Int {
        (0..<wordsPerNode).reduce(0) { $0 + Int(byPosition[p * wordsPerNode + $1]) }
    }

    func perCell(_ byPosition: UnsafeMutablePointer<UInt64>, flipFlopToggles: Bool) -> [Int] {
        var out = [Int](repeating: 0, count: netlist.cellCount)
        for (i, instruction) in program.enumerated() { out[Int(instruction.cell)] = toggles(byPosition, i) }
        if flipFlopToggles { for (k, c) in flipFlops.enumerated() { out[Int(c)] = flipFlopToggleCounts[k] } }
        return out
    }

    /// Drives a bus with `bus.count` consecutive words of `words` starting at `start` (W = 1).
    public func set(_ bus: Bus, words: [UInt64], from start: Int) {
        precondition(wordsPerNode == 1)
        for (i, node) in bus.enumerated() { v[Int(node)] = words[start + i] }
    }

    /// Drives a single-bit signal with one word (W = 1).
    public func set(_ node: Node, word: UInt64) {
        precondition(wordsPerNode == 1)
        v[Int(node)] = word
    }

    /// A node's word (instances 0–63).
    public func word(_ node: Node) -> UInt64 { v[Int(node) * wordsPerNode] }

    /// Evaluates every combinational cell once, in program order, in the C kernel of
    /// `instructionSet` (every level computes the same values and counts).
    public func evaluate() {
        let done = runs.withUnsafeBufferPointer { r in
            dintsim_netlist_evaluate(instructionSet.rawValue, Int32(wordsPerNode), cells, r.baseAddress, Int32(r.count), v, m,
                                    countsToggles ? t : nil, countsToggles ? ti : nil)
        }
        precondition(done == 1, "no \(instructionSet) kernel for \(wordsPerNode) words per node")
    }

    /// Drives `nodes[i]` with `words[i·W ..< i·W + W]` (a whole input vector per call, for replay
    /// loops).
    public func set(_ nodes: [Node], words: UnsafePointer<UInt64>) {
        let w = wordsPerNode, v = v
        nodes.withUnsafeBufferPointer { n in
            for i in 0..<n.count { for j in 0..<w { v[Int(n[i]) * w + j] = words[i * w + j] } }
        }
    }

    /// The instances in which any of `nodes` differs from `expected` (bit k = instance k; W = 1).
    public func difference(_ nodes: [Node], expected: UnsafePointer<UInt64>) -> UInt64 {
        precondition(wordsPerNode == 1)
        var d: UInt64 = 0
        differences(nodes, expected: expected, into: &d)
        return d
    }

    /// Per word j: the instances 64j + k in which any of `nodes` differs from `expected`
    /// (`expected[i·W + j]` for node i), written to `into[j]`.
    public func differences(_ nodes: [Node], expected: UnsafePointer<UInt64>, into d: UnsafeMutablePointer<UInt64>) {
        let w = wordsPerNode, v = v
        nodes.withUnsafeBufferPointer { n in
            for j in 0..<w { d[j] = 0 }
            for i in 0..<n.count { for j in 0..<w { d[j] |= v[Int(n[i]) * w + j] ^ expected[i * w + j] } }
        }
    }

    /// Rising clock edge: every flip-flop's Q takes its D — or 0 in the instances of
    /// `resetting` (a synchronous reset applied by the test bench, not a netlist cell; with
    /// W > 1 the same word for every 64).
    public func clock(resetting: UInt64 = 0) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: wordsPerNode) { r in
            for j in 0..<wordsPerNode { r[j] = resetting }
            clock(resettingWords: UnsafePointer(r.baseAddress!))
        }
    }

    /// Rising clock edge with a reset word per 64 instances (W words).
    public func clock(resettingWords resetting: UnsafePointer<UInt64>) {
        let counting = countsToggles, w = wordsPerNode, v = v, mask = m
        flipFlopD.withUnsafeBufferPointer { d in
        flipFlopQ.withUnsafeBufferPointer { q in
        sampled.withUnsafeMutableBufferPointer { s in
        flipFlopToggleCounts.withUnsafeMutableBufferPointer { t in
            // Sample all D inputs first: a flip-flop may feed another's D directly.
            for k in 0..<d.count { for j in 0..<w { s[k * w + j] = v[Int(d[k]) * w + j] & ~resetting[j] } }
            for k in 0..<d.count {
                for j in 0..<w {
                    if counting { t[k] &+= ((v[Int(q[k]) * w + j] ^ s[k * w + j]) & mask[j]).nonzeroBitCount }
                    v[Int(q[k]) * w + j] = s[k * w + j]
                }
            }
        }}}}
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
    public var totalToggles: Int {
        (0..<program.count).reduce(0) { $0 + toggles(t, $1) + toggles(ti, $1) } + flipFlopToggleCounts.reduce(0, +)
    }

}
