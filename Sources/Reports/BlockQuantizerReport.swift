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
    /// The clock (ns) clock and leakage energy are charged at: the table's period, or the
    /// quantizer's own critical path under a Liberty library.
    public let clockNs: Double

    enum CodingKeys: String, CodingKey {
        case data, blockSize = "block_size", cells, areaUm2 = "area_um2", areaByBlock = "area_um2_by_block",
             energyPerElementPJ = "energy_pj_per_element", latency, elementsPerCycle = "elements_per_cycle", clockNs = "clock_ns"
    }
}

extension CostReport {
    /// The B = 32 MXFP4 quantizer netlist on each named tensor (values trimmed to whole blocks and
    /// to at most 1,024 blocks), priced by `technology` under `delayModel` (`PricedNetlist`, built
    /// once); every scale and code is checked against `BlockFloatQuantizer`'s.
    public static func blockQuantizerRows(_ tensors: [(name: String, values: [Float])], technology: Technology,
                                          delayModel: DelayModel = .zero) throws -> [BlockQuantizerRow] {
        let d = BlockQuantizerDatapath(blockSize: 32)
        let priced = try PricedNetlist(d.netlist, technology: technology, delayModel: delayModel)
        let area = priced.area
        let reference = try BlockFloatQuantizer(.init(.mxfp4))
        return try tensors.compactMap { t in
            let n = min(t.values.count / 32, 1024) * 32
            guard n > 0 else { return nil }
            let values = Array(t.values.prefix(n))
            var out: (scales: [UInt8], codes: [UInt8], simulatedUnitCycles: Int) = ([], [], 0)
            let (energy, period) = priced.energy { sim in
                out = BlockQuantizerRun.drive(values, datapath: d, on: sim)
                return out.simulatedUnitCycles
            }
            let expected = try reference.quantize(values, rows: n / 32, columns: 32)
            guard out.scales == expected.blockScales && out.codes == expected.codes else {
                throw CostError.invalid("the block quantizer disagrees with BlockFloatQuantizer on \(t.name) under \(technology.name)")
            }
            return BlockQuantizerRow(data: t.name, blockSize: 32, cells: priced.cells, areaUm2: area.total, areaByBlock: area.byBlock,
                                     energyPerElementPJ: energy.total / Double(n), latency: d.latency, elementsPerCycle: 32, clockNs: period)
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
    /// The clock (ns) clock and leakage energy are charged at: the table's period, or the
    /// stage's own critical path under a Liberty library.
    public let clockNs: Double

    enum CodingKeys: String, CodingKey {
        case data, scheme, blockSize = "block_size", partialWidth = "partial_width", cells, areaUm2 = "area_um2", energyPerMacPJ = "energy_pj_per_mac",
             clockNs = "clock_ns"
    }
}

extension CostReport {
    /// Both block-scale stages on the block dot products of `data`: weight row r mod weightRows
    /// against activation row r mod activationRows, both quantized with the scheme's defaults;
    /// each block's integer partial sum (in ¼ units) and its two scale codes drive the stage,
    /// priced by `technology` under `delayModel` (`PricedNetlist`).
    public static func blockScaleRows(_ data: ReportData, technology: Technology, delayModel: DelayModel = .zero) throws -> [BlockScaleRow] {
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
            let priced = try PricedNetlist(stage.netlist, technology: technology, delayModel: delayModel)
            var cycles = 0
            let (energy, period) = priced.energy { sim in
                for first in stride(from: 0, to: partials.count, by: 64) {
                    let active = min(64, partials.count - first)
                    sim.activeMask = active == 64 ? ~0 : (UInt64(1) << UInt64(active)) - 1
                    sim.set(stage.partial, instances: Array(partials[first..<(first + active)]))
                    sim.set(stage.scaleA, instances: Array(scalesA[first..<(first + active)]))
                    sim.set(stage.scaleB, instances: Array(scalesB[first..<(first + active)]))
                    sim.evaluate()
                    cycles += active
                }
                return max(1, cycles)
            }
            return BlockScaleRow(data: data.name, scheme: kind.rawValue, blockSize: q.blockSize, partialWidth: width, cells: priced.cells,
                                 areaUm2: priced.area.total, energyPerMacPJ: energy.total / Double(max(1, cycles)) / Double(q.blockSize), clockNs: period)
        }
    }
}
