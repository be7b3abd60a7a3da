import Circuits
import Cost
import Formats
import Quantization
import Units

/// A hardware block quantizer (MXFP4 B = 32, NVFP4 B = 16), priced on real tensors.
public struct BlockQuantizerRow: Sendable, Codable {
    public let data: String
    /// "mxfp4" (the B = 32 floor-rule unit) or "nvfp4" (the B = 16 unit).
    public let format: String
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
        case data, format, blockSize = "block_size", cells, areaUm2 = "area_um2", areaByBlock = "area_um2_by_block",
             energyPerElementPJ = "energy_pj_per_element", latency, elementsPerCycle = "elements_per_cycle", clockNs = "clock_ns"
    }
}

extension CostReport {
    /// The B = 32 MXFP4 (floor) and B = 16 NVFP4 quantizer netlists on each named tensor (values
    /// trimmed to whole blocks and to at most 1,024 blocks), priced by `technology` under
    /// `delayModel` (`PricedNetlist`, built once per unit); every scale and code is checked
    /// against `BlockFloatQuantizer`'s.
    public static func blockQuantizerRows(_ tensors: [(name: String, values: [Float])], technology: Technology,
                                          delayModel: DelayModel = .zero) throws -> [BlockQuantizerRow] {
        try [BlockQuantizerUnit.mxfp4(BlockQuantizerDatapath(blockSize: 32)), .nvfp4(NVFP4QuantizerDatapath(blockSize: 16))].flatMap { unit -> [BlockQuantizerRow] in
            let priced = try PricedNetlist(unit.netlist, technology: technology, delayModel: delayModel)
            let area = priced.area, b = unit.blockSize
            return try tensors.compactMap { t -> BlockQuantizerRow? in
                let n = min(t.values.count / b, 1024) * b
                guard n > 0 else { return nil }
                let (energy, period, _) = try priceBlocks(Array(t.values.prefix(n)), unit: unit, priced: priced, name: t.name)
                return BlockQuantizerRow(data: t.name, format: unit.format, blockSize: b, cells: priced.cells, areaUm2: area.total, areaByBlock: area.byBlock,
                                         energyPerElementPJ: energy.total / Double(n), latency: unit.latency, elementsPerCycle: Double(b), clockNs: period)
            }
        }
    }

    /// Whole blocks of `values` through `unit` on `priced`'s simulator (clock and leakage at
    /// `periodNs`, by default the table's or the critical path); every scale and code is checked
    /// against the `BlockFloatQuantizer` the unit implements, on the same values.
    static func priceBlocks(_ values: [Float], unit: BlockQuantizerUnit, priced: PricedNetlist, name: String,
                            periodNs: Double? = nil) throws -> (energy: EnergyReport, periodNs: Double, toggles: (functional: Int, glitch: Int)?) {
        var out: (scales: [UInt8], codes: [UInt8], simulatedUnitCycles: Int) = ([], [], 0)
        var toggles: (functional: Int, glitch: Int)?
        var failure: Error?
        let result = priced.energy(periodNs: periodNs) { sim in
            do { out = try unit.drive(values, on: sim) } catch { failure = error }
            if let timed = sim as? TimedSimulator { toggles = (timed.totalFunctionalToggles, timed.totalGlitchToggles) }
            return max(1, out.simulatedUnitCycles)
        }
        if let failure { throw failure }
        let expected = try unit.libraryQuantizer().quantize(values, rows: values.count / unit.blockSize, columns: unit.blockSize)
        guard out.scales == expected.blockScales && out.codes == expected.codes else {
            throw CostError.invalid("the \(unit.format) block quantizer disagrees with BlockFloatQuantizer on \(name) under \(priced.technology.name)")
        }
        return (result.energy, result.periodNs, toggles)
    }

    /// The block quantizer (B, scale rule) on the blocks of `values` (rows of B finite binary32
    /// values), mapped, timed and priced by `technology` under `delayModel`: what `dintsim
    /// simulate --unit block-quantizer` prints, and what scripts/real_flow.py holds against Icarus
    /// with OpenSTA's SDF.
    /// `format` "nvfp4" prices the NVFP4 unit instead (`scaleRule` must then be nil), fed the tensor
    /// scale the library derives from all of `values`.
    public static func priceBlockQuantizer(_ values: [Float], blockSize: Int, scaleRule: MXScaleRule?, format: BlockFloatScheme = .mxfp4,
                                           technology: Technology, delayModel: DelayModel, periodNs: Double? = nil) throws -> BlockQuantizerPricing {
        guard blockSize >= 1 && blockSize <= 64 else { throw CostError.invalid("block size \(blockSize) is not in 1...64") }
        guard scaleRule != .stochastic else { throw CostError.invalid("the hardware block quantizer has no stochastic scale rule (no random source)") }
        guard format == .mxfp4 || scaleRule == nil else { throw CostError.invalid("an MX scale rule does not apply to the NVFP4 quantizer") }
        guard !values.isEmpty && values.count % blockSize == 0 else { throw CostError.invalid("\(values.count) values are not whole blocks of \(blockSize)") }
        guard values.allSatisfy(\.isFinite) else { throw CostError.invalid("the block quantizer takes finite values only") }
        let unit: BlockQuantizerUnit = format == .mxfp4 ? .mxfp4(BlockQuantizerDatapath(blockSize: blockSize, scaleRule: scaleRule ?? .floor))
            : .nvfp4(NVFP4QuantizerDatapath(blockSize: blockSize))
        let priced = try PricedNetlist(unit.netlist, technology: technology, delayModel: delayModel)
        let (energy, period, toggles) = try priceBlocks(values, unit: unit, priced: priced, name: "the input", periodNs: periodNs)
        let n = Double(values.count), blocks = Double(values.count / blockSize)
        return BlockQuantizerPricing(format: unit.format, blockSize: blockSize, scaleRule: unit.scaleRule, tensorScale: try unit.tensorScale(for: values), blocks: values.count / blockSize, cells: priced.cells,
                                     areaUm2: priced.area.total, criticalPathNs: priced.timing?.criticalPathNs, clockNs: period,
                                     energyPerElementPJ: energy.total / n, dynamicPerElementPJ: energy.dynamic / n,
                                     clockPerElementPJ: energy.clock / n, leakagePerElementPJ: energy.leakage / n, glitchPerElementPJ: energy.glitch / n,
                                     functionalTogglesPerBlock: toggles.map { Double($0.functional) / blocks },
                                     glitchTogglesPerBlock: toggles.map { Double($0.glitch) / blocks })
    }
}

/// The block quantizer priced on given blocks (`CostReport.priceBlockQuantizer`).
public struct BlockQuantizerPricing: Sendable, Codable {
    /// "mxfp4" or "nvfp4".
    public let format: String
    public let blockSize: Int
    public let scaleRule: String
    /// NVFP4: the tensor scale S the unit was fed (derived from all the values); nil for MXFP4.
    public let tensorScale: Float?
    public let blocks: Int
    public let cells: Int
    public let areaUm2: Double
    /// Static timing's critical path (Liberty libraries), nil under the table.
    public let criticalPathNs: Double?
    /// The period clock and leakage are charged at.
    public let clockNs: Double
    /// Per quantized element (pJ): the total, and its dynamic, clock and leakage parts; glitch is
    /// the part of dynamic energy the timed simulation adds over the functional toggles.
    public let energyPerElementPJ: Double
    public let dynamicPerElementPJ: Double
    public let clockPerElementPJ: Double
    public let leakagePerElementPJ: Double
    public let glitchPerElementPJ: Double
    /// Output transitions of the mapped cells per block (timed simulation only): functional, and
    /// the extra ones (glitches) the delays add.
    public let functionalTogglesPerBlock: Double?
    public let glitchTogglesPerBlock: Double?

    enum CodingKeys: String, CodingKey {
        case format, blockSize = "block_size", scaleRule = "scale_rule", tensorScale = "tensor_scale", blocks, cells, areaUm2 = "area_um2", criticalPathNs = "critical_path_ns",
             clockNs = "clock_ns", energyPerElementPJ = "energy_pj_per_element", dynamicPerElementPJ = "dynamic_pj_per_element",
             clockPerElementPJ = "clock_pj_per_element", leakagePerElementPJ = "leakage_pj_per_element", glitchPerElementPJ = "glitch_pj_per_element",
             functionalTogglesPerBlock = "functional_toggles_per_block", glitchTogglesPerBlock = "glitch_toggles_per_block"
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
