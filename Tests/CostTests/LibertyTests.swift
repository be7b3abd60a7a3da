import Testing
import Foundation
import Liberty
import Circuits
import Formats
import Units
@testable import Cost

/// A small library written for these tests: units in ps and fF (scaled on reading), an
/// inverting mux only (so MUX2 must be composite), no XOR (XOR2 from NAND2), a flip-flop with
/// an active-low reset pin to tie off.
let smallLibrary = """
library (tiny) {
  time_unit : "1ps"; voltage_unit : "1V"; leakage_power_unit : "1pW"; capacitive_load_unit (1, ff);
  nom_voltage : 1.0;
  lu_table_template (t2) { variable_1 : total_output_net_capacitance; variable_2 : input_net_transition;
    index_1 ("1, 10"); index_2 ("10, 100"); }
  power_lut_template (p1) { variable_1 : input_transition_time; index_1 ("10, 100"); }
  /* an inverter */
  cell (INV) { area : 1; cell_leakage_power : 100;
    pin (A) { direction : input; capacitance : 2; }
    pin (Y) { direction : output; function : "A'";
      timing () { related_pin : "A"; timing_sense : negative_unate;
        cell_rise (t2) { values ("10, 20", "30, 40"); } cell_fall (t2) { values ("10, 20", "30, 40"); }
        rise_transition (t2) { values ("5, 5", "5, 5"); } fall_transition (t2) { values ("5, 5", "5, 5"); } } } }
  cell (NAND) { area : 2;
    pin (A, B) { direction : input; capacitance : 3; }
    pin (Y) { direction : output; function : "!(A & B)";
      timing () { related_pin : "A B"; timing_sense : negative_unate;
        cell_rise (scalar) { values ("15"); } cell_fall (scalar) { values ("15"); } } } }
  cell (NOR) { area : 2; pin (A) { direction : input; } pin (B) { direction : input; }
    pin (Y) { direction : output; function : "(A+B)'"; } }
  cell (MUXI) { area : 4; pin (A) { direction : input; } pin (B) { direction : input; } pin (S) { direction : input; }
    pin (Y) { direction : output; function : "!((S B) + (!S A))"; } }
  cell (DFFR) { area : 8; ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; clear : "!RN"; }
    pin (CK) { direction : input; clock : true; capacitance : 1;
      internal_power () { rise_power (p1) { values ("1, 2"); } fall_power (p1) { values ("1, 2"); } } }
    pin (D) { direction : input; capacitance : 1; } pin (RN) { direction : input; }
    pin (Q) { direction : output; function : "IQ";
      timing () { related_pin : "CK"; timing_type : rising_edge; cell_rise (scalar) { values ("50"); } cell_fall (scalar) { values ("50"); } } } }
  cell (SKIP) { area : 1; dont_use : true; pin (A) { direction : input; } pin (B) { direction : input; }
    pin (Y) { direction : output; function : "A^B"; } }
}
"""

let osu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib"

@Suite struct LibertyReaderTests {
    @Test func unitsAndTablesAreScaled() throws {
        let lib = try LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib")
        #expect(lib.cells.count == 6)
        let inv = try #require(lib.cell("INV"))
        #expect(inv.leakage == 0.1)                       // 100 pW in nW
        #expect(inv.pin("A")!.capacitance == 0.002)       // 2 fF in pF
        let rise = try #require(inv.pin("Y")!.timing[0].cellRise)
        #expect(rise.indices[0] == [0.001, 0.01])         // fF → pF
        #expect(rise.indices[1] == [0.01, 0.1])           // ps → ns
        #expect(rise.values == [0.01, 0.02, 0.03, 0.04])
        let nand = try #require(lib.cell("NAND"))
        #expect(nand.inputs.map(\.name) == ["A", "B"])    // pin (A, B) declares both
        #expect(nand.pin("Y")!.timing[0].relatedPins == ["A", "B"])
    }

    /// A table made from a bilinear function reproduces it everywhere, inside (interpolation)
    /// and outside (extrapolation) the index, as Liberty's look-up rule requires.
    @Test func lookUpIsBilinearWithExtrapolation() {
        var random = CounterStream(seed: 11)
        func uniform() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
        for _ in 0..<200 {
            let (a, b, c, d) = (uniform(), uniform(), uniform(), uniform())
            func f(_ x: Double, _ y: Double) -> Double { a + b * x + c * y + d * x * y }
            var xs = [uniform()], ys = [uniform()]
            for _ in 0..<3 { xs.append(xs.last! + 0.1 + uniform()); ys.append(ys.last! + 0.1 + uniform()) }
            let table = LookupTable(variables: [.outputLoad, .inputTransition], indices: [xs, ys],
                                    values: xs.flatMap { x in ys.map { y in f(x, y) } })
            for _ in 0..<20 {
                let x = -1 + 6 * uniform(), y = -1 + 6 * uniform()
                let v = table.lookUp { $0 == .outputLoad ? x : y }
                #expect(abs(v - f(x, y)) <= 1e-9 * max(1, abs(f(x, y))))
            }
        }
    }

    @Test func functionsParseWithLibertyPrecedence() throws {
        let cases: [(String, (Bool, Bool, Bool) -> Bool)] = [
            ("A B + C", { a, b, c in (a && b) || c }),
            ("A*B^C", { a, b, c in a && (b != c) }),       // ^ binds tighter than *
            ("!A+B'", { a, b, _ in !a || !b }),
            ("(A|B)&!(C)", { a, b, c in (a || b) && !c }),
            ("!((A B) + (!A C))", { a, b, c in !(a ? b : c) }),   // OSU's inverting mux, select A
        ]
        for (text, f) in cases {
            let table = try BooleanFunction.parse(text).truthTable(over: ["A", "B", "C"])
            var expected: UInt64 = 0
            for m in 0..<8 where f(m & 1 == 1, m & 2 == 2, m & 4 == 4) { expected |= 1 << UInt64(m) }
            #expect(table == expected, "\(text)")
        }
        #expect(throws: LibertyError.self) { try BooleanFunction.parse("A+") }
        #expect(throws: LibertyError.self) { try BooleanFunction.parse("(A B") }
        #expect(try BooleanFunction.parse("A B").truthTable(over: ["A"]) == nil)   // names an unknown pin
    }

    @Test func malformedInputIsOneLineWithItsPlace() {
        let cases: [(String, String)] = [
            ("library (x) { time_unit : \"1ns\" }", "expected ';'"),
            ("library (x) { time_unit : \"1ns\"; ", "not closed"),
            ("cell (x) { }", "one 'library' group"),
            ("library (x) { capacitive_load_unit (1, pf); nom_voltage : 1; }", "'time_unit' is missing"),
            ("library (x) { time_unit : \"7s\"; }", "time_unit"),
            ("library (x) { time_unit : \"1ns\"; capacitive_load_unit (1, pf); nom_voltage : 1; cell (c) { area : x; } }", "not a finite number"),
            ("library (x) { time_unit : \"1ns\"; capacitive_load_unit (1, pf); nom_voltage : 1; cell (c) { area : 1; pin (Y) { direction : output; function : \"(A\"; } } }", "not closed"),
            ("library (x) { time_unit : \"1ns\"; capacitive_load_unit (1, pf); nom_voltage : 1; lu_table_template (t) { variable_1 : input_net_transition; index_1 (\"1, 2\"); } cell (c) { area : 1; pin (Y) { direction : output; timing () { cell_rise (t) { values (\"1, 2, 3\"); } } } } }", "3 values"),
            ("library (x) { time_unit : \"1ns\"; capacitive_load_unit (1, pf); nom_voltage : 1; lu_table_template (t) { variable_1 : input_net_transition; index_1 (\"2, 1\"); } cell (c) { area : 1; } }", "increase strictly"),
            ("library (x) { /* open", "comment not closed"),
        ]
        for (text, expected) in cases {
            do {
                _ = try LibertyLibrary.parse(Array(text.utf8), source: "bad.lib")
                Issue.record("accepted: \(text)")
            } catch let e as LibertyError {
                #expect(e.message.contains(expected), "\(e.message)")
                #expect(!e.message.contains("\n"))
                #expect(e.message.hasPrefix("bad.lib"))
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func gzipIsReadAndCorruptionRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dintsim-lib-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("tiny.lib")
        try Data(smallLibrary.utf8).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", plain.path]
        try gzip.run(); gzip.waitUntilExit()
        let compressed = try Data(contentsOf: dir.appendingPathComponent("tiny.lib.gz"))
        let a = try LibertyLibrary.parse(Array(compressed), source: "tiny.lib.gz")
        #expect(a.cells.map(\.name) == (try LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib")).cells.map(\.name))
        #expect(throws: LibertyError.self) { try LibertyLibrary.parse(Array(compressed.prefix(compressed.count / 2)), source: "cut.gz") }
        var flipped = Array(compressed)
        flipped[flipped.count / 2] ^= 0xFF
        #expect(throws: LibertyError.self) { try LibertyLibrary.parse(flipped, source: "bad.gz") }
    }
}

@Suite struct CellBindingTests {
    /// Every kind's realisation computes the kind's function: a one-cell netlist per kind,
    /// mapped, against the zero-delay netlist simulator on every input combination.
    func checkRealisations(_ binding: CellBinding) {
        for kind in CellKind.allCases where kind != .dff {
            let n = Netlist()
            let x = n.input("x", width: 3)
            switch kind {
            case .inv: _ = n.not(x[0])
            case .and2: _ = n.and(x[0], x[1])
            case .or2: _ = n.or(x[0], x[1])
            case .nand2: _ = n.nand(x[0], x[1])
            case .nor2: _ = n.nor(x[0], x[1])
            case .xor2: _ = n.xor(x[0], x[1])
            case .xnor2: _ = n.xnor(x[0], x[1])
            case .mux2: _ = n.mux(x[0], x[1], x[2])
            case .halfAdder: _ = n.halfAdd(x[0], x[1])
            case .fullAdder: _ = n.fullAdd(x[0], x[1], x[2])
            case .dff: break
            }
            let mapped = MappedNetlist(n, binding: binding)
            let reference = Simulator(n), timed = TimedSimulator(mapped.gates)
            let words: [UInt64] = [0xAAAA_AAAA_AAAA_AAAA, 0xCCCC_CCCC_CCCC_CCCC, 0xF0F0_F0F0_F0F0_F0F0]
            reference.set(x, words: words); timed.set(x, words: words)
            reference.evaluate(); timed.evaluate()
            for node in [n.out0[0], n.out1[0]] where node > Netlist.one {
                #expect(reference.word(node) == timed.word(node), "\(kind) as \(binding.describe(kind))")
            }
        }
    }

    @Test func smallLibraryBuildsMissingKinds() throws {
        let binding = try CellBinding(LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib"))
        #expect(binding.describe(.inv) == "INV")
        #expect(binding.describe(.mux2) == "MUXI + INV")        // complement + inverter
        #expect(binding.describe(.xor2) == "NAND + NAND + NAND + NAND")
        #expect(binding.describe(.and2) == "NAND + INV")
        #expect(binding.describe(.dff) == "DFFR")
        #expect(binding.isComposite(.fullAdder))
        checkRealisations(binding)
    }

    @Test func osu018BindsEveryKind() throws {
        guard FileManager.default.fileExists(atPath: osu018) else { return }   // test.sh installs it
        let binding = try CellBinding(LibertyLibrary.load(osu018))
        #expect(binding.describe(.fullAdder) == "FAX1")
        #expect(binding.describe(.mux2) == "MUX2X1 + INVX1")
        #expect(binding.describe(.dff) == "DFFPOSX1")
        checkRealisations(binding)
    }

    @Test func aLibraryWithoutAFlipFlopIsRefused() throws {
        let text = smallLibrary.replacingOccurrences(of: "clocked_on : \"CK\"", with: "clocked_on : \"!CK\"")
        #expect(throws: LibertyError.self) { try CellBinding(LibertyLibrary.parse(Array(text.utf8), source: "t.lib")) }
    }
}

@Suite struct TimedSimulationTests {
    func randomMac(_ c: MacConfiguration, rows: Int, length: Int, seed: UInt64) -> ([UInt8], [Int8]) {
        var r = CounterStream(seed: seed)
        let valid = (0..<256).filter { c.isValidCode(UInt8($0)) }
        return ((0..<(rows * length)).map { _ in UInt8(valid[Int(r.next() % UInt64(valid.count))]) },
                (0..<(rows * length)).map { _ in Int8(truncatingIfNeeded: r.next()) })
    }

    /// Every cycle, every node of the timed simulation settles to the zero-delay value, for
    /// every delay model; glitches are never negative; the zero model has none.
    @Test(arguments: [DelayModel.zero, .unit, .liberty])
    func settledValuesEqualZeroDelay(_ model: DelayModel) throws {
        let technology: Technology
        if model == .liberty {
            technology = .liberty(try CellBinding(LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib")))
        } else {
            technology = .table(try TechnologyTable.nangate45())
        }
        for kind in [MacKind.int8, .dint, .fp4] {
            for (lanes, depth) in [(1, 1), (4, 2), (2, 3)] {
                let c = try MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: depth, accumulatorWidth: 24, overflow: lanes == 4 ? .saturate : .wrap)
                let circuit = MacCircuit(c)
                let timed = try TimedCost(circuit.netlist, technology: technology, delayModel: model)
                let a = Simulator(circuit.netlist), b = TimedSimulator(timed.gates)
                let internalNodes = Set(circuit.netlist.out2.filter { $0 > Netlist.one })
                var r = CounterStream(seed: UInt64(lanes * 10 + depth))
                for cycle in 0..<60 {
                    for bus in circuit.weights + circuit.activations + [[circuit.validIn], [circuit.clear]] {
                        let words = bus.map { _ in r.next() }
                        a.set(bus, words: words); b.set(bus, words: words)
                    }
                    a.evaluate(); b.evaluate()
                    // Every node but the full adders' internal a⊕b, which a library cell hides.
                    for node in 2..<circuit.netlist.nodeCount where !internalNodes.contains(Node(node)) {
                        #expect(a.word(Node(node)) == b.word(Node(node)), "\(kind) \(lanes)×\(depth) \(model) cycle \(cycle) node \(node)")
                        if a.word(Node(node)) != b.word(Node(node)) { return }
                    }
                    let reset: UInt64 = cycle == 30 ? 0x00FF : 0
                    a.clock(resetting: reset); b.clock(resetting: reset)
                }
                #expect(b.glitchToggles.allSatisfy { $0 >= 0 })
                if model == .zero { #expect(b.totalGlitchToggles == 0) } else { #expect(b.totalGlitchToggles > 0) }
            }
        }
    }

    /// Zero delay on the table: the timed simulator counts exactly the netlist simulator's toggles.
    @Test func zeroDelayTogglesEqualTheNetlistSimulator() throws {
        let c = try MacConfiguration(kind: .dint, lanes: 4)
        let (codes, acts) = randomMac(c, rows: 100, length: 32, seed: 3)
        let table = try TechnologyTable.nangate45()
        let reference = try MacCost.evaluate(c, codes: codes, activations: acts, rows: 100, length: 32, table: table)
        let circuit = MacCircuit(c)
        let sim = TimedSimulator(GateNetlist(circuit.netlist))
        let run = MacRunner(c).run(codes: codes, activations: acts, rows: 100, length: 32, on: sim, circuit: circuit)
        #expect(run.results == reference.run.results)
        #expect(sim.totalFunctionalToggles == reference.run.totalToggles)
    }

    /// A pulse shorter than the path delay that would end it is rejected, a longer one kept
    /// (Verilog's inertial path delays); rising and falling outputs take their own delays.
    @Test func shortPulsesAreRejected() {
        let n = Netlist()
        let x = n.input("x", width: 2)
        let late = n.not(x[1])            // falls `width` ticks after x1 rises
        let y = n.xnor(x[0], late)        // would be 1 from x0's rise until `late` falls
        var g = GateNetlist(n)
        for width in [3, 10] {
            g.gates[0].riseDelays = (Int32(width), 0, 0); g.gates[0].fallDelays = (Int32(width), 0, 0)
            g.gates[1].riseDelays = (5, 5, 0); g.gates[1].fallDelays = (5, 5, 0)
            let sim = TimedSimulator(g)
            sim.set(x, words: [~0, ~0])
            sim.evaluate()
            #expect(sim.word(y) == 0)
            #expect(sim.glitchToggles[1] == (width < 5 ? 0 : 2 * 64), "pulse of \(width) ticks through a 5-tick path")
        }
        // Rise 2, fall 7 on the inverter, no delay on y: each edge of `late` at its own time.
        g.gates[0].riseDelays = (2, 0, 0); g.gates[0].fallDelays = (7, 0, 0)
        g.gates[1].riseDelays = (0, 0, 0); g.gates[1].fallDelays = (0, 0, 0)
        let sim = TimedSimulator(g)
        sim.set(x, words: [0, ~0])        // late 1 → 0 at 7, y = xnor(0, late) 0 → 1 at 7
        sim.evaluate()
        #expect(sim.word(late) == 0 && sim.word(y) == ~0)
        sim.clock(resetting: 0)
        sim.set(x, words: [~0, 0])        // x0 rises at 0: y 1 → 0 at 0; late rises at 2: y → 1 at 2
        sim.evaluate()
        #expect(sim.word(late) == ~0 && sim.word(y) == ~0)
        #expect(sim.glitchToggles[1] == 2 * 64)   // the 0-to-2 dip on y
    }
}

@Suite struct StaticTimingTests {
    /// A chain of k inverters on the small library: every stage sees the next stage's pin
    /// (2 fF) and a 5 ps input transition, so the path is k × the table at that point, plus
    /// clock-to-Q, with no setup arc.
    @Test func anInverterChainAddsUp() throws {
        let lib = try LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib")
        let binding = try CellBinding(lib)
        let table = lib.cell("INV")!.pin("Y")!.timing[0].cellRise!
        for k in [1, 2, 5] {
            let n = Netlist()
            let r = n.makeRegister("r", width: 1)
            var v = r.q[0]
            for _ in 0..<k { v = n.not(v) }
            n.connect(r, d: [v])
            let sta = StaticTiming(MappedNetlist(n, binding: binding), inputTransitionNs: 0.005)
            // Each inverter drives one pin: the next inverter's A (2 fF), or the flip-flop's D (1 fF).
            let inner = table.lookUp { $0 == .outputLoad ? 0.002 : 0.005 }, last = table.lookUp { $0 == .outputLoad ? 0.001 : 0.005 }
            #expect(abs(sta.criticalPathNs - (0.05 + Double(k - 1) * inner + last)) < 1e-12)
            #expect(sta.path.count == k + 1)
        }
    }
}
