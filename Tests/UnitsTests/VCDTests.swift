import Testing
import Circuits
import Units

/// The VCD writer's output, parsed back by our reader, equals the simulated values cycle by cycle;
/// clk rises once per cycle, rst shows the reset, signals sit in a scope per block and lane.
@Suite struct VCDTests {
    @Test func waveformRoundTrips() throws {
        let c = try MacConfiguration(kind: .dint, lanes: 2, pipelineDepth: 3)
        let circuit = MacCircuit(c)
        let vcd = VCDWriter(signals: circuit.netlist.signals, scopes: VCDWriter.scopes(circuit.netlist, index: "lane", count: 2), instance: 0, module: "dint-mac")
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
            vcd.sample(sim, time: cycle, reset: cycle == 17)
            for s in circuit.netlist.signals { expected[s.name, default: []].append(UInt64(bitPattern: sim.read(s.bus, instance: 0, signed: false))) }
            sim.clock(resetting: cycle == 17 ? 1 : 0)
        }
        vcd.finish(cycles: 40)
        #expect(vcd.cycles == 40 && vcd.text.hasSuffix("#80\n"))
        let parsed = try VCDReader.parse(vcd.text)
        #expect(Set(parsed.keys) == Set(circuit.netlist.signals.map(\.name) + ["clk", "rst"]))
        func value(_ name: String, at time: Int) -> UInt64? { parsed[name]!.last { $0.time <= time }?.value }
        for (name, values) in expected {
            for (cycle, v) in values.enumerated() {
                #expect(value(name, at: 2 * cycle) == v, "\(name) at cycle \(cycle)")
                #expect(value(name, at: 2 * cycle + 1) == v, "\(name) held through the edge of cycle \(cycle)")
            }
        }
        for cycle in 0..<40 {
            #expect(value("clk", at: 2 * cycle) == 0 && value("clk", at: 2 * cycle + 1) == 1, "clk in cycle \(cycle)")
            #expect(value("rst", at: 2 * cycle) == (cycle == 17 ? 1 : 0), "rst in cycle \(cycle)")
        }
        // After the reset edge every register reads 0.
        #expect(value("acc", at: 2 * 18) == 0 && value("valid_out", at: 2 * 18) == 0)
        // Scopes: one per block, and within it one per lane for per-lane signals.
        let header = vcd.text.components(separatedBy: "$enddefinitions")[0]
        #expect(header.contains("$scope module dint-mac $end\n$var wire 1 ") && header.contains(" clk $end") && header.contains(" rst $end"))
        for scope in ["ports", "lane0", "lane1", "accumulator", "pipeline"] { #expect(header.contains("$scope module \(scope) $end"), "\(scope)") }
        #expect(header.components(separatedBy: "$scope").count == header.components(separatedBy: "$upscope").count)
    }
}
