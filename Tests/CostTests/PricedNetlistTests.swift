import Testing
import Foundation
import Circuits
import Formats
import Liberty
import Quantization
import Units
import Workloads
@testable import Cost
@testable import Reports

/// The datapaths beside the MACs — decode datapaths, block quantizer, block-scale stages — are
/// priced like the MACs (`PricedNetlist`): by the table at zero delay exactly as before, and
/// under a Liberty library through the mapped, timed gates, with their outputs still checked.
@Suite struct PricedNetlistTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var s = CounterStream(seed: seed)
        return (0..<count).map { _ in Float((s.nextUnit() - 0.5) * 8) * (s.next() % 9 == 0 ? 40 : 1) }
    }

    /// Under the table at zero delay the rows equal the netlist simulator's toggles priced by
    /// `CostModel` directly (the path the report took before it priced by any technology).
    @Test func tableAtZeroDelayPricesAsTheNetlistSimulator() throws {
        let table = try TechnologyTable.nangate45()
        let values = Self.values(32 * 100, seed: 3)
        let rows = try CostReport.blockQuantizerRows([("x", values)], technology: .table(table))
        let d = BlockQuantizerDatapath(blockSize: 32)
        let run = BlockQuantizerRun.run(values, datapath: d)
        let energy = CostModel.energy(of: d.netlist, cellToggles: run.cellToggles, internalToggles: run.internalToggles,
                                      cycles: run.simulatedUnitCycles, table: table)
        #expect(rows.map(\.format) == ["mxfp4", "nvfp4"] && rows[0].energyPerElementPJ == energy.total / Double(values.count))
        #expect(rows[0].areaUm2 == CostModel.area(of: d.netlist, table: table).total && rows[0].clockNs == table.clockPeriodNanoseconds)
        // The NVFP4 unit the same way, fed the tensor scale of the values.
        let nv = NVFP4QuantizerDatapath(blockSize: 16), sim = Simulator(nv.netlist)
        let cycles = try BlockQuantizerUnit.nvfp4(nv).drive(values, on: sim).simulatedUnitCycles
        let nvEnergy = CostModel.energy(of: nv.netlist, cellToggles: sim.cellToggles, internalToggles: sim.internalToggles, cycles: cycles, table: table)
        #expect(rows[1].energyPerElementPJ == nvEnergy.total / Double(values.count) && rows[1].areaUm2 == CostModel.area(of: nv.netlist, table: table).total)
    }

    /// A Liberty library with Liberty delays: every datapath maps, times and prices, clock and
    /// leakage at its own critical path, and its outputs equal the software reference (the row
    /// functions throw otherwise).
    @Test func everyDatapathPricesOnALibertyLibrary() throws {
        let binding = try CellBinding(LibertyLibrary.parse(Array(smallLibrary.utf8), source: "tiny.lib"))
        let technology = Technology.liberty(binding)
        let acts = Self.values(2 * 64, seed: 5)
        let decoder = try CostReport.decoderRows(activations: acts, tokens: 2, channels: 64, technology: technology, delayModel: .liberty)
        let quantizer = try CostReport.blockQuantizerRows([("x", Self.values(32 * 70, seed: 7))], technology: technology, delayModel: .liberty)
        let data = ReportData.synthetic(.laplace, rows: 4, length: 64)
        let stages = try CostReport.blockScaleRows(data, technology: technology, delayModel: .liberty)
        #expect(decoder.count == 2 && quantizer.count == 2 && stages.count == 2)
        let pairs: [(Int, Double, Double, Double)] = decoder.map { ($0.cells, $0.areaUm2, $0.energyPerElementPJ, $0.clockNs) }
            + quantizer.map { ($0.cells, $0.areaUm2, $0.energyPerElementPJ, $0.clockNs) } + stages.map { ($0.cells, $0.areaUm2, $0.energyPerMacPJ, $0.clockNs) }
        for (cells, area, energy, clock) in pairs { #expect(cells > 0 && area > 0 && energy > 0 && clock > 0) }
        // Clock and leakage are charged at the datapath's own critical path.
        let q = BlockQuantizerDatapath(blockSize: 32)
        let priced = try PricedNetlist(q.netlist, technology: technology, delayModel: .liberty)
        #expect(quantizer[0].clockNs == priced.timing!.criticalPathNs && quantizer[0].areaUm2 == priced.area.total)
    }
}
