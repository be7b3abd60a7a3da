import Circuits
import Cost
import Formats
import Quantization
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

/// The block-scale stage an FP4 MAC needs once per block, priced per MAC.
public struct BlockScaleRow: Sendable, Codable {
    public let data: String
    /// "mx" (MXFP4: B = 32, UE8M0 scales) or "nvfp4" (B = 16, E4M3 scales).
    public let scheme: String
    public let blockSize: Int
    public let partialWidth: Int
    public let cells: Int
    public let areaUm2: Double
    /// The stage's energy per block divided by the block size: what it adds to each MAC (pJ).
    public let energyPerMacPJ: Double

    enum CodingKeys: String, CodingKey {
        case data, scheme, blockSize = "block_size", partialWidth = "partial_width", cells, areaUm2 = "area_um2", energyPerMacPJ = "energy_pj_per_mac"
    }
}

extension CostReport {
    /// Both block-scale stages on the block dot products of `data`: weight row r mod weightRows
    /// against activation row r mod activationRows, both quantized with the scheme's defaults;
    /// each block's integer partial sum (in ¼ units) and its two scale codes drive the stage.
    public static func blockScaleRows(_ data: ReportData, table: TechnologyTable) throws -> [BlockScaleRow] {
        let width = 16  // |P| ≤ 32 · 144 = 4,608 < 2^15: a 16-bit partial sum holds any block
        return try BlockScaleStage.Kind.allCases.map { kind in
            let scheme: BlockFloatScheme = kind == .mx ? .mxfp4 : .nvfp4
            let q = try BlockFloatQuantizer(.init(scheme))
            let length = data.length
            let w = try q.quantize(data.weights.map { $0.isFinite ? $0 : 0 }, rows: data.weightRows, columns: length)
            let a = try q.quantize(data.activations.map { $0.isFinite ? $0 : 0 }, rows: data.activationRows, columns: length)
            var partials: [Int64] = [], scalesA: [Int64] = [], scalesB: [Int64] = []
            let rows = min(data.dotProducts, 256)
            for r in 0..<rows {
                let wr = r % data.weightRows, ar = r % data.activationRows
                for b in 0..<w.blocksPerRow {
                    var p: Int64 = 0
                    for c in (b * q.blockSize)..<min(length, (b + 1) * q.blockSize) {
                        p += Int64(2 * LevelFormat.fp4.decodeSteps(w.codes[wr * length + c])) * Int64(2 * LevelFormat.fp4.decodeSteps(a.codes[ar * length + c]))
                    }
                    partials.append(p)
                    scalesA.append(Int64(a.blockScales[ar * a.blocksPerRow + b])); scalesB.append(Int64(w.blockScales[wr * w.blocksPerRow + b]))
                }
            }
            let stage = BlockScaleStage(kind: kind, partialWidth: width)
            let sim = Simulator(stage.netlist)
            var cycles = 0
            for first in stride(from: 0, to: partials.count, by: 64) {
                let active = min(64, partials.count - first)
                sim.activeMask = active == 64 ? ~0 : (UInt64(1) << UInt64(active)) - 1
                sim.set(stage.partial, instances: Array(partials[first..<(first + active)]))
                sim.set(stage.scaleA, instances: Array(scalesA[first..<(first + active)]))
                sim.set(stage.scaleB, instances: Array(scalesB[first..<(first + active)]))
                sim.evaluate()
                cycles += active
            }
            let area = CostModel.area(of: stage.netlist, table: table)
            let energy = CostModel.energy(of: stage.netlist, cellToggles: sim.cellToggles, internalToggles: sim.internalToggles,
                                          cycles: max(1, cycles), table: table)
            return BlockScaleRow(data: data.name, scheme: kind.rawValue, blockSize: q.blockSize, partialWidth: width, cells: stage.netlist.cellCount,
                                 areaUm2: area.total, energyPerMacPJ: energy.total / Double(max(1, cycles)) / Double(q.blockSize))
        }
    }
}
