import Circuits

/// Area of a netlist, per block: Σ cells × cell area.
public struct AreaReport: Sendable, Equatable {
    public var byBlock: [String: Double]
    /// Summed in block-name order: a Dictionary's iteration order varies between instances, and
    /// a floating-point sum must not.
    public var total: Double { byBlock.keys.sorted().reduce(0) { $0 + byBlock[$1]! } }
    public let nand2Area: Double
    public var gateEquivalents: Double { total / nand2Area }
}

/// Energy of a simulation run, split into its three parts (picojoules).
public struct EnergyReport: Sendable, Equatable {
    /// Σ toggles × energy per toggle, per block.
    public var dynamicByBlock: [String: Double]
    /// Flip-flop clock energy: DFF count × clock energy × cycles.
    public var clock: Double
    /// Leakage power × area × cycle time × cycles.
    public var leakage: Double
    /// The part of `dynamic` spent on glitches (toggles that do not change a settled value).
    public var glitch: Double = 0
    public var dynamic: Double { dynamicByBlock.keys.sorted().reduce(0) { $0 + dynamicByBlock[$1]! } }
    public var total: Double { dynamic + clock + leakage }
}

public enum CostModel {
    public static func area(of netlist: Netlist, table: TechnologyTable) -> AreaReport {
        var byBlock: [String: Double] = [:]
        for block in netlist.usedBlocks {
            let inventory = netlist.inventory(block: block)
            for kind in CellKind.allCases { if let count = inventory[kind] { byBlock[block, default: 0] += Double(count) * table.cells[kind]!.areaMicrons } }
        }
        return AreaReport(byBlock: byBlock, nand2Area: table.nand2AreaMicrons)
    }

    /// Energy of `cycles` cycles of `instances` copies of the netlist, given per-cell toggle counts
    /// (as a `Simulator` accumulates them over those instances).
    public static func energy(of netlist: Netlist, cellToggles: [Int], internalToggles: [Int], cycles: Int, table: TechnologyTable) -> EnergyReport {
        var dynamic: [String: Double] = [:]
        for c in cellToggles.indices where cellToggles[c] + internalToggles[c] > 0 {
            let figures = table.cells[netlist.kinds[c]]!
            let femtojoules = Double(cellToggles[c]) * figures.energyPerToggleFemtojoules
                + Double(internalToggles[c]) * figures.internalEnergyFemtojoules
            dynamic[netlist.blockNames[Int(netlist.cellBlock[c])], default: 0] += femtojoules / 1000
        }
        let flipFlops = Double(netlist.inventory()[.dff] ?? 0)
        let clock = flipFlops * table.cells[.dff]!.clockEnergyFemtojoules / 1000 * Double(cycles)
        let area = CostModel.area(of: netlist, table: table).total
        // nW × ns = 1e-18 J = 1e-6 pJ.
        let leakage = table.leakageNanowattsPerMicron2 * area * table.clockPeriodNanoseconds * Double(cycles) * 1e-6
        return EnergyReport(dynamicByBlock: dynamic, clock: clock, leakage: leakage)
    }
}
