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
    /// The clock (ns) clock and leakage energy are charged at: the table's period, or the
    /// datapath's own critical path under a Liberty library.
    public let clockNs: Double

    enum CodingKeys: String, CodingKey {
        case architecture, tileSize = "tile_size", output, cells, areaUm2 = "area_um2", areaByBlock = "area_um2_by_block",
             energyPerElementPJ = "energy_pj_per_element", cyclesPerTile = "cycles_per_tile", latency, elementsPerCycle = "elements_per_cycle",
             clockNs = "clock_ns"
    }
}

extension CostReport {
    /// Both decode datapaths at G = 64, FP32 output, on `activations` (rows = tokens) encoded
    /// with the default TAH-Quant settings, priced by `technology` under `delayModel`
    /// (`PricedNetlist`); every decoded value is checked against the software decoder.
    public static func decoderRows(activations: [Float], tokens: Int, channels: Int, technology: Technology,
                                   delayModel: DelayModel = .zero) throws -> [DecoderRow] {
        let g = 64
        let t = try TahQuantEncoder.encode(activations, sequences: 1, tokensPerSequence: tokens, channels: channels,
                                           configuration: TahQuantConfiguration(tileSize: g))
        let reference = TahQuantDecoder.decodeBits(t)
        return try HadamardDatapath.Architecture.allCases.map { architecture in
            let d = HadamardDatapath(tileSize: g, architecture: architecture, output: .fp32)
            let priced = try PricedNetlist(d.netlist, technology: technology, delayModel: delayModel)
            var bits: [UInt32] = []
            let (energy, period) = priced.energy { sim in
                let r = HadamardDecodeRunner.drive(t, datapath: d, on: sim)
                bits = r.bits
                return r.simulatedUnitCycles
            }
            guard bits == reference else { throw CostError.invalid("the \(architecture.rawValue) decode datapath disagrees with the software decoder under \(technology.name)") }
            let area = priced.area
            return DecoderRow(architecture: architecture.rawValue, tileSize: g, output: "fp32", cells: priced.cells,
                              areaUm2: area.total, areaByBlock: area.byBlock, energyPerElementPJ: energy.total / Double(t.codes.count),
                              cyclesPerTile: d.cyclesPerTile, latency: d.latency, elementsPerCycle: Double(g) / Double(d.cyclesPerTile), clockNs: period)
        }
    }
}
