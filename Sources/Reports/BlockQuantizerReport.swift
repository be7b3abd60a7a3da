import Circuits
import Cost
import Units

/// The MXFP4 block quantizer (B = 32), priced on real tensors.
public struct BlockQuantizerRow: Sendable, Codable {
    public let data: String
    public let blockSize: Int
    public let cells: Int
    public let areaUm2: Double
    public let areaByBlock: [String: Double]
    /// Activity-based energy per quantized element (pJ): dynamic + clock + leakage.
    public let energyPerElementPJ: Double
    public let latency: Int
    /// Elements quantized per clock cycle (one block per cycle).
    public let elementsPerCycle: Double

    enum CodingKeys: String, CodingKey {
        case data, blockSize = "block_size", cells, areaUm2 = "area_um2", areaByBlock = "area_um2_by_block",
             energyPerElementPJ = "energy_pj_per_element", latency, elementsPerCycle = "elements_per_cycle"
    }
}

extension CostReport {
    /// The B = 32 MXFP4 quantizer netlist on each named tensor (values trimmed to whole blocks and
    /// to at most 1,024 blocks), priced with `table`.
    public static func blockQuantizerRows(_ tensors: [(name: String, values: [Float])], table: TechnologyTable) -> [BlockQuantizerRow] {
        let d = BlockQuantizerDatapath(blockSize: 32)
        let area = CostModel.area(of: d.netlist, table: table)
        return tensors.compactMap { t in
            let n = min(t.values.count / 32, 1024) * 32
            guard n > 0 else { return nil }
            let run = BlockQuantizerRun.run(Array(t.values.prefix(n)), datapath: d)
            let energy = CostModel.energy(of: d.netlist, cellToggles: run.cellToggles, internalToggles: run.internalToggles,
                                          cycles: run.simulatedUnitCycles, table: table)
            return BlockQuantizerRow(data: t.name, blockSize: 32, cells: d.netlist.cellCount, areaUm2: area.total, areaByBlock: area.byBlock,
                                     energyPerElementPJ: energy.total / Double(n), latency: d.latency, elementsPerCycle: 32)
        }
    }
}
