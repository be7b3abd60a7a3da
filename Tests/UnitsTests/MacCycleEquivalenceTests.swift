import Testing
import Circuits
import Kernels
import Formats
import PropertyChecking
import Units

/// The word-level model and the gate-level netlist agree on `acc` and `valid_out` in every cycle,
/// for random streams with valid gaps and clears, over the configuration space.
@Suite struct MacCycleEquivalenceTests {
    struct Setup: CustomStringConvertible {
        let configuration: MacConfiguration
        let seed: UInt64
        var description: String {
            let c = configuration
            return "\(c.kind) lanes \(c.lanes) depth \(c.pipelineDepth) W \(c.accumulatorWidth) \(c.overflow) \(c.multiplier) \(c.adder) seed \(seed)"
        }
    }

    static func randomCode(_ kind: MacKind, _ s: inout CounterStream) -> UInt8 {
        switch kind {
        case .int8: return UInt8(truncatingIfNeeded: s.next())
        case .dint: return [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15][Generate.int(0...14, &s)]
        case .fp4: return UInt8(Generate.int(0...15, &s)) // −0 (1000) included: valid input
        case .codeBook(let f): return f.sortedCodes[Generate.int(0...(f.sortedCodes.count - 1), &s)]
        }
    }

    @Test func modelEqualsNetlistEveryCycle() {
        let kinds: [MacKind] = [.int8, .dint, .fp4, .codeBook(.dint4), .codeBook(.int4)]
        let report = checkProperty(seed: 77, count: 50, generate: { s -> Setup in
            let kind = kinds[Generate.int(0...4, &s)]
            let shape = try! MacConfiguration(kind: kind, lanes: [1, 2, 3, 4, 16][Generate.int(0...4, &s)],
                                              pipelineDepth: Generate.int(1...3, &s))
            let overflow: OverflowRule = Generate.bool(&s) ? .wrap : .saturate
            let multiplier = MultiplierArchitecture.allCases[Generate.int(0...1, &s)]
            let adder = AdderArchitecture.allCases[Generate.int(0...1, &s)]
            // Narrow accumulators overflow within a few cycles.
            let c = try! shape.with(accumulatorWidth: shape.treeWidth + Generate.int(0...6, &s), overflow: overflow, multiplier: multiplier, adder: adder)
            return Setup(configuration: c, seed: s.next())
        }) { setup in
            let c = setup.configuration
            let circuit = MacCircuit(c)
            var models = [MacModel](repeating: MacModel(c), count: 64)
            let sim = Simulator(circuit.netlist, countsToggles: false)
            var s = CounterStream(seed: setup.seed)
            for cycle in 0..<120 {
                var codes = [[UInt8]](repeating: [], count: 64), acts = [[Int8]](repeating: [], count: 64)
                var valid = [Bool](repeating: false, count: 64), clear = [Bool](repeating: false, count: 64)
                for k in 0..<64 {
                    codes[k] = (0..<c.lanes).map { _ in Self.randomCode(c.kind, &s) }
                    acts[k] = (0..<c.lanes).map { _ in Int8(truncatingIfNeeded: s.next()) }
                    valid[k] = Generate.int(0...4, &s) != 0
                    clear[k] = Generate.int(0...9, &s) == 0
                    MacDriver.cycle(&models[k], codes: codes[k], activations: acts[k], count: c.lanes, valid: valid[k], clear: clear[k])
                }
                for l in 0..<c.lanes {
                    sim.set(circuit.weights[l], instances: codes.map { Int64($0[l]) })
                    sim.set(circuit.activations[l], instances: acts.map { Int64($0[l]) })
                }
                sim.set(circuit.validIn, word: valid.enumerated().reduce(0) { $1.element ? $0 | 1 << UInt64($1.offset) : $0 })
                sim.set(circuit.clear, word: clear.enumerated().reduce(0) { $1.element ? $0 | 1 << UInt64($1.offset) : $0 })
                sim.step()
                for k in 0..<64 {
                    let acc = sim.read(circuit.accumulator, instance: k, signed: true)
                    let vo = (sim.word(circuit.validOut) >> UInt64(k)) & 1 == 1
                    if acc != models[k].accumulator || vo != models[k].validOut {
                        return "cycle \(cycle) instance \(k): netlist acc \(acc) valid \(vo), model \(models[k].accumulator) \(models[k].validOut)"
                    }
                }
            }
            return nil
        }
        #expect(report.passed, "\(report)")
    }

    /// The model's two-slot ring, branch-free accumulator and in-place reset equal the plain
    /// statement of the unit: a FIFO of depth − 1 transactions, `MacConfiguration.accumulate`,
    /// and a reset that is a fresh model — on the accumulator, valid_out and the landed-out-of-range
    /// flag, with accumulators narrow enough to overflow every few cycles.
    @Test(arguments: OverflowRule.allCases)
    func modelEqualsThePlainStatement(overflow: OverflowRule) throws {
        var s = CounterStream(seed: 2026)
        for depth in 1...3 {
            for lanes in [1, 3, 16] {
                let shape = try MacConfiguration(kind: .int8, lanes: lanes, pipelineDepth: depth)
                let c = try shape.with(accumulatorWidth: shape.treeWidth + 1, overflow: overflow)
                var model = MacModel(c)
                var fifo = [(sum: Int64, valid: Bool, clear: Bool)](repeating: (0, false, false), count: depth - 1)
                var acc: Int64 = 0, validOut = false, landed = false
                for cycle in 0..<4000 {
                    let codes = (0..<lanes).map { _ in UInt8(truncatingIfNeeded: s.next()) }
                    let acts = (0..<lanes).map { _ in Int8(truncatingIfNeeded: s.next()) }
                    let valid = Generate.int(0...3, &s) != 0, clear = Generate.int(0...7, &s) == 0, reset = Generate.int(0...49, &s) == 0
                    MacDriver.cycle(&model, codes: codes, activations: acts, count: lanes, valid: valid, clear: clear, reset: reset)
                    if reset {
                        fifo = fifo.map { _ in (0, false, false) }
                        (acc, validOut, landed) = (0, false, false)
                    } else {
                        let sum = zip(codes, acts).reduce(Int64(0)) { $0 + c.product(code: $1.0, activation: $1.1) }
                        fifo.append((sum, valid, clear))
                        let stage = fifo.removeFirst()
                        if stage.valid {
                            let base = stage.clear ? 0 : acc
                            acc = c.accumulate(base, stage.sum)
                            landed = acc != base + stage.sum
                        } else {
                            landed = false
                        }
                        validOut = stage.valid
                    }
                    #expect(model.accumulator == acc && model.validOut == validOut && model.landedOutOfRange == landed,
                            "depth \(depth) lanes \(lanes) cycle \(cycle): model \(model.accumulator) \(model.validOut) \(model.landedOutOfRange), statement \(acc) \(validOut) \(landed)")
                    if model.accumulator != acc { return }
                }
            }
        }
    }

    /// Every instruction set this CPU supports, with W words per node, equals W one-word simulators on
    /// the portable kernel side by side, each given its 64 instances: every node's value after
    /// every cycle, and every cell's output and internal toggles, with per-word active masks and
    /// resets. (The portable one-word simulator is held to the MAC model and to the timed
    /// simulator's zero-delay toggles elsewhere.)
    @Test(arguments: InstructionSet.supported, [1, 2, 4])
    func everyInstructionSetAndSliceWidthEqualsPortableNarrowSimulators(instructionSet: InstructionSet, words w: Int) throws {
        guard instructionSet != .portable || w > 1 else { return }
        for (kind, lanes, depth) in [(MacKind.int8, 3, 2), (.dint, 16, 3), (.fp4, 1, 1)] {
            let c = try MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: depth)
            let circuit = MacCircuit(c)
            let nodes = MacDriver.inputNodes(circuit)
            let wide = Simulator(circuit.netlist, countsToggles: true, wordsPerNode: w, instructionSet: instructionSet)
            let narrow = (0..<w).map { _ in Simulator(circuit.netlist, countsToggles: true, instructionSet: .portable) }
            var s = CounterStream(seed: UInt64(31 * w + lanes))
            for cycle in 0..<60 {
                // Random bits on every input; weights outside the format are fine for a netlist check.
                let inputs = (0..<(nodes.count * w)).map { _ in s.next() }
                let active = (0..<w).map { _ in Generate.int(0...3, &s) == 0 ? s.next() : ~0 }
                let reset = (0..<w).map { _ in Generate.int(0...9, &s) == 0 ? s.next() : 0 }
                inputs.withUnsafeBufferPointer { i in
                    active.withUnsafeBufferPointer { a in
                        reset.withUnsafeBufferPointer { r in
                            MacDriver.cycle(wide, inputs: nodes, words: i.baseAddress!, active: a.baseAddress!, reset: r.baseAddress!)
                        }
                    }
                }
                let wideValues = wide.values
                for j in 0..<w {
                    let own = (0..<nodes.count).map { inputs[$0 * w + j] }
                    own.withUnsafeBufferPointer { MacDriver.cycle(narrow[j], inputs: nodes, words: $0.baseAddress!, active: active[j], reset: reset[j]) }
                    let narrowValues = narrow[j].values
                    for n in 0..<circuit.netlist.nodeCount where wideValues[n * w + j] != narrowValues[n] {
                        Issue.record("\(kind) lanes \(lanes) cycle \(cycle): node \(n) word \(j) differs")
                        return
                    }
                }
            }
            let cells = zip(narrow.dropFirst().reduce(narrow[0].cellToggles) { zip($0, $1.cellToggles).map(+) }, wide.cellToggles)
            let inner = zip(narrow.dropFirst().reduce(narrow[0].internalToggles) { zip($0, $1.internalToggles).map(+) }, wide.internalToggles)
            #expect(cells.allSatisfy { $0 == $1 } && inner.allSatisfy { $0 == $1 }, "\(kind) lanes \(lanes): toggles differ")
            #expect(wide.totalToggles > 0 && wide.totalToggles == narrow.reduce(0) { $0 + $1.totalToggles })
        }
    }
}
