import Circuits
import Cost
import Formats
import Quantization
import Units
import Workloads

/// A data set for the cost report: float weights and activations, quantized by the project's
/// own quantizers to each unit's formats (weights per output channel, activations INT8 per token).
public struct ReportData: Sendable {
    public let name: String
    public let weights: [Float], weightRows: Int
    public let activations: [Float], activationRows: Int
    public let length: Int
    /// Dot products: row r pairs weight row r mod weightRows with activation row r mod activationRows.
    public let dotProducts: Int

    public init(name: String, weights: [Float], weightRows: Int, activations: [Float], activationRows: Int, length: Int, dotProducts: Int? = nil) {
        self.name = name
        self.weights = weights; self.weightRows = weightRows
        self.activations = activations; self.activationRows = activationRows
        self.length = length
        self.dotProducts = dotProducts ?? max(weightRows, activationRows)
    }

    /// LLM-like synthetic data: weights of `distribution`, activations N(0,1) with outlier channels.
    public static func synthetic(_ distribution: Distribution, rows: Int = 256, length: Int = 256, seed: UInt64 = 0) -> ReportData {
        ReportData(name: "synthetic \(distribution.rawValue)", weights: distribution.sample(rows: rows, columns: length, seed: seed), weightRows: rows,
                   activations: Distribution.outlierChannels.sample(rows: rows, columns: length, seed: seed &+ 1), activationRows: rows, length: length)
    }

    /// Codes and INT8 activations for a unit, one dot product per row.
    func operands(for kind: MacKind) throws -> (codes: [UInt8], activations: [Int8]) {
        // Per output channel for every unit, so the format is the only difference (INT8 weights
        // symmetric, as quantizers produce them).
        let weightFormat = kind == .int8 ? LevelFormat.int8Symmetric : kind.weightFormat
        let w = try SymmetricQuantizer(format: weightFormat, granularity: .channel).quantize(weights, rows: weightRows, columns: length).codes
        let a = try SymmetricQuantizer(format: .int8Symmetric, granularity: .channel).quantize(activations, rows: activationRows, columns: length).codes
        var codes = [UInt8](), acts = [Int8]()
        codes.reserveCapacity(dotProducts * length); acts.reserveCapacity(dotProducts * length)
        for r in 0..<dotProducts {
            let wr = (r % weightRows) * length, ar = (r % activationRows) * length
            codes += w[wr..<(wr + length)]
            acts += a[ar..<(ar + length)].map { Int8(bitPattern: $0) }
        }
        return (codes, acts)
    }

    /// Uniformly random valid codes and activations: the "random action" that per-action energy
    /// tables (Accelergy-style) are characterised on.
    static func randomOperands(_ c: MacConfiguration, count: Int, seed: UInt64) -> ([UInt8], [Int8]) {
        let random = CounterRandom(seed: seed)
        let valid = (0..<256).filter { c.isValidCode(UInt8($0)) }.map(UInt8.init)
        let codes = (0..<count).map { valid[Int(random.bits(UInt64(2 * $0)) % UInt64(valid.count))] }
        let acts = (0..<count).map { Int8(truncatingIfNeeded: random.bits(UInt64(2 * $0 + 1))) }
        return (codes, acts)
    }
}

/// One priced configuration on one data set.
public struct CostRow: Sendable, Codable {
    public let data: String
    public let unit: String
    public let lanes: Int
    public let pipeline: Int
    public let accWidth: Int
    public let overflow: String
    public let multiplier: String
    public let adder: String
    public let areaUm2: Double
    public let gateEquivalents: Double
    public let cells: Int
    /// Activity-based energy per MAC (pJ) and its parts.
    public let energyPerMacPJ: Double
    public let dynamicPerMacPJ: Double
    public let clockPerMacPJ: Double
    public let leakagePerMacPJ: Double
    /// Per-action model: the same unit's energy per MAC on uniformly random operands, applied
    /// regardless of the data (what fixed-pJ-per-MAC estimators do).
    public let perActionPerMacPJ: Double
    public let areaByBlock: [String: Double]
    public let dynamicPerMacByBlock: [String: Double]
    public let utilization: Double
    public let cycles: Int

    enum CodingKeys: String, CodingKey {
        case data, unit, lanes, pipeline, accWidth = "acc_width", overflow, multiplier, adder, areaUm2 = "area_um2",
             gateEquivalents = "gate_equivalents", cells, energyPerMacPJ = "energy_pj_per_mac", dynamicPerMacPJ = "dynamic_pj_per_mac",
             clockPerMacPJ = "clock_pj_per_mac", leakagePerMacPJ = "leakage_pj_per_mac", perActionPerMacPJ = "per_action_pj_per_mac",
             areaByBlock = "area_um2_by_block", dynamicPerMacByBlock = "dynamic_pj_per_mac_by_block", utilization, cycles
    }
}

public enum CostReport {
    public static let paperAreaRatio = 1.93
    public static let paperPowerRatio = 2.56

    /// Prices `configuration` on `data` (activity-based) and on random operands (per-action).
    public static func row(_ configuration: MacConfiguration, data: ReportData, table: TechnologyTable) throws -> CostRow {
        let (codes, acts) = try data.operands(for: configuration.kind)
        let cost = try MacCost.evaluate(configuration, codes: codes, activations: acts, rows: data.dotProducts, length: data.length, table: table)
        let randomLength = 256, randomRows = 128
        let (rc, ra) = ReportData.randomOperands(configuration, count: randomLength * randomRows, seed: 0xACC)
        let random = try MacCost.evaluate(configuration, codes: rc, activations: ra, rows: randomRows, length: randomLength, table: table)
        let c = configuration
        return CostRow(
            data: data.name, unit: c.kind.description, lanes: c.lanes, pipeline: c.pipelineDepth, accWidth: c.accumulatorWidth,
            overflow: c.overflow.rawValue, multiplier: c.multiplier.rawValue, adder: c.adder.rawValue,
            areaUm2: cost.area.total, gateEquivalents: cost.area.gateEquivalents, cells: cost.cells,
            energyPerMacPJ: cost.energyPerMAC, dynamicPerMacPJ: cost.dynamicPerMAC, clockPerMacPJ: cost.clockPerMAC,
            leakagePerMacPJ: cost.leakagePerMAC, perActionPerMacPJ: random.energyPerMAC,
            areaByBlock: cost.area.byBlock, dynamicPerMacByBlock: cost.energy.dynamicByBlock.mapValues { $0 / Double(cost.macs) },
            utilization: cost.run.utilization, cycles: cost.run.totalCycles)
    }
}
