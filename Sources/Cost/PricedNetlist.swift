import Circuits

/// A datapath other than a MAC — the TAH-Quant decode datapaths, the block quantizer, the
/// block-scale stages — built, mapped to its technology and timed once, then priced on
/// workloads, as `PricedUnit` prices a MAC configuration: under the table at zero delay by the
/// netlist simulator's toggles, otherwise (a Liberty library, or a unit/Liberty delay model) by
/// the timed simulator on the mapped gates, glitches included (docs/cost-model.md).
public struct PricedNetlist {
    public let netlist: Netlist
    public let technology: Technology
    public let delayModel: DelayModel
    /// The timed gate netlist, except for the table at zero delay.
    let timed: TimedCost?

    public init(_ netlist: Netlist, technology: Technology, delayModel: DelayModel) throws {
        self.netlist = netlist
        self.technology = technology
        self.delayModel = delayModel
        if case .table = technology, delayModel == .zero { timed = nil } else {
            timed = try TimedCost(netlist, technology: technology, delayModel: delayModel)
        }
    }

    public var area: AreaReport {
        if let timed { return timed.area }
        guard case .table(let table) = technology else { preconditionFailure("only the table runs untimed") }
        return CostModel.area(of: netlist, table: table)
    }

    /// Cells as priced: the netlist's, or the library instances they map to.
    public var cells: Int { timed?.cells ?? netlist.cellCount }

    /// Static timing (Liberty libraries only).
    public var timing: StaticTiming? { timed?.timing }

    /// `drive` runs a workload on the simulator it is given and returns the unit-cycles it
    /// simulated (summed over the busy instances). Clock and leakage are charged for those cycles
    /// at `periodNs`, by default the table's period, or the netlist's own critical path under a
    /// Liberty library (the period it is returned with).
    public func energy(periodNs: Double? = nil, drive: (any BitSlicedSimulation) -> Int) -> (energy: EnergyReport, periodNs: Double) {
        guard let timed else {
            guard case .table(let table) = technology else { preconditionFailure("only the table runs untimed") }
            let sim = Simulator(netlist)
            let cycles = drive(sim)
            return (CostModel.energy(of: netlist, cellToggles: sim.cellToggles, internalToggles: sim.internalToggles, cycles: cycles, table: table),
                    table.clockPeriodNanoseconds)
        }
        let sim = TimedSimulator(timed.gates)
        let cycles = drive(sim)
        let period: Double
        switch technology {
        case .table(let t): period = periodNs ?? t.clockPeriodNanoseconds
        case .liberty: period = periodNs ?? timed.timing!.criticalPathNs
        }
        return (timed.energy(of: sim, netlist: netlist, cycles: cycles, periodNs: period), period)
    }
}
