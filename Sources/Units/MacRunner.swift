import Circuits
import Foundation

/// Runs many independent dot products through a MAC unit and accounts the cycles.
///
/// **Schedule.** Row r (a dot product of length K) is fed as T = ⌈K/N⌉ transactions of N lanes
/// (lanes past K carry weight 0 and activation 0), the first with `clear`. A unit processes its
/// rows back to back, one transaction per cycle, then drains.
///
/// **Bit-slicing.** The netlist simulator runs 64 identical units at once: row r goes to unit
/// r mod 64 as its (r / 64)-th row. Results are those of one unit per row; toggles are summed
/// over the units that are busy (idle ones are masked out).
///
/// **Cycle accounting** (stated for one unit processing all R rows back to back, the way
/// systolic-array simulators report): compute cycles = R·T, latency = pipeline depth D,
/// total cycles = R·T + D (the last transaction enters in cycle R·T − 1 and its result is read
/// in cycle R·T − 1 + D), fill = drain = D, stalls = 0 (these units never stall),
/// utilization = R·K / (N · total cycles).
public struct MacRunner {
    public enum Mode: String, Sendable, CaseIterable {
        /// Word-level model only: bit-exact results, no toggles.
        case fast
        /// Gate-level netlist, bit-sliced, no toggle counting.
        case netlist
        /// Gate-level netlist with toggle counting (what the energy model needs).
        case toggles
    }

    public struct Result: Sendable {
        public var results: [Int64]
        public var rows: Int
        public var length: Int
        public var configuration: MacConfiguration
        public var transactionsPerRow: Int { (length + configuration.lanes - 1) / configuration.lanes }
        public var computeCycles: Int { rows * transactionsPerRow }
        public var latency: Int { configuration.pipelineDepth }
        public var totalCycles: Int { computeCycles + latency }
        public var macs: Int { rows * length }
        public var utilization: Double { totalCycles == 0 ? 0 : Double(macs) / Double(configuration.lanes * totalCycles) }
        /// Toggles per block (netlist modes with counting only).
        public var togglesByBlock: [String: Int] = [:]
        /// Per-cell toggle counts (index = netlist cell), for the energy model.
        public var cellToggles: [Int] = []
        public var internalToggles: [Int] = []
        public var totalToggles: Int { togglesByBlock.values.reduce(0, +) }
        /// Clock cycles simulated by the bit-sliced units together (for throughput figures).
        public var simulatedUnitCycles: Int = 0
        /// Cycles the bit-sliced simulation ran (all 64 slices at once), the read-out cycle excluded.
        public var totalCyclesSimulated: Int = 0
    }

    public let configuration: MacConfiguration

    public init(_ configuration: MacConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// The exact results by plain arithmetic: per row, Σ over transactions of the lane sums,
    /// accumulated under the overflow rule.
    public func reference(codes: [UInt8], activations: [Int8], rows: Int, length: Int) -> [Int64] {
        let c = configuration
        return (0..<rows).map { r in
            var acc: Int64 = 0
            for t in stride(from: 0, to: length, by: c.lanes) {
                var s: Int64 = 0
                for k in t..<min(t + c.lanes, length) { s += c.product(code: codes[r * length + k], activation: activations[r * length + k]) }
                acc = c.accumulate(t == 0 ? 0 : acc, s)
            }
            return acc
        }
    }

    /// `circuit`, when given, must be built from this runner's configuration (a caller that
    /// already has one — for its VCD signals or its area — avoids building it twice).
    public func run(codes: [UInt8], activations: [Int8], rows: Int, length: Int, mode: Mode,
                    vcd: VCDWriter? = nil, circuit: MacCircuit? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        precondition(codes.count == rows * length && activations.count == rows * length)
        var result = Result(results: [Int64](repeating: 0, count: rows), rows: rows, length: length, configuration: configuration)
        if rows == 0 || length == 0 { return result }
        switch mode {
        case .fast: runModel(codes, activations, &result)
        case .netlist, .toggles:
            precondition(circuit.map { $0.configuration == configuration } ?? true, "circuit built for another configuration")
            try runNetlist(codes, activations, &result, circuit: circuit ?? MacCircuit(configuration), counting: mode == .toggles, vcd: vcd, progress: progress)
        }
        return result
    }

    func runModel(_ codes: [UInt8], _ activations: [Int8], _ result: inout Result) {
        let c = configuration
        var model = try! MacModel(c)
        let t = result.transactionsPerRow
        let length = result.length
        // Transactions enter in order; the result of row r is visible D cycles after its last one.
        var finishing: [Int] = []
        for r in 0..<result.rows {
            for k in 0..<t {
                var s: Int64 = 0
                let base = r * length
                for lane in 0..<c.lanes where k * c.lanes + lane < length {
                    let i = base + k * c.lanes + lane
                    s += c.product(code: codes[i], activation: activations[i])
                }
                model.step(laneSum: s, valid: true, clear: k == 0)
                finishing.append(k == t - 1 ? r : -1)
                if finishing.count >= c.pipelineDepth {
                    let done = finishing.removeFirst()
                    if done >= 0 { result.results[done] = model.accumulator }
                }
            }
        }
        // Drain: D − 1 idle cycles until the last transaction's result shows.
        for _ in 0..<(c.pipelineDepth - 1) {
            model.step(laneSum: 0, valid: false, clear: false)
            finishing.append(-1)
            let done = finishing.removeFirst()
            if done >= 0 { result.results[done] = model.accumulator }
        }
        result.simulatedUnitCycles = result.totalCycles
    }

    func runNetlist(_ codes: [UInt8], _ activations: [Int8], _ result: inout Result, circuit: MacCircuit, counting: Bool,
                    vcd: VCDWriter?, progress: ((Int, Int) -> Void)?) throws {
        let sim = Simulator(circuit.netlist, countsToggles: counting)
        drive(sim, codes, activations, &result, circuit: circuit, sample: vcd.map { v in { v.sample($0, time: $1) } }, progress: progress)
        vcd?.finish(time: result.totalCyclesSimulated + 1)
        if counting {
            result.togglesByBlock = sim.togglesByBlock()
            result.cellToggles = sim.cellToggles
            result.internalToggles = sim.internalToggles
        }
    }

    /// Runs the rows through any bit-sliced simulation of `circuit` (the zero-delay netlist
    /// simulator, or the timed one for glitch-aware activity): the schedule above, 64 rows at
    /// a time, idle units masked out of the toggle counts.
    public func run<S: BitSlicedSimulation>(codes: [UInt8], activations: [Int8], rows: Int, length: Int, on sim: S, circuit: MacCircuit,
                                            progress: ((Int, Int) -> Void)? = nil) -> Result {
        precondition(codes.count == rows * length && activations.count == rows * length)
        precondition(circuit.configuration == configuration, "circuit built for another configuration")
        var result = Result(results: [Int64](repeating: 0, count: rows), rows: rows, length: length, configuration: configuration)
        if rows == 0 || length == 0 { return result }
        drive(sim, codes, activations, &result, circuit: circuit, sample: nil, progress: progress)
        return result
    }

    func drive<S: BitSlicedSimulation>(_ sim: S, _ codes: [UInt8], _ activations: [Int8], _ result: inout Result, circuit: MacCircuit,
                                       sample: ((S, Int) -> Void)?, progress: ((Int, Int) -> Void)?) {
        let c = configuration
        let t = result.transactionsPerRow
        let rows = result.rows, length = result.length
        let rounds = (rows + 63) / 64
        let depth = c.pipelineDepth
        // Per cycle: which round's row (if any) finishes in each slice when its result shows.
        var finishingRound: [Int] = []
        var cycle = 0
        let ww = c.weightWidth
        // Bit-sliced input words: lane l's bit b at [l·width + b]; filled by transposing the
        // 64 rows of a round, without allocating in the loop.
        var wordsW = [UInt64](repeating: 0, count: c.lanes * ww)
        var wordsA = [UInt64](repeating: 0, count: c.lanes * 8)
        var simulated = 0
        func readFinished() {
            guard finishingRound.count >= depth else { return }
            let round = finishingRound.removeFirst()
            guard round >= 0 else { return }
            for slice in 0..<64 where round * 64 + slice < rows {
                result.results[round * 64 + slice] = sim.read(circuit.accumulator, instance: slice, signed: true)
            }
        }
        for round in 0..<rounds {
            let active = min(64, rows - round * 64)
            sim.activeMask = active == 64 ? ~0 : (UInt64(1) << UInt64(active)) - 1
            for k in 0..<t {
                codes.withUnsafeBufferPointer { cp in
                    activations.withUnsafeBufferPointer { ap in
                        wordsW.withUnsafeMutableBufferPointer { wp in
                            wordsA.withUnsafeMutableBufferPointer { aw in
                                for i in wp.indices { wp[i] = 0 }
                                for i in aw.indices { aw[i] = 0 }
                                for l in 0..<c.lanes {
                                    let column = k * c.lanes + l
                                    guard column < length else { continue }
                                    var i = round * 64 * length + column
                                    for slice in 0..<UInt64(active) {
                                        let code = UInt64(cp[i]), act = UInt64(UInt8(bitPattern: ap[i]))
                                        for b in 0..<ww { wp[l * ww + b] |= ((code >> UInt64(b)) & 1) << slice }
                                        for b in 0..<8 { aw[l * 8 + b] |= ((act >> UInt64(b)) & 1) << slice }
                                        i += length
                                    }
                                }
                            }
                        }
                    }
                }
                for l in 0..<c.lanes {
                    sim.set(circuit.weights[l], words: wordsW, from: l * ww)
                    sim.set(circuit.activations[l], words: wordsA, from: l * 8)
                }
                sim.set(circuit.validIn, word: sim.activeMask)
                sim.set(circuit.clear, word: k == 0 ? sim.activeMask : 0)
                sim.evaluate()
                sample?(sim, cycle)
                sim.clock(resetting: 0)
                cycle += 1
                simulated += active
                finishingRound.append(k == t - 1 ? round : -1)
                readFinished()
            }
            progress?(round + 1, rounds)
        }
        // Drain: inputs idle until the last result shows.
        for l in 0..<c.lanes {
            sim.set(circuit.weights[l], words: [UInt64](repeating: 0, count: c.weightWidth))
            sim.set(circuit.activations[l], words: [UInt64](repeating: 0, count: 8))
        }
        sim.set(circuit.validIn, word: 0)
        sim.set(circuit.clear, word: 0)
        for _ in 0..<(depth - 1) {
            sim.evaluate()
            sample?(sim, cycle)
            sim.clock(resetting: 0)
            cycle += 1
            finishingRound.append(-1)
            readFinished()
        }
        sim.evaluate()
        sample?(sim, cycle)
        // The final evaluate above is the read-out cycle (no clock edge needed).
        result.totalCyclesSimulated = cycle
        result.simulatedUnitCycles = simulated + depth * min(64, rows)
    }
}
