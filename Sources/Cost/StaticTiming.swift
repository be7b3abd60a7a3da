import Circuits
import Liberty

/// Static timing of a mapped netlist from the library's NLDM tables (docs/liberty.md, "Timing").
///
/// Loads: a net's load is the sum of the capacitances of the pins on it (the input pins it
/// drives, flip-flop clock pins excluded, and its driver's output pin); wires and output ports add
/// nothing. Primary inputs arrive at 0 with the stated transition; the clock reaches every
/// flip-flop at 0 with the same transition (ideal clock). Arrival and transition are kept for
/// rising and falling separately and propagated through each arc by its `timing_sense`
/// (positive: rise from rise; negative: rise from fall; non-unate: from the later of both);
/// an output takes the latest arrival and the largest transition over its arcs. The critical
/// path ends at a flip-flop's D with the arc's setup time added (`setup_rising`, rise or fall
/// constraint at the clock and data transitions), or at a primary output.
public struct StaticTiming: Sendable {
    public struct PathPoint: Sendable, Codable, Equatable {
        /// The library cell driving this point ("input" for a primary input).
        public let cell: String
        public let pin: String
        /// The netlist block of that cell.
        public let block: String
        public let arrivalNs: Double
        enum CodingKeys: String, CodingKey { case cell, pin, block, arrivalNs = "arrival_ns" }
    }

    public let inputTransitionNs: Double
    /// Critical path delay, setup included (ns), and its points from launch to capture.
    public let criticalPathNs: Double
    public let path: [PathPoint]
    public var maximumClockMHz: Double { 1000 / criticalPathNs }
    /// Per net: load (pF), and transition (ns) as the mean of rise and fall.
    public let load: [Double]
    public let transition: [Double]
    /// Per gate of `mapped.gates`, per input slot: the delay (ns) of the path from that input
    /// when the output rises and when it falls (mean over the input's arcs), at the computed
    /// load and input transition.
    public let gateRiseDelays: [[Double]], gateFallDelays: [[Double]]
    /// Per flip-flop of `mapped.gates`: clock-to-Q (ns) of a rising and of a falling output.
    public let clockToQ: [(rise: Double, fall: Double)]

    public init(_ mapped: MappedNetlist, inputTransitionNs: Double = 0.1) {
        self.inputTransitionNs = inputTransitionNs
        let lib = mapped.library
        let n = mapped.nodeCount
        var load = [Double](repeating: 0, count: n)
        for inst in mapped.instances {
            let cell = lib.cells[inst.cell]
            for p in inst.pins {
                guard let pin = cell.pin(p.name) else { continue }
                load[Int(p.node)] += pin.capacitance
            }
        }
        let negInf = -Double.infinity
        var arrival = [(rise: Double, fall: Double)](repeating: (negInf, negInf), count: n)
        var slew = [(rise: Double, fall: Double)](repeating: (inputTransitionNs, inputTransitionNs), count: n)
        // The point each net's latest arrival came from: (net, gate or −1 − flip-flop).
        var from = [(net: Int32, via: Int32)](repeating: (-1, 0), count: n)
        let gates = mapped.gates
        var driven = [Bool](repeating: false, count: n)
        for g in gates.gates { driven[Int(g.output)] = true }
        for f in gates.flipFlops { driven[Int(f.q)] = true }
        for v in 2..<n where !driven[v] { arrival[v] = (0, 0) }
        func lookUp(_ t: LookupTable?, load: Double, slew: Double) -> Double {
            t?.lookUp { $0 == .outputLoad ? load : slew } ?? 0
        }
        // Flip-flop outputs: the clock arc of their Q pin.
        var clockToQ: [(rise: Double, fall: Double)] = []
        for (k, f) in gates.flipFlops.enumerated() {
            let inst = mapped.instances[Int(f.cell)]
            let cell = lib.cells[inst.cell]
            let qPin = inst.pins.first { $0.node == f.q }!.name
            let arc = cell.pin(qPin)?.timing.first { $0.type == "rising_edge" }
            let q = Int(f.q), l = load[q]
            let rise = lookUp(arc?.cellRise, load: l, slew: inputTransitionNs), fall = lookUp(arc?.cellFall, load: l, slew: inputTransitionNs)
            arrival[q] = (rise, fall)
            slew[q] = (arc?.riseTransition == nil ? inputTransitionNs : lookUp(arc?.riseTransition, load: l, slew: inputTransitionNs),
                       arc?.fallTransition == nil ? inputTransitionNs : lookUp(arc?.fallTransition, load: l, slew: inputTransitionNs))
            from[q] = (-1, -1 - Int32(k))
            clockToQ.append((rise, fall))
        }
        var gateRiseDelays: [[Double]] = [], gateFallDelays: [[Double]] = []
        gateRiseDelays.reserveCapacity(gates.gates.count)
        gateFallDelays.reserveCapacity(gates.gates.count)
        for (gi, g) in gates.gates.enumerated() {
            let inst = mapped.instances[Int(g.cell)]
            let cell = lib.cells[inst.cell]
            let outPin = cell.pin(mapped.gatePins[gi])!
            let inputPins = cell.inputs.map(\.name)
            let o = Int(g.output), l = load[o]
            var riseDelays: [Double] = [], fallDelays: [Double] = []
            var best = (rise: negInf, fall: negInf), worstSlew = (rise: 0.0, fall: 0.0)
            var bestFrom = (rise: Int32(-1), fall: Int32(-1))
            for (slot, node) in g.inputList.enumerated() {
                let m = Int(node)
                let arcs = outPin.timing.filter { $0.type == "combinational" && $0.relatedPins.contains(inputPins[slot]) }
                var riseSum = 0.0, riseCount = 0.0, fallSum = 0.0, fallCount = 0.0
                for arc in arcs {
                    // (arrival, transition) of the input edge that causes the output's rise / fall.
                    let riseFrom: [(Double, Double)], fallFrom: [(Double, Double)]
                    switch arc.sense {
                    case .positiveUnate: riseFrom = [(arrival[m].rise, slew[m].rise)]; fallFrom = [(arrival[m].fall, slew[m].fall)]
                    case .negativeUnate: riseFrom = [(arrival[m].fall, slew[m].fall)]; fallFrom = [(arrival[m].rise, slew[m].rise)]
                    case .nonUnate:
                        riseFrom = [(arrival[m].rise, slew[m].rise), (arrival[m].fall, slew[m].fall)]; fallFrom = riseFrom
                    }
                    for (a, s) in riseFrom {
                        let d = lookUp(arc.cellRise, load: l, slew: s)
                        riseSum += d; riseCount += 1
                        if node > Netlist.one && a + d > best.rise { best.rise = a + d; bestFrom.rise = Int32(m) }
                        worstSlew.rise = max(worstSlew.rise, lookUp(arc.riseTransition, load: l, slew: s))
                    }
                    for (a, s) in fallFrom {
                        let d = lookUp(arc.cellFall, load: l, slew: s)
                        fallSum += d; fallCount += 1
                        if node > Netlist.one && a + d > best.fall { best.fall = a + d; bestFrom.fall = Int32(m) }
                        worstSlew.fall = max(worstSlew.fall, lookUp(arc.fallTransition, load: l, slew: s))
                    }
                }
                riseDelays.append(riseCount > 0 ? riseSum / riseCount : 0)
                fallDelays.append(fallCount > 0 ? fallSum / fallCount : 0)
            }
            gateRiseDelays.append(riseDelays)
            gateFallDelays.append(fallDelays)
            arrival[o] = best
            slew[o] = (worstSlew.rise > 0 ? worstSlew.rise : inputTransitionNs, worstSlew.fall > 0 ? worstSlew.fall : inputTransitionNs)
            from[o] = (best.rise >= best.fall ? bestFrom.rise : bestFrom.fall, Int32(gi))
        }
        // Endpoints: flip-flop D pins (setup added) and nets nothing reads (primary outputs).
        var worst = 0.0, worstNet = -1
        for f in gates.flipFlops {
            let inst = mapped.instances[Int(f.cell)]
            let cell = lib.cells[inst.cell]
            let dPin = inst.pins.first { $0.node == f.d }?.name ?? "D"
            let setup = cell.pin(dPin)?.timing.first { $0.type == "setup_rising" }
            let d = Int(f.d)
            func constraint(_ t: LookupTable?, _ s: Double) -> Double {
                t?.lookUp { $0 == .relatedPinTransition ? inputTransitionNs : s } ?? 0
            }
            let a = max(arrival[d].rise + constraint(setup?.riseConstraint, slew[d].rise),
                        arrival[d].fall + constraint(setup?.fallConstraint, slew[d].fall))
            if a > worst { worst = a; worstNet = d }
        }
        var read = [Bool](repeating: false, count: n)
        for g in gates.gates { for i in g.inputList { read[Int(i)] = true } }
        for f in gates.flipFlops { read[Int(f.d)] = true }
        for v in 2..<n where driven[v] && !read[v] {
            let a = max(arrival[v].rise, arrival[v].fall)
            if a > worst { worst = a; worstNet = v }
        }
        // The path, back from the endpoint.
        var points: [PathPoint] = []
        var net = worstNet
        while net >= 0 {
            let (previous, via) = from[net]
            let point: PathPoint
            let a = max(arrival[net].rise, arrival[net].fall)
            if previous < 0 && via < 0 {
                let inst = mapped.instances[Int(gates.flipFlops[Int(-1 - via)].cell)]
                point = PathPoint(cell: lib.cells[inst.cell].name, pin: "CLK→" + (inst.pins.first { $0.node == Node(net) }?.name ?? "Q"),
                                  block: mapped.netlist.blockNames[Int(mapped.netlist.cellBlock[Int(inst.sourceCell)])], arrivalNs: a)
            } else if previous < 0 {
                point = PathPoint(cell: "input", pin: mapped.netlist.inputs.first { $0.bus.contains(Node(net)) }?.name ?? "?", block: "top", arrivalNs: 0)
            } else {
                let inst = mapped.instances[Int(gates.gates[Int(via)].cell)]
                point = PathPoint(cell: lib.cells[inst.cell].name, pin: mapped.gatePins[Int(via)],
                                  block: mapped.netlist.blockNames[Int(mapped.netlist.cellBlock[Int(inst.sourceCell)])], arrivalNs: a)
            }
            points.append(point)
            if point.cell == "input" { break }
            net = Int(previous)
        }
        path = points.reversed()
        criticalPathNs = worst
        self.load = load
        transition = slew.map { ($0.rise + $0.fall) / 2 }
        self.gateRiseDelays = gateRiseDelays
        self.gateFallDelays = gateFallDelays
        self.clockToQ = clockToQ
    }
}
