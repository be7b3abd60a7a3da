import Testing
import Circuits
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
}
