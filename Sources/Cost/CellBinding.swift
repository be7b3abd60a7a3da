import Circuits
import Foundation
import TensorIO
import Liberty

/// How each netlist cell kind is built from a Liberty library's cells (docs/liberty.md).
///
/// A kind is bound, in this order of preference, to:
/// 1. one library cell whose output functions equal the kind's, for some assignment of the
///    kind's inputs to the cell's input pins (the smallest such cell by area, then by name);
/// 2. one cell computing the complement, followed by the bound inverter;
/// 3. a fixed network of other bound kinds (AND2 = NAND2 + INV, MUX2 from AND2/OR2/INV,
///    XOR2 from four NAND2, HA = XOR2 + AND2, FA from two XOR2, two AND2 and an OR2, INV from
///    a NAND2 with its inputs tied).
/// The flip-flop binds to an edge-triggered `ff` cell with next_state = D and clocked_on = the
/// clock pin (rising edge); extra pins (clear, preset, …) are tied so that they never act.
/// Cells marked `dont_use`, latches, buses and multi-bit cells are never used.
public struct CellBinding: Sendable {
    public enum Ref: Sendable, Equatable {
        /// The kind's input i.
        case input(Int)
        /// Output k of the network's step j.
        case step(Int, Int)
        case constant(Bool)
    }

    public indirect enum Realization: Sendable {
        /// One library cell (index into `library.cells`): its input pins wired to `inputs`, its
        /// output pins giving the kind's outputs in order. A flip-flop's clock pin is not listed.
        case cell(Int, inputs: [Pin], outputs: [String])
        case network(steps: [Step], outputs: [Ref])
    }
    public struct Pin: Sendable { public let name: String; public let ref: Ref }
    public struct Step: Sendable { public let realization: Realization; public let inputs: [Ref] }

    public let library: LibertyLibrary
    public let realizations: [CellKind: Realization]

    /// "XOR2X1" for a single cell, "MUX2X1 + INVX1" for a network.
    public func describe(_ kind: CellKind) -> String { describe(realizations[kind]!) }

    public func describe(_ r: Realization) -> String {
        switch r {
        case .cell(let c, _, _): return library.cells[c].name
        case .network(let steps, _): return steps.map { describe($0.realization) }.joined(separator: " + ")
        }
    }

    public func isComposite(_ kind: CellKind) -> Bool {
        if case .network = realizations[kind]! { return true }
        return false
    }

    public init(_ library: LibertyLibrary) throws {
        self.library = library
        var found: [CellKind: Realization] = [:]
        let usable = library.cells.indices.filter { !library.cells[$0].dontUse && !library.cells[$0].unsupported }
        func ranked(_ candidates: [(Int, Realization)]) -> Realization? {
            candidates.min { (library.cells[$0.0].area, library.cells[$0.0].name) < (library.cells[$1.0].area, library.cells[$1.0].name) }?.1
        }
        // 1. Single cells, and the complements for step 2.
        var complements: [CellKind: Realization] = [:]
        for kind in CellKind.allCases where kind != .dff {
            let arity = GateNetlist.arity(kind)
            let tables = Array(GateNetlist.truthTables(kind).prefix(kind == .fullAdder ? 2 : Int.max))
            let mask: UInt8 = arity == 3 ? 0xFF : UInt8((1 << (1 << arity)) - 1)
            var direct: [(Int, Realization)] = [], inverted: [(Int, Realization)] = []
            for c in usable where library.cells[c].flipFlop == nil {
                let cell = library.cells[c]
                let inputs = cell.inputs.map(\.name)
                guard inputs.count == arity, !cell.outputs.isEmpty else { continue }
                for order in Self.permutations(arity) {
                    // Kind input i drives pin order[i]; the table is taken over the pins in that order.
                    let pins = order.map { inputs[$0] }
                    let pinTables = cell.outputs.map { p in p.function?.truthTable(over: pins).map { UInt8(truncatingIfNeeded: $0) } }
                    let wiring = (0..<arity).map { Pin(name: pins[$0], ref: .input($0)) }
                    let outs = tables.map { t in cell.outputs.indices.first { pinTables[$0] == t }.map { cell.outputs[$0].name } }
                    if outs.allSatisfy({ $0 != nil }) { direct.append((c, .cell(c, inputs: wiring, outputs: outs.map { $0! }))) }
                    if tables.count == 1, let k = cell.outputs.indices.first(where: { pinTables[$0] == ~tables[0] & mask }) {
                        inverted.append((c, .cell(c, inputs: wiring, outputs: [cell.outputs[k].name])))
                    }
                }
            }
            if let r = ranked(direct) { found[kind] = r }
            if let r = ranked(inverted) { complements[kind] = r }
        }
        // The flip-flop.
        var flops: [(Int, Realization)] = []
        for c in usable {
            let cell = library.cells[c]
            guard let ff = cell.flipFlop, case .variable(let d) = ff.nextState, case .variable(let clk) = ff.clockedOn,
                  cell.pin(d)?.direction == .input, cell.pin(clk)?.direction == .input,
                  let q = cell.outputs.first(where: { $0.function == .variable(ff.state) }) else { continue }
            let extra = cell.inputs.map(\.name).filter { $0 != d && $0 != clk }
            guard extra.count <= 4 else { continue }
            // Tie the extra pins so that clear and preset never act.
            var tie: [Bool]?
            for m in 0..<(1 << extra.count) {
                let assignment = (0..<extra.count).map { (m >> $0) & 1 == 1 }
                func value(_ f: BooleanFunction?) -> Bool? {
                    guard let f else { return false }
                    guard f.variables.isSubset(of: Set(extra)) else { return nil }
                    return f.evaluate { name in assignment[extra.firstIndex(of: name)!] ? ~0 : 0 } & 1 == 1
                }
                if value(ff.clear) == false && value(ff.preset) == false { tie = assignment; break }
            }
            guard let tie else { continue }
            let pins = [Pin(name: d, ref: .input(0))] + extra.indices.map { Pin(name: extra[$0], ref: .constant(tie[$0])) }
            flops.append((c, .cell(c, inputs: pins, outputs: [q.name])))
        }
        if let r = ranked(flops) { found[.dff] = r }
        // 2. Complement + inverter, 3. networks, until nothing more can be built.
        func step(_ kind: CellKind, _ inputs: [Ref]) -> Step? { found[kind].map { Step(realization: $0, inputs: inputs) } }
        var changed = true
        while changed {
            changed = false
            for kind in CellKind.allCases where found[kind] == nil {
                var r: Realization?
                if let complement = complements[kind], let inv = found[.inv] {
                    let inputs = (0..<GateNetlist.arity(kind)).map { Ref.input($0) }
                    r = .network(steps: [Step(realization: complement, inputs: inputs), Step(realization: inv, inputs: [.step(0, 0)])], outputs: [.step(1, 0)])
                }
                if r == nil { r = Self.recipe(kind, step) }
                if let r { found[kind] = r; changed = true }
            }
        }
        if let missing = CellKind.allCases.first(where: { found[$0] == nil }) {
            throw LibertyError("\(library.source): no cell or combination of cells realises \(missing.rawValue) (a library needs at least an inverter, a NAND2 or NOR2, and a rising-edge D flip-flop)")
        }
        realizations = found
    }

    /// Networks of other kinds, by the kinds they need.
    static func recipe(_ kind: CellKind, _ step: (CellKind, [Ref]) -> Step?) -> Realization? {
        let a = Ref.input(0), b = Ref.input(1), c = Ref.input(2)
        func network(_ steps: [Step?], _ outputs: [Ref]) -> Realization? {
            guard steps.allSatisfy({ $0 != nil }) else { return nil }
            return .network(steps: steps.map { $0! }, outputs: outputs)
        }
        switch kind {
        case .inv:
            return network([step(.nand2, [a, a])], [.step(0, 0)]) ?? network([step(.nor2, [a, a])], [.step(0, 0)])
        case .and2: return network([step(.nand2, [a, b]), step(.inv, [.step(0, 0)])], [.step(1, 0)])
        case .or2: return network([step(.nor2, [a, b]), step(.inv, [.step(0, 0)])], [.step(1, 0)])
        case .nand2: return network([step(.and2, [a, b]), step(.inv, [.step(0, 0)])], [.step(1, 0)])
        case .nor2: return network([step(.or2, [a, b]), step(.inv, [.step(0, 0)])], [.step(1, 0)])
        case .xor2:
            // Four NAND2: n = !(ab); out = !(!(a n) !(b n)).
            return network([step(.nand2, [a, b]), step(.nand2, [a, .step(0, 0)]), step(.nand2, [b, .step(0, 0)]),
                            step(.nand2, [.step(1, 0), .step(2, 0)])], [.step(3, 0)])
        case .xnor2: return network([step(.xor2, [a, b]), step(.inv, [.step(0, 0)])], [.step(1, 0)])
        case .mux2:   // s ? y : x with (s, x, y) = inputs 0, 1, 2
            return network([step(.inv, [a]), step(.and2, [b, .step(0, 0)]), step(.and2, [c, a]), step(.or2, [.step(1, 0), .step(2, 0)])],
                           [.step(3, 0)])
        case .halfAdder: return network([step(.xor2, [a, b]), step(.and2, [a, b])], [.step(0, 0), .step(1, 0)])
        case .fullAdder:
            return network([step(.xor2, [a, b]), step(.xor2, [.step(0, 0), c]), step(.and2, [a, b]), step(.and2, [.step(0, 0), c]),
                            step(.or2, [.step(2, 0), .step(3, 0)])], [.step(1, 0), .step(4, 0)])
        case .dff: return nil
        }
    }

    static func permutations(_ n: Int) -> [[Int]] {
        if n <= 1 { return [Array(0..<n)] }
        return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
    }
}

extension LibertyLibrary {
    /// Reads a `.lib` or `.lib.gz` file.
    public static func load(_ path: String) throws -> LibertyLibrary {
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch {
            throw LibertyError("\(ErrorText.describe(error)) (check the path, or install qflow-tech-osu018 for the OSU 0.18 µm library)")
        }
        return try parse(bytes, source: path)
    }
}
