/// A node of a netlist: one single-bit signal. Node 0 is constant 0, node 1 constant 1.
public typealias Node = Int32
/// A bit vector of nodes, least significant bit first.
public typealias Bus = [Node]

/// The standard cells a netlist is built from. Area, energy and reports count these.
public enum CellKind: String, CaseIterable, Sendable, Codable, Comparable {
    case inv = "INV", and2 = "AND2", or2 = "OR2", nand2 = "NAND2", nor2 = "NOR2"
    case xor2 = "XOR2", xnor2 = "XNOR2", mux2 = "MUX2"
    /// Half adder: outputs sum = a⊕b, carry = a·b.
    case halfAdder = "HA"
    /// Full adder: outputs sum = a⊕b⊕c, carry = maj(a, b, c); internal node p = a⊕b.
    case fullAdder = "FA"
    /// D flip-flop, rising edge, no reset (enable and clear are built from MUX2/AND2 in front).
    case dff = "DFF"

    public static func < (a: CellKind, b: CellKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A structural gate-level netlist under construction and, once built, under simulation.
///
/// Generators add cells through the gate functions below, which fold constants the way
/// synthesis would (AND with 0 is 0, XOR with 1 is an inverter, a full adder with a constant
/// input becomes XOR/XNOR and AND/OR gates, …), so the inventory holds only cells that would
/// survive synthesis. Cells are appended in an order where every combinational cell comes after
/// the cells driving its inputs (flip-flop outputs are sources), which is the evaluation order.
public final class Netlist {
    // Struct-of-arrays cell storage (the simulator's hot loop reads these).
    public private(set) var kinds: [CellKind] = []
    public private(set) var in0: [Node] = [], in1: [Node] = [], in2: [Node] = []
    /// out0: the output (sum for adders, Q for DFF); out1: carry; out2: FA's internal a⊕b.
    public private(set) var out0: [Node] = [], out1: [Node] = [], out2: [Node] = []
    public private(set) var cellBlock: [Int16] = []

    public private(set) var nodeCount: Int = 2
    public private(set) var inputs: [(name: String, bus: Bus)] = []
    /// Named buses for ports, waveforms and reports.
    public private(set) var signals: [(name: String, bus: Bus)] = []
    /// The block each signal was named in (`signals[i]` ↔ `signalBlocks[i]`; primary inputs: "ports").
    public private(set) var signalBlocks: [String] = []
    public private(set) var blockNames: [String] = ["top"]
    var currentBlock: Int16 = 0

    public init() {}

    public static let zero: Node = 0
    public static let one: Node = 1

    public var cellCount: Int { kinds.count }

    func newNode() -> Node {
        defer { nodeCount += 1 }
        return Node(nodeCount)
    }

    /// A primary input bus.
    public func input(_ name: String, width: Int) -> Bus {
        let bus = (0..<width).map { _ in newNode() }
        inputs.append((name, bus))
        signals.append((name, bus))
        signalBlocks.append("ports")
        return bus
    }

    /// Names a bus for waveforms and port lookup (no cells).
    public func name(_ bus: Bus, _ name: String) {
        signals.append((name, bus))
        signalBlocks.append(blockNames[Int(currentBlock)])
    }

    public func signal(_ name: String) -> Bus? { signals.first { $0.name == name }?.bus }

    /// Runs `body` with every cell it adds attributed to `block` (for per-block cost).
    public func block<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let saved = currentBlock
        if let i = blockNames.firstIndex(of: name) { currentBlock = Int16(i) } else {
            blockNames.append(name)
            currentBlock = Int16(blockNames.count - 1)
        }
        defer { currentBlock = saved }
        return try body()
    }

    @discardableResult
    func add(_ kind: CellKind, _ a: Node, _ b: Node = 0, _ c: Node = 0, outputs: Int = 1) -> (Node, Node, Node) {
        let o0 = newNode()
        let o1 = outputs >= 2 ? newNode() : 0
        let o2 = outputs >= 3 ? newNode() : 0
        kinds.append(kind)
        in0.append(a); in1.append(b); in2.append(c)
        out0.append(o0); out1.append(o1); out2.append(o2)
        cellBlock.append(currentBlock)
        return (o0, o1, o2)
    }

    static func isConstant(_ n: Node) -> Bool { n == zero || n == one }

    // MARK: gates with constant folding

    public func not(_ a: Node) -> Node {
        if a == Self.zero { return Self.one }
        if a == Self.one { return Self.zero }
        return add(.inv, a).0
    }

    public func and(_ a: Node, _ b: Node) -> Node {
        if a == Self.zero || b == Self.zero { return Self.zero }
        if a == Self.one { return b }
        if b == Self.one || a == b { return a }
        return add(.and2, a, b).0
    }

    public func or(_ a: Node, _ b: Node) -> Node {
        if a == Self.one || b == Self.one { return Self.one }
        if a == Self.zero { return b }
        if b == Self.zero || a == b { return a }
        return add(.or2, a, b).0
    }

    public func nand(_ a: Node, _ b: Node) -> Node {
        if isConstantPair(a, b) || a == b { return not(and(a, b)) }
        return add(.nand2, a, b).0
    }

    public func nor(_ a: Node, _ b: Node) -> Node {
        if isConstantPair(a, b) || a == b { return not(or(a, b)) }
        return add(.nor2, a, b).0
    }

    public func xor(_ a: Node, _ b: Node) -> Node {
        if a == Self.zero { return b }
        if b == Self.zero { return a }
        if a == Self.one { return not(b) }
        if b == Self.one { return not(a) }
        if a == b { return Self.zero }
        return add(.xor2, a, b).0
    }

    public func xnor(_ a: Node, _ b: Node) -> Node {
        if isConstantPair(a, b) || a == b { return not(xor(a, b)) }
        return add(.xnor2, a, b).0
    }

    func isConstantPair(_ a: Node, _ b: Node) -> Bool { Self.isConstant(a) || Self.isConstant(b) }

    /// sel ? b : a.
    public func mux(_ sel: Node, _ a: Node, _ b: Node) -> Node {
        if sel == Self.zero || a == b { return a }
        if sel == Self.one { return b }
        if a == Self.zero && b == Self.one { return sel }
        if a == Self.one && b == Self.zero { return not(sel) }
        if a == Self.zero { return and(sel, b) }
        if b == Self.zero { return and(not(sel), a) }
        if a == Self.one { return or(not(sel), b) }
        if b == Self.one { return or(sel, a) }
        return add(.mux2, sel, a, b).0
    }

    /// (sum, carry) of a + b.
    public func halfAdd(_ a: Node, _ b: Node) -> (sum: Node, carry: Node) {
        if isConstantPair(a, b) || a == b { return (xor(a, b), and(a, b)) }
        let (s, c, _) = add(.halfAdder, a, b, outputs: 2)
        return (s, c)
    }

    /// (sum, carry) of a + b + c.
    public func fullAdd(_ a: Node, _ b: Node, _ c: Node) -> (sum: Node, carry: Node) {
        let operands = [a, b, c]
        let constants = operands.filter(Self.isConstant)
        if !constants.isEmpty {
            let variables = operands.filter { !Self.isConstant($0) }
            let ones = constants.filter { $0 == Self.one }.count
            switch (variables.count, ones) {
            case (0, _): return (ones & 1 == 1 ? Self.one : Self.zero, ones >= 2 ? Self.one : Self.zero)
            case (1, 0): return (variables[0], Self.zero)
            case (1, 1): return (not(variables[0]), variables[0])
            case (1, _): return (variables[0], Self.one)
            case (2, 0): return halfAdd(variables[0], variables[1])
            default: return (xnor(variables[0], variables[1]), or(variables[0], variables[1])) // x + y + 1
            }
        }
        let (s, carry, _) = add(.fullAdder, a, b, c, outputs: 3)
        return (s, carry)
    }

    // MARK: registers

    /// Flip-flops whose D inputs are connected later (for feedback such as an accumulator).
    public struct RegisterHandle {
        public let q: Bus
        let cells: [Int]
    }

    /// Creates `width` D flip-flops; their outputs can be used before `connect` gives their inputs.
    public func makeRegister(_ name: String, width: Int) -> RegisterHandle {
        var q: Bus = [], cells: [Int] = []
        for _ in 0..<width {
            cells.append(kinds.count)
            q.append(add(.dff, Self.zero).0)
        }
        signals.append((name, q))
        signalBlocks.append(blockNames[Int(currentBlock)])
        return RegisterHandle(q: q, cells: cells)
    }

    public func connect(_ register: RegisterHandle, d: Bus) {
        precondition(d.count == register.q.count, "register width mismatch")
        for (cell, node) in zip(register.cells, d) { in0[cell] = node }
    }

    /// A register: q ← clear ? 0 : (enable ? d : q), built as DFF + MUX2 (enable) + AND2 (clear).
    public func register(_ name: String, _ d: Bus, enable: Node = one, clear: Node = zero) -> Bus {
        let r = makeRegister(name, width: d.count)
        let notClear = clear == Self.zero ? Self.one : not(clear)
        connect(r, d: zip(d, r.q).map { (dBit, qBit) in and(mux(enable, qBit, dBit), notClear) })
        return r.q
    }

    // MARK: inventory

    /// Cell counts, overall or for one block.
    public func inventory(block: String? = nil) -> [CellKind: Int] {
        let b = block.flatMap { blockNames.firstIndex(of: $0) }.map(Int16.init)
        if block != nil && b == nil { return [:] }
        var counts: [CellKind: Int] = [:]
        for (i, k) in kinds.enumerated() where b == nil || cellBlock[i] == b! { counts[k, default: 0] += 1 }
        return counts
    }

    /// Names of the blocks that hold at least one cell, in creation order.
    public var usedBlocks: [String] {
        let used = Set(cellBlock)
        return blockNames.enumerated().filter { used.contains(Int16($0.offset)) }.map(\.element)
    }
}
