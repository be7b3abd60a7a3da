/// What a cycle-by-cycle bit-sliced simulation offers a test bench (64 instances per word).
public protocol BitSlicedSimulation: AnyObject {
    var activeMask: UInt64 { get set }
    func set(_ bus: Bus, words: [UInt64], from start: Int)
    func set(_ node: Node, word: UInt64)
    /// Drives `nodes[i]` with `words[i]`.
    func set(_ nodes: [Node], words: UnsafePointer<UInt64>)
    func evaluate()
    func clock(resetting: UInt64)
    func word(_ node: Node) -> UInt64
}

extension BitSlicedSimulation {
    public func set(_ bus: Bus, words: [UInt64]) { set(bus, words: words, from: 0) }

    /// Drives a bus with one integer per instance (two's complement, low `bus.count` bits; the
    /// netlist simulator at one word per node).
    public func set(_ bus: Bus, instances: [Int64]) {
        set(bus, words: (0..<bus.count).map { bit in
            var w: UInt64 = 0
            for (k, x) in instances.enumerated() where (x >> Int64(bit)) & 1 == 1 { w |= 1 << UInt64(k) }
            return w
        })
    }

    /// The value of a bus in one instance, as a signed (two's complement) or unsigned integer.
    public func read(_ bus: Bus, instance k: Int, signed: Bool) -> Int64 {
        var v: Int64 = 0
        for (bit, node) in bus.enumerated() where (word(node) >> UInt64(k)) & 1 == 1 { v |= 1 << Int64(bit) }
        if signed && bus.count < 64 && (v >> Int64(bus.count - 1)) & 1 == 1 { v -= 1 << Int64(bus.count) }
        return v
    }
}

extension Simulator: BitSlicedSimulation {}

/// Glitch-aware, bit-sliced timed simulation of a `GateNetlist` (docs/liberty.md, "Activity:
/// delay models"), with the path-delay semantics of Verilog `specify` blocks.
///
/// A cycle starts with the sources changing: primary inputs at time 0, flip-flop outputs at
/// their clock-to-Q delay (rising and falling bits each at their own). Every gate, in order,
/// turns its inputs' waveforms into its output's. Whenever an input changes at time t, the
/// gate's function of the inputs' values at t is the output's new target; per instance (bit):
/// - target equal to the output's value at t: a change still pending (scheduled after t) is
///   cancelled — the pulse it would have started is shorter than its path delay, rejected;
/// - target different, a change to it already pending: kept;
/// - target different, nothing pending: scheduled at t + the path delay from that input, its
///   rise delay for rising bits and fall delay for falling bits (inputs changing together: the
///   shortest).
/// This is the inertial behaviour of Verilog path delays with the default pulse limits. The
/// last target of every bit is the gate's function of its inputs' last values, and it is always
/// reached, so the settled values equal a zero-delay evaluation. A toggle is a change in a
/// waveform; the functional toggles of a node are those that change its settled value between
/// cycles (0 or 1 per instance per cycle), the rest are glitches.
public final class TimedSimulator: BitSlicedSimulation {
    public let gates: GateNetlist
    public var activeMask: UInt64 = ~0
    public var countsToggles: Bool
    /// Nodes no gate drives (inputs, flip-flop outputs), and their rise and fall delays after
    /// the cycle starts.
    let sources: [(node: Int32, rise: Int32, fall: Int32)]
    /// The primary inputs (sources that are not flip-flop outputs).
    public let inputs: [Node]
    let inputIndex: [Int32]
    /// Everything a cycle changes, in one value: `evaluate` moves it into a local and back, so
    /// that its arrays are accessed without the runtime exclusivity checks a class's stored
    /// properties get (they were most of the time of a cycle).
    var state = State()
    public private(set) var cycle = 0

    struct State {
        /// Current values (after `evaluate`: the settled ones).
        var values: [UInt64] = []
        /// The settled values of the previous cycle: every waveform's starting value.
        var settled: [UInt64] = []
        var inputToggles: [Int] = []
        /// Per-cycle waveforms: node n's events are at [eventStart[n], eventStart[n] + eventCount[n])
        /// when stamp[n] == cycleStamp.
        var eventTimes: [Int32] = [], eventWords: [UInt64] = []
        var eventStart: [Int32] = [], eventCount: [Int32] = [], stamp: [UInt32] = []
        var cycleStamp: UInt32 = 0
        /// Per gate: toggles that changed the settled value, and the rest.
        var functionalToggles: [Int] = [], glitchToggles: [Int] = []
        /// Per flip-flop (in `gates.flipFlops` order): output toggles.
        var flipFlopToggles: [Int] = []
        var sampled: [UInt64] = []
        /// One gate's scheduled output changes this cycle: time, bits, their new values.
        var scheduleTimes: [Int32] = [], scheduleMasks: [UInt64] = [], scheduleWords: [UInt64] = []
        /// The entries of the schedule still pending (at most one per bit).
        var pendingEntries: [Int] = []
        var longestWaveform = 0

        @inline(__always)
        mutating func append(_ node: Int32, _ time: Int32, _ word: UInt64) {
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

        mutating func evaluate(_ gates: GateNetlist, sources: [(node: Int32, rise: Int32, fall: Int32)], inputIndex: [Int32],
                               counting: Bool, mask: UInt64) {
            cycleStamp &+= 1
            if cycleStamp == 0 { for i in stamp.indices { stamp[i] = 0 }; cycleStamp = 1 }
            eventTimes.removeAll(keepingCapacity: true)
            eventWords.removeAll(keepingCapacity: true)
            for s in sources where values[Int(s.node)] != settled[Int(s.node)] {
                let old = settled[Int(s.node)], new = values[Int(s.node)]
                if s.rise == s.fall { append(s.node, s.rise, new) } else {
                    // Rising and falling bits at their own delays, earlier first.
                    let rising = (old ^ new) & new
                    let (firstTime, firstMask) = s.rise < s.fall ? (s.rise, rising) : (s.fall, (old ^ new) & ~rising)
                    let partial = (old & ~firstMask) | (new & firstMask)
                    if partial != old { append(s.node, firstTime, partial) }
                    if partial != new { append(s.node, max(s.rise, s.fall), new) }
                }
                let k = Int(inputIndex[Int(s.node)])
                if counting && k >= 0 { inputToggles[k] += ((values[Int(s.node)] ^ settled[Int(s.node)]) & mask).nonzeroBitCount }
            }
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
                let (r0, r1, r2) = g.riseDelays, (f0, f1, f2) = g.fallDelays
                var c0 = settled[i0], c1 = settled[i1], c2 = settled[i2]
                let out = g.output
                let initial = settled[Int(out)]
                scheduleTimes.removeAll(keepingCapacity: true)
                scheduleMasks.removeAll(keepingCapacity: true)
                scheduleWords.removeAll(keepingCapacity: true)
                pendingEntries.removeAll(keepingCapacity: true)
                var now = initial
                while true {
                    var t = Int32.max
                    if p0 < e0 { t = min(t, eventTimes[Int(p0)]) }
                    if p1 < e1 { t = min(t, eventTimes[Int(p1)]) }
                    if p2 < e2 { t = min(t, eventTimes[Int(p2)]) }
                    if t == Int32.max { break }
                    var rise = Int32.max, fall = Int32.max
                    if p0 < e0 && eventTimes[Int(p0)] == t { c0 = eventWords[Int(p0)]; p0 += 1; rise = min(rise, r0); fall = min(fall, f0) }
                    if p1 < e1 && eventTimes[Int(p1)] == t { c1 = eventWords[Int(p1)]; p1 += 1; rise = min(rise, r1); fall = min(fall, f1) }
                    if p2 < e2 && eventTimes[Int(p2)] == t { c2 = eventWords[Int(p2)]; p2 += 1; rise = min(rise, r2); fall = min(fall, f2) }
                    let target = TimedSimulator.apply(g.truthTable, arity, c0, c1, c2)
                    // The output at t and the bits with a change pending after t. A bit is scheduled
                    // only when nothing is pending for it, so at most one change per bit is pending
                    // and those that have come due can be applied in any order.
                    var pending: UInt64 = 0, kept = 0
                    for k in 0..<pendingEntries.count {
                        let j = pendingEntries[k]
                        if scheduleTimes[j] <= t { now = (now & ~scheduleMasks[j]) | (scheduleWords[j] & scheduleMasks[j]) }
                        else if scheduleMasks[j] != 0 { pending |= scheduleMasks[j]; pendingEntries[kept] = j; kept += 1 }
                    }
                    pendingEntries.removeLast(pendingEntries.count - kept)
                    // Reverting bits: cancel what is pending (a rejected pulse).
                    let reverting = ~(target ^ now) & pending
                    if reverting != 0 {
                        for j in pendingEntries { scheduleMasks[j] &= ~reverting }
                        pending &= ~reverting
                    }
                    let fresh = (target ^ now) & ~pending
                    if fresh & target != 0 {
                        pendingEntries.append(scheduleTimes.count)
                        scheduleTimes.append(t + rise); scheduleMasks.append(fresh & target); scheduleWords.append(target)
                    }
                    if fresh & ~target != 0 {
                        pendingEntries.append(scheduleTimes.count)
                        scheduleTimes.append(t + fall); scheduleMasks.append(fresh & ~target); scheduleWords.append(target)
                    }
                }
                // The scheduled changes in time order (same time: in the order scheduled): a stable
                // insertion sort in place, linear when they already are (equal rise and fall delays).
                let scheduled = scheduleTimes.count
                if scheduled > 1 {
                    for k in 1..<scheduled where scheduleTimes[k] < scheduleTimes[k - 1] {
                        let (t, m, w) = (scheduleTimes[k], scheduleMasks[k], scheduleWords[k])
                        var j = k
                        while j > 0 && scheduleTimes[j - 1] > t {
                            scheduleTimes[j] = scheduleTimes[j - 1]; scheduleMasks[j] = scheduleMasks[j - 1]; scheduleWords[j] = scheduleWords[j - 1]
                            j -= 1
                        }
                        scheduleTimes[j] = t; scheduleMasks[j] = m; scheduleWords[j] = w
                    }
                }
                let first = eventTimes.count
                var current = initial, last = initial, k = 0
                while k < scheduled {
                    let time = scheduleTimes[k]
                    while k < scheduled && scheduleTimes[k] == time {
                        current = (current & ~scheduleMasks[k]) | (scheduleWords[k] & scheduleMasks[k])
                        k += 1
                    }
                    if current != last { append(out, time, current); last = current }
                }
                let length = eventTimes.count - first
                guard length > 0 else { continue }
                longestWaveform = max(longestWaveform, length)
                let final = eventWords[first + length - 1]
                values[Int(out)] = final
                if counting {
                    var total = 0, previous = initial
                    for k in first..<(first + length) { total += ((eventWords[k] ^ previous) & mask).nonzeroBitCount; previous = eventWords[k] }
                    let functional = ((final ^ initial) & mask).nonzeroBitCount
                    functionalToggles[gi] += functional
                    glitchToggles[gi] += total - functional
                }
            }
            settled = values
    }
    }

    /// Per gate: toggles that changed the settled value, and the rest (glitches).
    public var functionalToggles: [Int] { state.functionalToggles }
    public var glitchToggles: [Int] { state.glitchToggles }
    /// Per flip-flop (in `gates.flipFlops` order): output toggles.
    public var flipFlopToggles: [Int] { state.flipFlopToggles }
    /// Per primary input (in `inputs` order): toggles.
    public var inputToggles: [Int] { state.inputToggles }
    /// Largest number of events any waveform had (a measure of the model's work).
    public var longestWaveform: Int { state.longestWaveform }

    public init(_ gates: GateNetlist, countsToggles: Bool = true) {
        self.gates = gates
        self.countsToggles = countsToggles
        var values = [UInt64](repeating: 0, count: gates.nodeCount)
        values[Int(Netlist.one)] = ~0
        var driven = [Bool](repeating: false, count: gates.nodeCount)
        for g in gates.gates { driven[Int(g.output)] = true }
        var delay = [(Int32, Int32)](repeating: (0, 0), count: gates.nodeCount)
        for f in gates.flipFlops { delay[Int(f.q)] = (f.clockToQRise, f.clockToQFall) }
        sources = (2..<gates.nodeCount).filter { !driven[$0] }.map { (Int32($0), delay[$0].0, delay[$0].1) }
        var isFlipFlop = [Bool](repeating: false, count: gates.nodeCount)
        for f in gates.flipFlops { isFlipFlop[Int(f.q)] = true }
        inputs = sources.map { Node($0.node) }.filter { !isFlipFlop[Int($0)] }
        var index = [Int32](repeating: -1, count: gates.nodeCount)
        for (k, n) in inputs.enumerated() { index[Int(n)] = Int32(k) }
        inputIndex = index
        // Power-on: sources 0; settle without counting (as the zero-delay simulator does).
        for g in gates.gates {
            values[Int(g.output)] = Self.apply(g.truthTable, g.arity, values[Int(g.inputs.0)], values[Int(g.inputs.1)], values[Int(g.inputs.2)])
        }
        state.values = values
        state.settled = values
        state.inputToggles = [Int](repeating: 0, count: inputs.count)
        state.eventStart = [Int32](repeating: 0, count: gates.nodeCount)
        state.eventCount = state.eventStart
        state.stamp = [UInt32](repeating: 0, count: gates.nodeCount)
        state.functionalToggles = [Int](repeating: 0, count: gates.gates.count)
        state.glitchToggles = state.functionalToggles
        state.flipFlopToggles = [Int](repeating: 0, count: gates.flipFlops.count)
        state.sampled = [UInt64](repeating: 0, count: gates.flipFlops.count)
    }

    public func set(_ bus: Bus, words: [UInt64], from start: Int) {
        for (i, node) in bus.enumerated() { state.values[Int(node)] = words[start + i] }
    }
    public func set(_ node: Node, word: UInt64) { state.values[Int(node)] = word }
    public func set(_ nodes: [Node], words: UnsafePointer<UInt64>) {
        for (i, node) in nodes.enumerated() { state.values[Int(node)] = words[i] }
    }
    public func word(_ node: Node) -> UInt64 { state.values[Int(node)] }

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

    public func evaluate() {
        var s = state
        state = State()
        s.evaluate(gates, sources: sources, inputIndex: inputIndex, counting: countsToggles, mask: activeMask)
        state = s
    }

    /// Rising clock edge: every flip-flop's Q takes its D, or 0 in the instances of `resetting`.
    public func clock(resetting: UInt64 = 0) {
        let keep = ~resetting
        var s = state
        state = State()
        // Sample every D first: a flip-flop may feed another's D directly.
        for (k, f) in gates.flipFlops.enumerated() { s.sampled[k] = s.values[Int(f.d)] & keep }
        for (k, f) in gates.flipFlops.enumerated() {
            if countsToggles { s.flipFlopToggles[k] += ((s.values[Int(f.q)] ^ s.sampled[k]) & activeMask).nonzeroBitCount }
            s.values[Int(f.q)] = s.sampled[k]
        }
        state = s
        cycle += 1
    }

    public var totalFunctionalToggles: Int { functionalToggles.reduce(0, +) + flipFlopToggles.reduce(0, +) }
    public var totalGlitchToggles: Int { glitchToggles.reduce(0, +) }
}
