/// What a cycle-by-cycle bit-sliced simulation offers a test bench (64 instances per word).
public protocol BitSlicedSimulation: AnyObject {
    var activeMask: UInt64 { get set }
    func set(_ bus: Bus, words: [UInt64], from start: Int)
    func set(_ node: Node, word: UInt64)
    func evaluate()
    func clock(resetting: UInt64)
    func word(_ node: Node) -> UInt64
}

extension BitSlicedSimulation {
    public func set(_ bus: Bus, words: [UInt64]) { set(bus, words: words, from: 0) }

    /// The value of a bus in one instance, as a signed (two's complement) or unsigned integer.
    public func read(_ bus: Bus, instance k: Int, signed: Bool) -> Int64 {
        var v: Int64 = 0
        for (bit, node) in bus.enumerated() where (word(node) >> UInt64(k)) & 1 == 1 { v |= 1 << Int64(bit) }
        if signed && bus.count < 64 && (v >> Int64(bus.count - 1)) & 1 == 1 { v -= 1 << Int64(bus.count) }
        return v
    }
}

extension Simulator: BitSlicedSimulation {}

/// Glitch-aware, bit-sliced timed simulation of a `GateNetlist` (docs/cost-model.md, "Delay
/// models").
///
/// A cycle starts with the sources changing: primary inputs at time 0, flip-flop outputs at
/// their clock-to-Q delay. Every gate, in order, turns its inputs' waveforms into its output's:
/// at each time t at which an input changes as seen through its delay (an input i event at
/// time s is seen at s + dᵢ), the output is the gate's function of the inputs seen at t; equal
/// consecutive values are merged. Then pulses shorter than the gate's inertial delay are
/// removed, per instance: a change at t is kept in an instance only if that instance's value
/// does not change again before t + inertial. The last value of every waveform is the gate's
/// function of its inputs' last values, so the settled values equal a zero-delay evaluation.
/// A toggle is a change in a waveform; the functional toggles of a node are those that change
/// its settled value between cycles (0 or 1 per instance per cycle), the rest are glitches.
public final class TimedSimulator: BitSlicedSimulation {
    public let gates: GateNetlist
    public var activeMask: UInt64 = ~0
    public var countsToggles: Bool
    /// Current values (after `evaluate`: the settled ones).
    var values: [UInt64]
    /// The settled values of the previous cycle: every waveform's starting value.
    var settled: [UInt64]
    /// Nodes no gate drives (inputs, flip-flop outputs), and their delay after the cycle starts.
    let sources: [(node: Int32, delay: Int32)]
    /// Per-cycle waveforms: node n's events are at [eventStart[n], eventStart[n] + eventCount[n])
    /// when stamp[n] == cycleStamp.
    var eventTimes: [Int32] = [], eventWords: [UInt64] = []
    var eventStart: [Int32], eventCount: [Int32], stamp: [UInt32]
    var cycleStamp: UInt32 = 0
    /// Per gate: toggles that changed the settled value, and the rest.
    public private(set) var functionalToggles: [Int]
    public private(set) var glitchToggles: [Int]
    /// Per flip-flop (in `gates.flipFlops` order): output toggles.
    public private(set) var flipFlopToggles: [Int]
    public private(set) var cycle = 0
    /// Largest number of events any waveform had (a measure of the model's work).
    public private(set) var longestWaveform = 0

    public init(_ gates: GateNetlist, countsToggles: Bool = true) {
        self.gates = gates
        self.countsToggles = countsToggles
        values = [UInt64](repeating: 0, count: gates.nodeCount)
        values[Int(Netlist.one)] = ~0
        var driven = [Bool](repeating: false, count: gates.nodeCount)
        for g in gates.gates { driven[Int(g.output)] = true }
        var delay = [Int32](repeating: 0, count: gates.nodeCount)
        for f in gates.flipFlops { delay[Int(f.q)] = f.clockToQ }
        sources = (2..<gates.nodeCount).filter { !driven[$0] }.map { (Int32($0), delay[$0]) }
        eventStart = [Int32](repeating: 0, count: gates.nodeCount)
        eventCount = eventStart
        stamp = [UInt32](repeating: 0, count: gates.nodeCount)
        functionalToggles = [Int](repeating: 0, count: gates.gates.count)
        glitchToggles = functionalToggles
        flipFlopToggles = [Int](repeating: 0, count: gates.flipFlops.count)
        // Power-on: sources 0; settle without counting (as the zero-delay simulator does).
        for g in gates.gates {
            values[Int(g.output)] = Self.apply(g.truthTable, g.arity, values[Int(g.inputs.0)], values[Int(g.inputs.1)], values[Int(g.inputs.2)])
        }
        settled = values
    }

    public func set(_ bus: Bus, words: [UInt64], from start: Int) {
        for (i, node) in bus.enumerated() { values[Int(node)] = words[start + i] }
    }
    public func set(_ node: Node, word: UInt64) { values[Int(node)] = word }
    public func word(_ node: Node) -> UInt64 { values[Int(node)] }

    /// A gate's function, bit-parallel, by its truth table.
    @inline(__always)
    static func apply(_ t: UInt8, _ arity: Int8, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        @inline(__always) func bit(_ m: UInt8) -> UInt64 { (t >> m) & 1 == 1 ? ~0 : 0 }
        @inline(__always) func pick(_ s: UInt64, _ one: UInt64, _ zero: UInt64) -> UInt64 { (s & one) | (~s & zero) }
        switch arity {
        case 1: return pick(a, bit(1), bit(0))
        case 2: return pick(b, pick(a, bit(3), bit(2)), pick(a, bit(1), bit(0)))
        default:
            let low = pick(b, pick(a, bit(3), bit(2)), pick(a, bit(1), bit(0)))
            let high = pick(b, pick(a, bit(7), bit(6)), pick(a, bit(5), bit(4)))
            return pick(c, high, low)
        }
    }

    @inline(__always)
    func append(_ node: Int32, _ time: Int32, _ word: UInt64) {
        let n = Int(node)
        if stamp[n] != cycleStamp {
            stamp[n] = cycleStamp
            eventStart[n] = Int32(eventTimes.count)
            eventCount[n] = 0
        }
        eventTimes.append(time)
        eventWords.append(word)
        eventCount[n] += 1
    }

    public func evaluate() {
        cycleStamp &+= 1
        if cycleStamp == 0 { for i in stamp.indices { stamp[i] = 0 }; cycleStamp = 1 }
        eventTimes.removeAll(keepingCapacity: true)
        eventWords.removeAll(keepingCapacity: true)
        for s in sources where values[Int(s.node)] != settled[Int(s.node)] { append(s.node, s.delay, values[Int(s.node)]) }
        let counting = countsToggles, mask = activeMask
        for gi in 0..<gates.gates.count {
            let g = gates.gates[gi]
            let i0 = Int(g.inputs.0), i1 = Int(g.inputs.1), i2 = Int(g.inputs.2)
            let arity = g.arity
            // An input's events: [p, e); unused inputs and quiet ones have none.
            var p0: Int32 = 0, e0: Int32 = 0, p1: Int32 = 0, e1: Int32 = 0, p2: Int32 = 0, e2: Int32 = 0
            if stamp[i0] == cycleStamp { p0 = eventStart[i0]; e0 = p0 + eventCount[i0] }
            if arity > 1 && stamp[i1] == cycleStamp { p1 = eventStart[i1]; e1 = p1 + eventCount[i1] }
            if arity > 2 && stamp[i2] == cycleStamp { p2 = eventStart[i2]; e2 = p2 + eventCount[i2] }
            guard p0 < e0 || p1 < e1 || p2 < e2 else { continue }
            let (d0, d1, d2) = g.delays
            var c0 = settled[i0], c1 = settled[i1], c2 = settled[i2]
            let out = g.output
            let initial = settled[Int(out)]
            var last = initial
            let first = eventTimes.count
            while true {
                var t = Int32.max
                if p0 < e0 { t = min(t, eventTimes[Int(p0)] + d0) }
                if p1 < e1 { t = min(t, eventTimes[Int(p1)] + d1) }
                if p2 < e2 { t = min(t, eventTimes[Int(p2)] + d2) }
                if t == Int32.max { break }
                while p0 < e0 && eventTimes[Int(p0)] + d0 == t { c0 = eventWords[Int(p0)]; p0 += 1 }
                while p1 < e1 && eventTimes[Int(p1)] + d1 == t { c1 = eventWords[Int(p1)]; p1 += 1 }
                while p2 < e2 && eventTimes[Int(p2)] + d2 == t { c2 = eventWords[Int(p2)]; p2 += 1 }
                let o = Self.apply(g.truthTable, arity, c0, c1, c2)
                if o != last { append(out, t, o); last = o }
            }
            guard eventTimes.count > first else { continue }
            if g.inertial > 0 && eventTimes.count - first > 1 { filter(from: first, initial: initial, inertial: g.inertial, node: out) }
            let n = eventTimes.count - first
            guard n > 0 else { continue }
            longestWaveform = max(longestWaveform, n)
            let final = eventWords[first + n - 1]
            values[Int(out)] = final
            if counting {
                var total = 0, previous = initial
                for k in first..<(first + n) { total += ((eventWords[k] ^ previous) & mask).nonzeroBitCount; previous = eventWords[k] }
                let functional = ((final ^ initial) & mask).nonzeroBitCount
                functionalToggles[gi] += functional
                glitchToggles[gi] += total - functional
            }
        }
        settled = values
    }

    /// Inertial filtering of the waveform just appended at `first` (see the type's comment),
    /// then merging of equal consecutive values.
    func filter(from first: Int, initial: UInt64, inertial: Int32, node: Int32) {
        let end = eventTimes.count
        var previous = initial
        var write = first
        for i in first..<end {
            var stable: UInt64 = ~0
            var j = i + 1
            while j < end && eventTimes[j] < eventTimes[i] + inertial { stable &= ~(eventWords[j] ^ eventWords[i]); j += 1 }
            let f = (eventWords[i] & stable) | (previous & ~stable)
            if f != previous {
                eventTimes[write] = eventTimes[i]
                eventWords[write] = f
                write += 1
                previous = f
            }
        }
        eventTimes.removeSubrange(write..<end)
        eventWords.removeSubrange(write..<end)
        eventCount[Int(node)] = Int32(write - first)
        if write == first { stamp[Int(node)] = cycleStamp &- 1 }
    }

    /// Rising clock edge: every flip-flop's Q takes its D, or 0 in the instances of `resetting`.
    public func clock(resetting: UInt64 = 0) {
        let keep = ~resetting
        let sampled = gates.flipFlops.map { values[Int($0.d)] & keep }
        for (k, f) in gates.flipFlops.enumerated() {
            if countsToggles { flipFlopToggles[k] += ((values[Int(f.q)] ^ sampled[k]) & activeMask).nonzeroBitCount }
            values[Int(f.q)] = sampled[k]
        }
        cycle += 1
    }

    public var totalFunctionalToggles: Int { functionalToggles.reduce(0, +) + flipFlopToggles.reduce(0, +) }
    public var totalGlitchToggles: Int { glitchToggles.reduce(0, +) }
}
