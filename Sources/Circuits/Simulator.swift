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
    public private(set) var cellToggles: [Int]
    /// Per cell: internal node toggles (the full adder's a⊕b), priced separately by the cost model.
    public private(set) var internalToggles: [Int]
    /// Count toggles (the energy model needs them; a plain functional run does not).
    public var countsToggles: Bool
    /// Instances whose toggles count (bit k = instance k).
    public var activeMask: UInt64 = ~0
    public private(set) var cycle = 0

    let combinational: [Int32]
    let flipFlops: [Int32]
    var sampled: [UInt64]

    public init(_ netlist: Netlist, countsToggles: Bool = true) {
        self.netlist = netlist
        self.countsToggles = countsToggles
        values = [UInt64](repeating: 0, count: netlist.nodeCount)
        values[Int(Netlist.one)] = ~0
        cellToggles = [Int](repeating: 0, count: netlist.cellCount)
        internalToggles = [Int](repeating: 0, count: netlist.cellCount)
        combinational = netlist.kinds.indices.filter { netlist.kinds[$0] != .dff }.map(Int32.init)
        flipFlops = netlist.kinds.indices.filter { netlist.kinds[$0] == .dff }.map(Int32.init)
        sampled = [UInt64](repeating: 0, count: flipFlops.count)
        // Power-on: flip-flops hold 0, inputs are 0; let the combinational logic settle once
        // without counting, so that gates that output 1 for all-zero inputs are not "toggles".
        self.countsToggles = false
        evaluate()
        self.countsToggles = countsToggles
    }

    /// Drives a bus with one word per bit.
    public func set(_ bus: Bus, words: [UInt64]) {
        for (node, w) in zip(bus, words) { values[Int(node)] = w }
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

    /// The value of a bus in one instance, as a signed (two's complement) or unsigned integer.
    public func read(_ bus: Bus, instance k: Int, signed: Bool) -> Int64 {
        var v: Int64 = 0
        for (bit, node) in bus.enumerated() where (values[Int(node)] >> UInt64(k)) & 1 == 1 { v |= 1 << Int64(bit) }
        if signed && bus.count < 64 && (v >> Int64(bus.count - 1)) & 1 == 1 { v -= 1 << Int64(bus.count) }
        return v
    }

    public func word(_ node: Node) -> UInt64 { values[Int(node)] }

    /// Evaluates every combinational cell once, in netlist order.
    public func evaluate() {
        let n = netlist
        let counting = countsToggles
        let mask = activeMask
        n.kinds.withUnsafeBufferPointer { kinds in
        n.in0.withUnsafeBufferPointer { i0 in
        n.in1.withUnsafeBufferPointer { i1 in
        n.in2.withUnsafeBufferPointer { i2 in
        n.out0.withUnsafeBufferPointer { o0 in
        n.out1.withUnsafeBufferPointer { o1 in
        n.out2.withUnsafeBufferPointer { o2 in
        values.withUnsafeMutableBufferPointer { v in
        internalToggles.withUnsafeMutableBufferPointer { ti in
        cellToggles.withUnsafeMutableBufferPointer { t in
            for ci in combinational {
                let c = Int(ci)
                let a = v[Int(i0[c])], b = v[Int(i1[c])]
                var r0: UInt64, r1: UInt64 = 0, r2: UInt64 = 0
                switch kinds[c] {
                case .inv: r0 = ~a
                case .and2: r0 = a & b
                case .or2: r0 = a | b
                case .nand2: r0 = ~(a & b)
                case .nor2: r0 = ~(a | b)
                case .xor2: r0 = a ^ b
                case .xnor2: r0 = ~(a ^ b)
                case .mux2:
                    let d1 = v[Int(i2[c])]
                    r0 = (b & ~a) | (d1 & a)   // sel = in0, data0 = in1, data1 = in2
                case .halfAdder: r0 = a ^ b; r1 = a & b
                case .fullAdder:
                    let cin = v[Int(i2[c])]
                    r2 = a ^ b
                    r0 = r2 ^ cin
                    r1 = (a & b) | (r2 & cin)
                case .dff: continue
                }
                let out = Int(o0[c])
                if counting {
                    var flips = ((v[out] ^ r0) & mask).nonzeroBitCount
                    if kinds[c] == .halfAdder || kinds[c] == .fullAdder {
                        flips += ((v[Int(o1[c])] ^ r1) & mask).nonzeroBitCount
                        if kinds[c] == .fullAdder { ti[c] += ((v[Int(o2[c])] ^ r2) & mask).nonzeroBitCount }
                    }
                    t[c] += flips
                }
                v[out] = r0
                if kinds[c] == .halfAdder || kinds[c] == .fullAdder {
                    v[Int(o1[c])] = r1
                    if kinds[c] == .fullAdder { v[Int(o2[c])] = r2 }
                }
            }
        }}}}}}}}}}
    }

    /// Rising clock edge: every flip-flop's Q takes its D.
    public func clock() {
        let n = netlist
        // Sample all D inputs first: a flip-flop may feed another's D directly.
        for (k, ci) in flipFlops.enumerated() { sampled[k] = values[Int(n.in0[Int(ci)])] }
        for (k, ci) in flipFlops.enumerated() {
            let c = Int(ci), q = Int(n.out0[c])
            if countsToggles { cellToggles[c] += ((values[q] ^ sampled[k]) & activeMask).nonzeroBitCount }
            values[q] = sampled[k]
        }
        cycle += 1
    }

    public func step() {
        evaluate()
        clock()
    }

    /// Toggle totals per block name and per cell kind.
    public func togglesByBlock() -> [String: Int] {
        var out: [String: Int] = [:]
        for c in cellToggles.indices where cellToggles[c] + internalToggles[c] > 0 {
            out[netlist.blockNames[Int(netlist.cellBlock[c])], default: 0] += cellToggles[c] + internalToggles[c]
        }
        return out
    }


    /// Output and internal node toggles together.
    public var totalToggles: Int { cellToggles.reduce(0, +) + internalToggles.reduce(0, +) }

}
