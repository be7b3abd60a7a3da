import Circuits
import Formats
import Units

/// Area and data-dependent energy of one MAC configuration on one data set.
public struct MacCost: Sendable {
    public let configuration: MacConfiguration
    public let area: AreaReport
    public let energy: EnergyReport
    public let macs: Int
    public let unitCycles: Int
    public let cells: Int
    public let run: MacRunner.Result
    public let delayModel: DelayModel
    /// Static timing (Liberty libraries only).
    public let timing: StaticTiming?
    /// The clock period leakage was charged at (ns).
    public let periodNs: Double

    /// Activity-based energy per MAC (pJ): dynamic from the run's toggles + clock + leakage.
    public var energyPerMAC: Double { macs == 0 ? 0 : energy.total / Double(macs) }
    public var dynamicPerMAC: Double { macs == 0 ? 0 : energy.dynamic / Double(macs) }
    public var clockPerMAC: Double { macs == 0 ? 0 : energy.clock / Double(macs) }
    public var leakagePerMAC: Double { macs == 0 ? 0 : energy.leakage / Double(macs) }
    public var glitchPerMAC: Double { macs == 0 ? 0 : energy.glitch / Double(macs) }

    /// Toggles counted in the run (all simulated instances): those that changed a settled value,
    /// and glitches (0 under zero delay).
    public let functionalToggles: Int
    public let glitchToggles: Int
    /// The table's or the library's name.
    public let technologyName: String

    /// Simulates the configuration on the data (gate level, toggles on) and prices it with the
    /// 45 nm-style table, zero delay (today's model).
    public static func evaluate(_ configuration: MacConfiguration, codes: [UInt8], activations: [Int8], rows: Int, length: Int,
                                table: TechnologyTable) throws -> MacCost {
        try PricedUnit(configuration, technology: .table(table), delayModel: .zero).price(codes: codes, activations: activations, rows: rows, length: length)
    }

    /// Simulates and prices under any technology and delay model (one `PricedUnit`, used once).
    public static func evaluate(_ configuration: MacConfiguration, codes: [UInt8], activations: [Int8], rows: Int, length: Int,
                                technology: Technology, delayModel: DelayModel, periodNs: Double? = nil) throws -> MacCost {
        try PricedUnit(configuration, technology: technology, delayModel: delayModel)
            .price(codes: codes, activations: activations, rows: rows, length: length, periodNs: periodNs)
    }
}

/// A MAC configuration built, mapped to its technology and timed once; `price` simulates data
/// on it (a report prices each unit on several data sets and needs its critical path first).
public struct PricedUnit {
    public let configuration: MacConfiguration
    public let circuit: MacCircuit
    /// The circuit's netlist built, mapped and timed for the technology.
    let priced: PricedNetlist
    public var technology: Technology { priced.technology }
    public var delayModel: DelayModel { priced.delayModel }
    /// The timed gate netlist, except for the table at zero delay (the netlist simulator's case).
    var timed: TimedCost? { priced.timed }

    public init(_ configuration: MacConfiguration, technology: Technology, delayModel: DelayModel) throws {
        self.configuration = configuration
        circuit = MacCircuit(configuration)
        priced = try PricedNetlist(circuit.netlist, technology: technology, delayModel: delayModel)
    }

    /// Static timing (Liberty libraries only).
    public var timing: StaticTiming? { timed?.timing }

    /// `periodNs`: the clock leakage is charged at (default: the table's period, or the unit's
    /// own critical path).
    public func price(codes: [UInt8], activations: [Int8], rows: Int, length: Int, periodNs: Double? = nil) throws -> MacCost {
        let c = configuration
        guard let timed else {
            guard case .table(let table) = technology else { preconditionFailure("only the table runs untimed") }
            let run = try MacRunner(c).run(codes: codes, activations: activations, rows: rows, length: length, mode: .toggles, circuit: circuit)
            let area = CostModel.area(of: circuit.netlist, table: table)
            let energy = CostModel.energy(of: circuit.netlist, cellToggles: run.cellToggles, internalToggles: run.internalToggles, cycles: run.simulatedUnitCycles, table: table)
            return MacCost(configuration: c, area: area, energy: energy, macs: run.macs, unitCycles: run.simulatedUnitCycles,
                           cells: circuit.netlist.cellCount, run: run, delayModel: .zero, timing: nil, periodNs: table.clockPeriodNanoseconds,
                           functionalToggles: run.totalToggles, glitchToggles: 0, technologyName: table.name)
        }
        let sim = TimedSimulator(timed.gates)
        let run = MacRunner(c).run(codes: codes, activations: activations, rows: rows, length: length, on: sim, circuit: circuit)
        let period: Double
        switch technology {
        case .table(let t): period = periodNs ?? t.clockPeriodNanoseconds
        case .liberty: period = periodNs ?? timed.timing!.criticalPathNs
        }
        let energy = timed.energy(of: sim, netlist: circuit.netlist, cycles: run.simulatedUnitCycles, periodNs: period)
        return MacCost(configuration: c, area: timed.area, energy: energy, macs: run.macs, unitCycles: run.simulatedUnitCycles,
                       cells: timed.cells, run: run, delayModel: delayModel, timing: timed.timing, periodNs: period,
                       functionalToggles: sim.totalFunctionalToggles, glitchToggles: sim.totalGlitchToggles, technologyName: technology.name)
    }
}

/// Horowitz (ISSCC 2014, 45 nm) anchors and the model's figures for the same operations.
public struct Calibration: Sendable {
    public struct Point: Sendable {
        public let operation: String
        public let modelEnergy: Double, horowitzEnergy: Double   // pJ per operation
        public let modelArea: Double, horowitzArea: Double       // µm²
        public var energyRatio: Double { modelEnergy / horowitzEnergy }
        public var areaRatio: Double { modelArea / horowitzArea }
    }
    public let points: [Point]

    /// An 8-bit ripple-carry adder and an 8×8 signed array multiplier, driven by uniformly random
    /// operands (64 × `samples` operations), priced by `table` (dynamic energy only, as Horowitz's
    /// figures are per operation).
    public static func measure(_ table: TechnologyTable, samples: Int = 2_000) -> Calibration {
        func run(_ name: String, horowitz: (Double, Double), build: (Netlist, Bus, Bus) -> Void) -> Point {
            let n = Netlist()
            let a = n.input("a", width: 8), b = n.input("b", width: 8)
            build(n, a, b)
            let sim = Simulator(n)
            var stream = CounterStream(seed: 0xCA1)
            for _ in 0..<samples {
                sim.set(a, words: (0..<8).map { _ in stream.next() })
                sim.set(b, words: (0..<8).map { _ in stream.next() })
                sim.evaluate()
            }
            let energy = CostModel.energy(of: n, cellToggles: sim.cellToggles, internalToggles: sim.internalToggles, cycles: 0, table: table).dynamic / Double(64 * samples)
            return Point(operation: name, modelEnergy: energy, horowitzEnergy: horowitz.0,
                         modelArea: CostModel.area(of: n, table: table).total, horowitzArea: horowitz.1)
        }
        return Calibration(points: [
            run("8-bit add", horowitz: (0.03, 36)) { n, a, b in _ = n.add(a, b) },
            run("8-bit multiply", horowitz: (0.2, 282)) { n, a, b in _ = n.multiplySigned(a, b) },
        ])
    }
}

