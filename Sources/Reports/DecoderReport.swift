import Circuits
import Cost
import TAHQuant
import Units
import Workloads

/// One TAH-Quant decode datapath, priced.
public struct DecoderRow: Sendable, Codable {
    public let architecture: String
    public let tileSize: Int
    public let output: String
    public let cells: Int
    public let areaUm2: Double
    public let areaByBlock: [String: Double]
    /// Activity-based energy per decoded element (pJ): dynamic + clock + leakage.
    public let energyPerElementPJ: Double
    public let cyclesPerTile: Int
    public let latency: Int
    /// Elements decoded per clock cycle at full occupancy.
    public let elementsPerCycle: Double

    enum CodingKeys: String, CodingKey {
        case architecture, tileSize = "tile_size", output, cells, areaUm2 = "area_um2", areaByBlock = "area_um2_by_block",
             energyPerElementPJ = "energy_pj_per_element", cyclesPerTile = "cycles_per_tile", latency, elementsPerCycle = "elements_per_cycle"
    }
}

extension CostReport {
    /// Both decode datapaths at G = 64, FP32 output, on `activations` (rows = tokens) encoded
    /// with the default TAH-Quant settings.
    public static func decoderRows(activations: [Float], tokens: Int, channels: Int, table: TechnologyTable) throws -> [DecoderRow] {
        let g = 64
        let t = try TahQuantEncoder.encode(activations, sequences: 1, tokensPerSequence: tokens, channels: channels,
                                           configuration: TahQuantConfiguration(tileSize: g))
        return HadamardDatapath.Architecture.allCases.map { architecture in
            let d = HadamardDatapath(tileSize: g, architecture: architecture, output: .fp32)
            let run = HadamardDecodeRunner.run(t, architecture: architecture, output: .fp32, datapath: d)
            let area = CostModel.area(of: d.netlist, table: table)
            let energy = CostModel.energy(of: d.netlist, cellToggles: run.cellToggles, internalToggles: run.internalToggles,
                                          cycles: run.simulatedUnitCycles, table: table)
            return DecoderRow(architecture: architecture.rawValue, tileSize: g, output: "fp32", cells: d.netlist.cellCount,
                              areaUm2: area.total, areaByBlock: area.byBlock, energyPerElementPJ: energy.total / Double(t.codes.count),
                              cyclesPerTile: d.cyclesPerTile, latency: d.latency, elementsPerCycle: Double(g) / Double(d.cyclesPerTile))
        }
    }
}
