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
public final class Simulator {
    public let netlist: Netlist
    /// Words per node (1, 2 or 4).
    public let wordsPerNode: Int
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
        get { activeMasks[0] }
        set { for j in activeMasks.indices { activeMasks[j] = newValue } }
    }
    /// Instances whose toggles count, one word per 64 (W words).
    public var activeMasks: [UInt64]
    public private(set) var cycle = 0

    /// The combinational cells as a flat program, in a topological order chosen for long runs of
    /// one kind (`evaluationOrder`; the order of independent cells does not change any value).
    let program: [Instruction]
    /// Maximal runs of one kind in `program`.
    let runs: [(kind: CellKind, start: Int32, end: Int32)]
    let flipFlops: [Int32]
    let flipFlopD: [Int32], flipFlopQ: [Int32]
    var sampled: [UInt64]
    var flipFlopToggleCounts: [Int]
    /// The evaluation loop's memory, owned by the simulator (raw storage, so that the loop is one
    /// specialised function per kernel without closures around it): node values, the program,
    /// and the toggles by program position (output nodes; the full adder's internal node),
    /// mapped back to cells on request.
    let v: UnsafeMutablePointer<UInt64>
    let code: UnsafeMutablePointer<Instruction>
    let t: UnsafeMutablePointer<Int>, ti: UnsafeMutablePointer<Int>

    struct Instruction {
        var kind: CellKind, in0: Int32, in1: Int32, in2: Int32, out0: Int32, out1: Int32, out2: Int32, cell: Int32
    }

    public init(_ netlist: Netlist, countsToggles: Bool = true, wordsPerNode: Int = 1) {
        precondition([1, 2, 4].contains(wordsPerNode), "wordsPerNode must be 1, 2 or 4")
        self.netlist = netlist
        self.countsToggles = countsToggles
        self.wordsPerNode = wordsPerNode
        activeMasks = [UInt64](repeating: ~0, count: wordsPerNode)
        v = .allocate(capacity: netlist.nodeCount * wordsPerNode)
        v.initialize(repeating: 0, count: netlist.nodeCount * wordsPerNode)
        for j in 0..<wordsPerNode { v[Int(Netlist.one) * wordsPerNode + j] = ~0 }
        let n = netlist
        let order = Self.evaluationOrder(n)
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
        sampled = [UInt64](repeating: 0, count: flipFlops.count * wordsPerNode)
        code = .allocate(capacity: max(1, program.count))
        code.initialize(from: program, count: program.count)
        t = .allocate(capacity: max(1, program.count))
        t.initialize(repeating: 0, count: max(1, program.count))
        ti = .allocate(capacity: max(1, program.count))
        ti.initialize(repeating: 0, count: max(1, program.count))
        flipFlopToggleCounts = [Int](repeating: 0, count: flipFlops.count)
        // Power-on: flip-flops hold 0, inputs are 0; let the combinational logic settle once
        // without counting, so that gates that output 1 for all-zero inputs are not "toggles".
        self.countsToggles = false
        evaluate()
        self.countsToggles = countsToggles
    }

    deinit {
        v.deallocate(); code.deallocate(); t.deallocate(); ti.deallocate()
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

    func perCell(_ byPosition: UnsafeMutablePointer<Int>, flipFlopToggles: Bool) -> [Int] {
        var out = [Int](repeating: 0, count: netlist.cellCount)
        for (i, instruction) in program.enumerated() { out[Int(instruction.cell)] = byPosition[i] }
        if flipFlopToggles { for (k, c) in flipFlops.enumerated() { out[Int(c)] = flipFlopToggleCounts[k] } }
        return out
    }

    /// Drives a bus with `bus.count` consecutive words of `words` starting at `start` (W = 1).
    public func set(_ bus: Bus, words: [UInt64], from start: Int) {
        precondition(wordsPerNode == 1)
        for (i, node) in bus.enumerated() { v[Int(node)] = words[start + i] }
    }

    /// Drives a bus with one integer per instance (two's complement, low `bus.count` bits; W = 1).
    public func set(_ bus: Bus, instances: [Int64]) {
        precondition(wordsPerNode == 1)
        for (bit, node) in bus.enumerated() {
            var w: UInt64 = 0
            for (k, x) in instances.enumerated() where (x >> Int64(bit)) & 1 == 1 { w |= 1 << UInt64(k) }
            v[Int(node)] = w
        }
    }

    /// Drives a single-bit signal with one word (W = 1).
    public func set(_ node: Node, word: UInt64) {
        precondition(wordsPerNode == 1)
        v[Int(node)] = word
    }

    /// A node's word (instances 0–63).
    public func word(_ node: Node) -> UInt64 { v[Int(node) * wordsPerNode] }

    /// Evaluates every combinational cell once, in program order.
    public func evaluate() {
        switch (wordsPerNode, countsToggles) {
        case (1, true): run(Kernel1Counting.self)
        case (1, false): run(Kernel1.self)
        case (2, true): run(Kernel2Counting.self)
        case (2, false): run(Kernel2.self)
        case (_, true): run(Kernel4Counting.self)
        case (_, false): run(Kernel4.self)
        }
    }

    /// One specialised loop per kernel: its word count W and whether it counts are constants
    /// there, so the loops over a node's words unroll and the counting code is in or out. The
    /// program is walked run by run (cells of one kind, consecutive): one dispatch per run.
    func run<K: SimulationKernel>(_: K.Type) {
        let w = K.words, counting = K.counting
        let v = v, program = code, t = t, ti = ti
        // The masks in registers (a load per store otherwise: the compiler cannot rule out that
        // the value stores alias them).
        var mask = SIMD4<UInt64>(repeating: 0)
        for j in 0..<w { mask[j] = activeMasks[j] }
        // Node n's word j is v[n·W + j]; `r(j)` is the new value of word j.
        @inline(__always) func store(_ counter: UnsafeMutablePointer<Int>, _ p: Int, _ node: Int32, _ r: (Int) -> UInt64) {
            let base = Int(node) &* w
            var toggles = 0
            for j in 0..<w {
                let new = r(j)
                if counting { toggles &+= ((v[base &+ j] ^ new) & mask[j]).nonzeroBitCount }
                v[base &+ j] = new
            }
            if counting { counter[p] &+= toggles }
        }
        @inline(__always) func gates(_ range: Range<Int>, _ f: (UInt64, UInt64) -> UInt64) {
            for p in range {
                let c = program[p]
                let a = Int(c.in0) &* w, b = Int(c.in1) &* w
                store(t, p, c.out0) { f(v[a &+ $0], v[b &+ $0]) }
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
                    let sel = Int(c.in0) &* w, d0 = Int(c.in1) &* w, d1 = Int(c.in2) &* w
                    store(t, p, c.out0) { (v[d0 &+ $0] & ~v[sel &+ $0]) | (v[d1 &+ $0] & v[sel &+ $0]) }
                }
            case .halfAdder:
                for p in range {
                    let c = program[p]
                    let a = Int(c.in0) &* w, b = Int(c.in1) &* w
                    store(t, p, c.out1) { v[a &+ $0] & v[b &+ $0] }
                    store(t, p, c.out0) { v[a &+ $0] ^ v[b &+ $0] }
                }
            case .fullAdder:
                // out2 is the internal node a ⊕ b (no other cell reads it).
                for p in range {
                    let c = program[p]
                    let a = Int(c.in0) &* w, b = Int(c.in1) &* w, cin = Int(c.in2) &* w
                    store(ti, p, c.out2) { v[a &+ $0] ^ v[b &+ $0] }
                    let half = Int(c.out2) &* w
                    store(t, p, c.out1) { (v[a &+ $0] & v[b &+ $0]) | (v[half &+ $0] & v[cin &+ $0]) }
                    store(t, p, c.out0) { v[half &+ $0] ^ v[cin &+ $0] }
                }
            case .dff: break   // never in the program
            }
        }
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
        let counting = countsToggles, w = wordsPerNode, v = v
        flipFlopD.withUnsafeBufferPointer { d in
        flipFlopQ.withUnsafeBufferPointer { q in
        sampled.withUnsafeMutableBufferPointer { s in
        flipFlopToggleCounts.withUnsafeMutableBufferPointer { t in
        activeMasks.withUnsafeBufferPointer { mask in
            // Sample all D inputs first: a flip-flop may feed another's D directly.
            for k in 0..<d.count { for j in 0..<w { s[k * w + j] = v[Int(d[k]) * w + j] & ~resetting[j] } }
            for k in 0..<d.count {
                for j in 0..<w {
                    if counting { t[k] &+= ((v[Int(q[k]) * w + j] ^ s[k * w + j]) & mask[j]).nonzeroBitCount }
                    v[Int(q[k]) * w + j] = s[k * w + j]
                }
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
    public var totalToggles: Int {
        (0..<program.count).reduce(0) { $0 + t[$1] + ti[$1] } + flipFlopToggleCounts.reduce(0, +)
    }

}

/// A specialisation of `Simulator.run`: words per node and whether toggles are counted.
protocol SimulationKernel { static var words: Int { get }; static var counting: Bool { get } }
enum Kernel1: SimulationKernel { static var words: Int { 1 }; static var counting: Bool { false } }
enum Kernel1Counting: SimulationKernel { static var words: Int { 1 }; static var counting: Bool { true } }
enum Kernel2: SimulationKernel { static var words: Int { 2 }; static var counting: Bool { false } }
enum Kernel2Counting: SimulationKernel { static var words: Int { 2 }; static var counting: Bool { true } }
enum Kernel4: SimulationKernel { static var words: Int { 4 }; static var counting: Bool { false } }
enum Kernel4Counting: SimulationKernel { static var words: Int { 4 }; static var counting: Bool { true } }
