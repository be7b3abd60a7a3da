import Circuits
import Formats
import TAHQuant

/// Runs a whole encoded tensor through the gate-level decode datapath (integer butterflies,
/// bypass, un-swap, scale/round stage), 64 tiles at once (bit-sliced: tile τ goes to instance
/// τ mod 64 in round τ / 64).
///
/// Cycle accounting, stated for one datapath decoding all N tiles back to back:
/// cycles = N · cyclesPerTile + latency; throughput = 1 / cyclesPerTile tiles per cycle.
public struct HadamardDecodeRun: Sendable {
    public let bits: [UInt32]
    public let tiles: Int
    public let cyclesPerTile: Int
    public let latency: Int
    public var cycles: Int { tiles * cyclesPerTile + latency }
    public let togglesByBlock: [String: Int]
    public let cellToggles: [Int]
    public let internalToggles: [Int]
    /// Clock cycles simulated, summed over the busy instances (for energy and throughput).
    public let simulatedUnitCycles: Int
}

public enum HadamardDecodeRunner {
    public static func run(_ t: TahQuantTensor, architecture: HadamardDatapath.Architecture, output: ScaleRoundStage.Output,
                           vcd: VCDWriter? = nil, datapath: HadamardDatapath? = nil) -> HadamardDecodeRun {
        let d = datapath ?? HadamardDatapath(tileSize: t.configuration.tileSize, architecture: architecture, output: output)
        let sim = Simulator(d.netlist)
        let r = drive(t, datapath: d, on: sim, sample: vcd.map { v in { s, c in v.sample(s, time: c) } })
        vcd?.finish(cycles: (t.tileCount + 63) / 64 * d.cyclesPerTile + d.latency)
        return HadamardDecodeRun(bits: r.bits, tiles: t.tileCount, cyclesPerTile: d.cyclesPerTile, latency: d.latency,
                                 togglesByBlock: sim.togglesByBlock(), cellToggles: sim.cellToggles, internalToggles: sim.internalToggles,
                                 simulatedUnitCycles: r.simulatedUnitCycles)
    }

    /// The tiles of `t` through `sim` (a simulator of `d.netlist`: the netlist simulator, or the
    /// timed one on its mapped gates), 64 tiles per round; `sample` sees each settled cycle
    /// before its edge. Returns the output bit patterns and the unit-cycles simulated.
    public static func drive<S: BitSlicedSimulation>(_ t: TahQuantTensor, datapath d: HadamardDatapath, on sim: S,
                                                     sample: ((S, Int) -> Void)? = nil) -> (bits: [UInt32], simulatedUnitCycles: Int) {
        let g = t.configuration.tileSize
        let rounds = (t.tileCount + 63) / 64
        var bits = [UInt32](repeating: 0, count: t.codes.count)
        let clocks = rounds * d.cyclesPerTile + d.latency
        var simulated = 0
        for c in 0..<clocks {
            let presenting = c % d.cyclesPerTile == 0 && c / d.cyclesPerTile < rounds
            if presenting {
                let round = c / d.cyclesPerTile
                let first = round * 64, active = min(64, t.tileCount - first)
                sim.activeMask = active == 64 ? ~0 : (UInt64(1) << UInt64(active)) - 1
                var codeWords = [[UInt64]](repeating: [0, 0, 0, 0], count: g)
                var flags: UInt64 = 0
                var pivots = [Int64](repeating: 0, count: 64), scales = pivots, zeros = pivots
                for k in 0..<active {
                    let index = first + k
                    for i in 0..<g {
                        let q = t.codes[index * g + i]
                        for b in 0..<4 where (q >> UInt8(b)) & 1 == 1 { codeWords[i][b] |= 1 << UInt64(k) }
                    }
                    if t.flagged[index] { flags |= 1 << UInt64(k) }
                    pivots[k] = Int64(t.pivots[index]); scales[k] = Int64(t.scales[index]); zeros[k] = Int64(t.zeros[index])
                }
                for i in 0..<g { sim.set(d.codes[i], words: codeWords[i]) }
                sim.set(d.flagged, word: flags)
                sim.set(d.pivot, instances: pivots)
                sim.set(d.scale, instances: scales)
                sim.set(d.zero, instances: zeros)
                sim.set(d.start, word: ~0)
            } else {
                sim.set(d.start, word: 0)
            }
            sim.evaluate()
            sample?(sim, c)
            sim.clock(resetting: 0)
            simulated += sim.activeMask.nonzeroBitCount
            let age = c + 1 - d.latency
            if age >= 0 && age % d.cyclesPerTile == 0 && age / d.cyclesPerTile < rounds {
                let first = age / d.cyclesPerTile * 64
                for k in 0..<min(64, t.tileCount - first) {
                    for i in 0..<g { bits[(first + k) * g + i] = UInt32(truncatingIfNeeded: sim.read(d.values[i], instance: k, signed: false)) }
                }
            }
        }
        return (bits, simulated)
    }
}
