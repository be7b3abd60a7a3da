import Circuits
import Foundation

/// How a unit is simulated: `simulate --mode`, `bench --model`, the MAC runner and the vector replay.
public enum SimulationMode: String, Sendable, CaseIterable, Codable {
    /// Word-level model (`MacModel`, `TahQuantDecoder`): bit-exact outputs, no toggles.
    case fast
    /// Gate-level netlist, bit-sliced, no toggle counting.
    case netlist
    /// Gate-level netlist with toggle counting (what the energy model needs).
    case toggles
}

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

    public init(_ configuration: MacConfiguration) {
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
    public func run(codes: [UInt8], activations: [Int8], rows: Int, length: Int, mode: SimulationMode,
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
        var model = MacModel(c)
        let t = result.transactionsPerRow
        let length = result.length
        // Transactions enter in order; the result of row r is visible D cycles after its last one.
        // A ring of the last D cycles' finishing rows (−1: none).
        let depth = c.pipelineDepth
        var finishing = [Int](repeating: -1, count: depth)
        var results = result.results
        codes.withUnsafeBufferPointer { cp in
        activations.withUnsafeBufferPointer { ap in
        results.withUnsafeMutableBufferPointer { out in
            // The row entering in cycle i shows its result after the edge ending cycle i + D − 1.
            var cycle = 0
            for r in 0..<result.rows {
                for k in 0..<t {
                    let start = r * length + k * c.lanes
                    MacDriver.cycle(&model, codes: cp.baseAddress! + start, activations: ap.baseAddress! + start,
                                    count: min(c.lanes, length - k * c.lanes), valid: true, clear: k == 0)
                    finishing[cycle % depth] = k == t - 1 ? r : -1
                    cycle += 1
                    if cycle >= depth, case let done = finishing[(cycle - depth) % depth], done >= 0 { out[done] = model.accumulator }
                }
            }
            // Drain: D − 1 idle cycles until the last transaction's result shows.
            for _ in 0..<(depth - 1) {
                MacDriver.cycle(&model, codes: cp.baseAddress!, activations: ap.baseAddress!, count: 0, valid: false, clear: false)
                finishing[cycle % depth] = -1
                cycle += 1
                if cycle >= depth, case let done = finishing[(cycle - depth) % depth], done >= 0 { out[done] = model.accumulator }
            }
        }}}
        result.results = results
        result.simulatedUnitCycles = result.totalCycles
    }

    func runNetlist(_ codes: [UInt8], _ activations: [Int8], _ result: inout Result, circuit: MacCircuit, counting: Bool,
                    vcd: VCDWriter?, progress: ((Int, Int) -> Void)?) throws {
        let sim = Simulator(circuit.netlist, countsToggles: counting)
        drive(sim, codes, activations, &result, circuit: circuit, sample: vcd.map { v in { v.sample($0, time: $1) } }, progress: progress)
        vcd?.finish(cycles: result.totalCyclesSimulated + 1)
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
        let nodes = MacDriver.inputNodes(circuit)
        var words = [UInt64](repeating: 0, count: nodes.count)
        var simulated = 0
        func readFinished() {
            guard finishingRound.count >= depth else { return }
            let round = finishingRound.removeFirst()
            guard round >= 0 else { return }
            for slice in 0..<64 where round * 64 + slice < rows {
                result.results[round * 64 + slice] = sim.read(circuit.accumulator, instance: slice, signed: true)
            }
        }
        codes.withUnsafeBufferPointer { cp in
        activations.withUnsafeBufferPointer { ap in
        words.withUnsafeMutableBufferPointer { w in
            let words = w.baseAddress!
            for round in 0..<rounds {
                let active = min(64, rows - round * 64)
                let mask = active == 64 ? ~UInt64(0) : (UInt64(1) << UInt64(active)) - 1
                for k in 0..<t {
                    // Slice s presents row round·64 + s's transaction k.
                    MacDriver.transpose(into: words, lanes: c.lanes, weightWidth: c.weightWidth, instances: active) { slice, lane in
                        let column = k * c.lanes + lane
                        guard column < length else { return nil }
                        let i = (round * 64 + slice) * length + column
                        return (cp[i], ap[i])
                    }
                    words[0] = mask
                    words[1] = k == 0 ? mask : 0
                    MacDriver.cycle(sim, inputs: nodes, words: words, active: mask, reset: 0, sample: sample.map { f in { f($0, cycle) } })
                    cycle += 1
                    simulated += active
                    finishingRound.append(k == t - 1 ? round : -1)
                    readFinished()
                }
                progress?(round + 1, rounds)
            }
            // Drain: inputs idle until the last result shows.
            for i in 0..<nodes.count { words[i] = 0 }
            for _ in 0..<(depth - 1) {
                MacDriver.cycle(sim, inputs: nodes, words: words, active: sim.activeMask, reset: 0, sample: sample.map { f in { f($0, cycle) } })
                cycle += 1
                finishingRound.append(-1)
                readFinished()
            }
        }}}
        sim.evaluate()
        sample?(sim, cycle)
        // The final evaluate above is the read-out cycle (no clock edge needed).
        result.totalCyclesSimulated = cycle
        result.simulatedUnitCycles = simulated + depth * min(64, rows)
    }
}
