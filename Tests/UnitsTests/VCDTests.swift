import Testing
import Circuits
import Units

/// The VCD writer's output, parsed back by our reader, equals the simulated values cycle by cycle.
@Suite struct VCDTests {
    @Test func waveformRoundTrips() throws {
        let c = try MacConfiguration(kind: .dint, lanes: 2, pipelineDepth: 3)
        let circuit = MacCircuit(c)
        let vcd = VCDWriter(signals: circuit.netlist.signals, instance: 0)
        let sim = Simulator(circuit.netlist)
        var expected: [String: [UInt64]] = [:]
        for cycle in 0..<40 {
            sim.set(circuit.weights[0], instances: [Int64(cycle % 16)])
            sim.set(circuit.weights[1], instances: [Int64((cycle * 7) % 16)])
            sim.set(circuit.activations[0], instances: [Int64(cycle * 37 % 256)])
            sim.set(circuit.activations[1], instances: [Int64(-cycle)])
            sim.set(circuit.validIn, word: cycle % 5 == 4 ? 0 : 1)
            sim.set(circuit.clear, word: cycle % 11 == 0 ? 1 : 0)
            sim.evaluate()
            vcd.sample(sim, time: cycle)
            for s in circuit.netlist.signals { expected[s.name, default: []].append(UInt64(bitPattern: sim.read(s.bus, instance: 0, signed: false))) }
            sim.clock()
        }
        vcd.finish(time: 40)
        let parsed = try VCDReader.parse(vcd.text)
        #expect(Set(parsed.keys) == Set(circuit.netlist.signals.map(\.name)))
        for (name, values) in expected {
            let changes = parsed[name]!
            for (cycle, v) in values.enumerated() {
                let seen = changes.last { $0.time <= cycle }?.value
                #expect(seen == v, "\(name) at cycle \(cycle)")
            }
        }
        for name in ["acc", "valid_out", "in_w0", "mul_p1", "clear", "valid_in"] { #expect(parsed[name] != nil, "\(name)") }
        #expect(vcd.text.contains("$var wire 32 ") && vcd.text.contains("$enddefinitions $end"))
    }
}
