import Testing
import Circuits
import Formats
import PropertyChecking
import TAHQuant
import Units

/// Both butterfly architectures equal the reference integer path (butterfly or bypass, then the
/// pivot un-swap) for every G, on streams of random tiles (64 streams at once, bit-sliced).
@Suite struct HadamardDatapathTests {
    /// What output i must hold: the decoder's integer path (butterfly or bypass), un-swapped.
    static func reference(codes: [Int64], flagged: Bool, pivot: Int) -> [Int64] {
        guard flagged else { return codes }
        var w = codes
        Hadamard.transform(&w)
        w.swapAt(0, pivot)
        return w
    }

    @Test(arguments: [8, 16, 32, 64, 128], HadamardDatapath.Architecture.allCases)
    func datapathEqualsTheReference(g: Int, architecture: HadamardDatapath.Architecture) {
        let d = HadamardDatapath(tileSize: g, architecture: architecture)
        let sim = Simulator(d.netlist, countsToggles: true)
        var s = CounterStream(seed: UInt64(g) &* 31 &+ UInt64(architecture == .pipelined ? 1 : 2))
        let tiles = 12
        var expected: [[[Int64]]] = [] // [tile][instance][element]
        var wrong = 0
        var cycle = 0
        var presented = 0
        let totalCycles = tiles * d.cyclesPerTile + d.latency
        for _ in 0..<totalCycles {
            let newTile = presented < tiles && cycle % d.cyclesPerTile == 0
            if newTile {
                var perInstance: [[Int64]] = []
                var codes = [[Int64]](repeating: [], count: g), flags: UInt64 = 0
                var pivots = [Int64](repeating: 0, count: 64)
                for k in 0..<64 {
                    let q = (0..<g).map { _ in Int64(Generate.int(0...3, &s) == 0 ? 15 : Generate.int(0...15, &s)) }
                    let flagged = Generate.bool(&s), pivot = Generate.int(0...(g - 1), &s)
                    for i in 0..<g { codes[i].append(q[i]) }
                    if flagged { flags |= 1 << UInt64(k) }
                    pivots[k] = Int64(pivot)
                    perInstance.append(Self.reference(codes: q, flagged: flagged, pivot: pivot))
                }
                for i in 0..<g { sim.set(d.codes[i], instances: codes[i]) }
                sim.set(d.flagged, word: flags)
                sim.set(d.pivot, instances: pivots)
                sim.set(d.start, word: ~0)
                expected.append(perInstance)
                presented += 1
            } else {
                sim.set(d.start, word: 0)
            }
            sim.step()
            cycle += 1
            // The tile presented latency clocks ago is at the outputs now.
            let age = cycle - d.latency
            if age >= 0 && age % d.cyclesPerTile == 0 && age / d.cyclesPerTile < tiles {
                let tile = age / d.cyclesPerTile
                for k in 0..<64 {
                    for i in 0..<g where sim.read(d.outputs[i], instance: k, signed: true) != expected[tile][k][i] { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0, "G \(g) \(architecture): \(wrong) outputs differ")
        #expect(d.outputWidth == 5 + g.trailingZeroBitCount && d.outputs.allSatisfy { $0.count == d.outputWidth })
        #expect(sim.totalToggles > 0)
    }
}
