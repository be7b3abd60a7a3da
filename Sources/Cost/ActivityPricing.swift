import Circuits
import Liberty
import Units

/// How toggles are timed when activity is counted (docs/liberty.md, "Activity: delay models").
public enum DelayModel: String, CaseIterable, Sendable, Codable {
    /// Every cell switches at once: functional toggles only (the netlist simulator).
    case zero
    /// Every path and clock-to-Q one tick: glitches from unequal path depths.
    case unit
    /// Per-path rise and fall delays from static timing on the Liberty library, quantized to
    /// `TimedCost.resolutionNs`; a pulse shorter than the path delay that would end it is
    /// rejected (Verilog's inertial path delays).
    case liberty
}

/// What prices a netlist: the bundled/JSON per-cell table, or a Liberty library.
public enum Technology: Sendable {
    case table(TechnologyTable)
    case liberty(CellBinding)

    public var name: String {
        switch self {
        case .table(let t): return t.name
        case .liberty(let b): return b.library.name
        }
    }

    /// Loads `--liberty FILE` when given, else `--tech FILE`, else the bundled 45 nm table.
    public static func load(tech: String?, liberty: String?) throws -> Technology {
        if let liberty { return .liberty(try CellBinding(LibertyLibrary.load(liberty))) }
        return .table(try tech.map(TechnologyTable.load) ?? TechnologyTable.nangate45())
    }
}

/// Per-toggle and per-cycle energies of a mapped netlist, from the Liberty library
/// (docs/liberty.md, "Energy"). A toggle of a gate's output costs
/// - the output pin's internal energy: the mean of `rise_power` and `fall_power` at the net's
///   load and the input transition, averaged over the internal_power groups whose related pin
///   is one of the gate's inputs;
/// - the net's switching energy ½·C·V² (C its load, V the library's nom_voltage);
/// - the passive internal energy (internal_power with no related pin) of every pin it drives.
/// A primary input's toggle costs the passive energy of the pins it drives (its switching
/// energy belongs to whatever drives the unit's inputs, outside it).
/// A flip-flop's output toggle costs its Q pin's internal energy (related to the clock) and the
/// same net terms; every flip-flop costs, per cycle, its clock pin's rise + fall passive energy
/// plus C_clk·V² (its clock pin charged and discharged). Leakage: Σ cell_leakage_power.
public struct LibertyPricing: Sendable {
    public let gateEnergy: [Double]
    public let flipFlopEnergy: [Double]
    public let clockEnergyPerCycle: Double
    public let leakageNanowatts: Double
    /// Per net: the passive internal energy of the pins it drives, per toggle (what a primary
    /// input's toggle costs inside the unit; its own switching belongs to its driver outside).
    public let passiveEnergy: [Double]

    public init(_ mapped: MappedNetlist, timing: StaticTiming) {
        let lib = mapped.library
        let volts = lib.nominalVoltage
        func mean(_ p: LibertyLibrary.InternalPower, load: Double, slew: Double) -> Double {
            let at: (TableVariable) -> Double = { $0 == .outputLoad ? load : slew }
            return ((p.rise?.lookUp(at) ?? 0) + (p.fall?.lookUp(at) ?? 0)) / 2
        }
        // Per net: passive energy of the pins it drives; with ½CV², a driven net's energy.
        var passive = [Double](repeating: 0, count: timing.load.count)
        for inst in mapped.instances {
            let cell = lib.cells[inst.cell]
            for p in inst.pins {
                guard let pin = cell.pin(p.name), pin.direction == .input else { continue }
                for power in pin.internalPower where power.relatedPins.isEmpty {
                    passive[Int(p.node)] += mean(power, load: 0, slew: timing.transition[Int(p.node)])
                }
            }
        }
        let netEnergy = zip(timing.load, passive).map { 0.5 * $0 * volts * volts + $1 }
        passiveEnergy = passive
        var gateEnergy: [Double] = []
        for (gi, g) in mapped.gates.gates.enumerated() {
            let inst = mapped.instances[Int(g.cell)]
            let cell = lib.cells[inst.cell]
            let pin = cell.pin(mapped.gatePins[gi])!
            let inputPins = cell.inputs.map(\.name)
            let o = Int(g.output)
            var inside = 0.0, count = 0.0
            for (slot, node) in g.inputList.enumerated() where node > Netlist.one {
                for power in pin.internalPower where power.relatedPins.contains(inputPins[slot]) {
                    inside += mean(power, load: timing.load[o], slew: timing.transition[Int(node)]); count += 1
                }
            }
            gateEnergy.append((count > 0 ? inside / count : 0) + netEnergy[o])
        }
        var flipFlopEnergy: [Double] = [], clock = 0.0
        for f in mapped.gates.flipFlops {
            let inst = mapped.instances[Int(f.cell)]
            let cell = lib.cells[inst.cell]
            let q = Int(f.q)
            let qPin = cell.pin(inst.pins.first { $0.node == f.q }!.name)!
            let powers = qPin.internalPower.filter { !$0.relatedPins.isEmpty }
            let inside = powers.map { mean($0, load: timing.load[q], slew: timing.inputTransitionNs) }.reduce(0, +) / Double(max(powers.count, 1))
            flipFlopEnergy.append(inside + netEnergy[q])
            for clk in cell.inputs where clk.isClock {
                for power in clk.internalPower where power.relatedPins.isEmpty {
                    let at: (TableVariable) -> Double = { _ in timing.inputTransitionNs }
                    clock += (power.rise?.lookUp(at) ?? 0) + (power.fall?.lookUp(at) ?? 0)
                }
                clock += clk.capacitance * volts * volts
            }
        }
        self.gateEnergy = gateEnergy
        self.flipFlopEnergy = flipFlopEnergy
        clockEnergyPerCycle = clock
        leakageNanowatts = mapped.instances.reduce(0) { $0 + lib.cells[$1.cell].leakage }
    }
}

/// A timed gate netlist of a MAC circuit under a technology and delay model, ready to simulate.
public struct TimedCost {
    /// Tick of the Liberty delay model (ns).
    public static let resolutionNs = 0.01

    public let gates: GateNetlist
    /// Per gate / flip-flop: energy per toggle (pJ); clock energy per cycle (pJ); leakage (nW).
    public let gateEnergy: [Double]
    public let flipFlopEnergy: [Double]
    public let clockEnergyPerCycle: Double
    public let leakageNanowatts: Double
    /// Per net (node): energy per toggle of a primary input driving it (0 under the table).
    public let inputEnergy: [Double]
    /// The netlist cell of every gate and flip-flop (for per-block figures).
    public let gateCell: [Int32], flipFlopCell: [Int32]
    public let area: AreaReport
    public let cells: Int
    public let timing: StaticTiming?

    public init(_ netlist: Netlist, technology: Technology, delayModel: DelayModel, inputTransitionNs: Double = 0.1) throws {
        switch technology {
        case .table(let table):
            guard delayModel != .liberty else { throw CostError.invalid("--delay-model liberty needs a Liberty library: give --liberty FILE") }
            var g = GateNetlist(netlist)
            if delayModel == .unit { g = g.withUnitDelays() }
            gates = g
            gateEnergy = g.gates.map { gate in
                let c = Int(gate.cell), figures = table.cells[netlist.kinds[c]]!
                return (gate.output == netlist.out2[c] ? figures.internalEnergyFemtojoules : figures.energyPerToggleFemtojoules) / 1000
            }
            flipFlopEnergy = g.flipFlops.map { _ in table.cells[.dff]!.energyPerToggleFemtojoules / 1000 }
            clockEnergyPerCycle = Double(g.flipFlops.count) * table.cells[.dff]!.clockEnergyFemtojoules / 1000
            inputEnergy = []
            area = CostModel.area(of: netlist, table: table)
            leakageNanowatts = table.leakageNanowattsPerMicron2 * area.total
            gateCell = g.gates.map(\.cell)
            flipFlopCell = g.flipFlops.map(\.cell)
            cells = netlist.cellCount
            timing = nil
        case .liberty(let binding):
            let mapped = MappedNetlist(netlist, binding: binding)
            let sta = StaticTiming(mapped, inputTransitionNs: inputTransitionNs)
            let pricing = LibertyPricing(mapped, timing: sta)
            var g = mapped.gates
            switch delayModel {
            case .zero: break
            case .unit: g = g.withUnitDelays()
            case .liberty:
                func ticks(_ ns: Double) -> Int32 { Int32(max(0, (ns / Self.resolutionNs).rounded())) }
                for i in g.gates.indices {
                    let r = sta.gateRiseDelays[i].map(ticks) + [0, 0, 0], f = sta.gateFallDelays[i].map(ticks) + [0, 0, 0]
                    g.gates[i].riseDelays = (r[0], r[1], r[2])
                    g.gates[i].fallDelays = (f[0], f[1], f[2])
                }
                for i in g.flipFlops.indices {
                    g.flipFlops[i].clockToQRise = ticks(sta.clockToQ[i].rise)
                    g.flipFlops[i].clockToQFall = ticks(sta.clockToQ[i].fall)
                }
            }
            gates = g
            gateEnergy = pricing.gateEnergy
            flipFlopEnergy = pricing.flipFlopEnergy
            clockEnergyPerCycle = pricing.clockEnergyPerCycle
            inputEnergy = pricing.passiveEnergy
            leakageNanowatts = pricing.leakageNanowatts
            gateCell = g.gates.map { mapped.instances[Int($0.cell)].sourceCell }
            flipFlopCell = g.flipFlops.map { mapped.instances[Int($0.cell)].sourceCell }
            let byBlock = mapped.areaByBlock()
            let nand2 = binding.library.cells[Self.cellIndex(binding.realizations[.nand2]!)].area
            area = AreaReport(byBlock: byBlock, nand2Area: nand2)
            cells = mapped.instances.count
            timing = sta
        }
    }

    static func cellIndex(_ r: CellBinding.Realization) -> Int {
        switch r {
        case .cell(let c, _, _): return c
        case .network(let steps, _): return cellIndex(steps[0].realization)
        }
    }

    /// Prices a timed run: dynamic energy per block (functional + glitch toggles), the glitch
    /// part, clock and leakage for `cycles` unit-cycles of `periodNs`.
    public func energy(of sim: TimedSimulator, netlist: Netlist, cycles: Int, periodNs: Double) -> EnergyReport {
        var dynamic: [String: Double] = [:], glitch = 0.0
        func block(_ cell: Int32) -> String { netlist.blockNames[Int(netlist.cellBlock[Int(cell)])] }
        for g in gates.gates.indices where sim.functionalToggles[g] + sim.glitchToggles[g] > 0 {
            dynamic[block(gateCell[g]), default: 0] += Double(sim.functionalToggles[g] + sim.glitchToggles[g]) * gateEnergy[g]
            glitch += Double(sim.glitchToggles[g]) * gateEnergy[g]
        }
        for (k, node) in sim.inputs.enumerated() where sim.inputToggles[k] > 0 && Int(node) < inputEnergy.count {
            dynamic["inputs", default: 0] += Double(sim.inputToggles[k]) * inputEnergy[Int(node)]
        }
        for f in gates.flipFlops.indices where sim.flipFlopToggles[f] > 0 {
            dynamic[block(flipFlopCell[f]), default: 0] += Double(sim.flipFlopToggles[f]) * flipFlopEnergy[f]
        }
        // nW × ns = 1e-18 J = 1e-6 pJ.
        return EnergyReport(dynamicByBlock: dynamic, clock: clockEnergyPerCycle * Double(cycles),
                            leakage: leakageNanowatts * periodNs * Double(cycles) * 1e-6, glitch: glitch)
    }
}

public enum CostError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let s) = self { return s }; return "" }
}
