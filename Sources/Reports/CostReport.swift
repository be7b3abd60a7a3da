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
        let (w, a) = try OperandQuantization.operands(weights: weights, weightRows: weightRows, activations: activations, activationRows: activationRows,
                                                      length: length, weightFormat: kind.operandWeightFormat)
        var codes = [UInt8](), acts = [Int8]()
        codes.reserveCapacity(dotProducts * length); acts.reserveCapacity(dotProducts * length)
        for r in 0..<dotProducts {
            let wr = (r % weightRows) * length, ar = (r % activationRows) * length
            codes += w[wr..<(wr + length)]
            acts += a[ar..<(ar + length)]
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
/// Serialized flat: the configuration's own keys (`MacConfiguration`'s `Codable`: unit, lanes,
/// pipeline_depth, accumulator_width, overflow, multiplier, adder) beside the figures' keys.
@dynamicMemberLookup
public struct CostRow: Sendable, Codable {
    public let configuration: MacConfiguration
    public var figures: CostFigures
    public var unit: String { configuration.kind.unitName }
    public var lanes: Int { configuration.lanes }

    public init(configuration: MacConfiguration, figures: CostFigures) {
        self.configuration = configuration; self.figures = figures
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<CostFigures, T>) -> T {
        get { figures[keyPath: key] }
        set { figures[keyPath: key] = newValue }
    }

    public init(from decoder: Decoder) throws {
        configuration = try MacConfiguration(from: decoder)
        figures = try CostFigures(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try configuration.encode(to: encoder)
        try figures.encode(to: encoder)
    }
}

/// What pricing one configuration on one data set gives.
public struct CostFigures: Sendable, Codable {
    public var data: String
    public var areaUm2: Double
    public var gateEquivalents: Double
    public var cells: Int
    /// Activity-based energy per MAC (pJ) and its parts.
    public var energyPerMacPJ: Double
    public var dynamicPerMacPJ: Double
    public var clockPerMacPJ: Double
    public var leakagePerMacPJ: Double
    /// Per-action model: the same unit's energy per MAC on uniformly random operands, applied
    /// regardless of the data (what fixed-pJ-per-MAC estimators do).
    public var perActionPerMacPJ: Double
    public var areaByBlock: [String: Double]
    public var dynamicPerMacByBlock: [String: Double]
    public var utilization: Double
    public var cycles: Int
    /// How toggles were timed: zero, unit or liberty.
    public var delayModel: String
    /// The Liberty library's path when one priced the row.
    public var liberty: String?
    /// Static timing from the library (setup included), when a library priced the row.
    public var criticalPathNs: Double?
    /// The part of the dynamic energy spent on glitches.
    public var glitchPerMacPJ: Double
    /// The clock period leakage is charged at (ns).
    public var clockNs: Double
    /// Iso-throughput (`--iso-throughput`): the supply at which this unit's critical path just
    /// meets the slowest unit's clock, and the energy per MAC there.
    public var scaledSupplyV: Double? = nil
    public var scaledEnergyPerMacPJ: Double? = nil

    enum CodingKeys: String, CodingKey {
        case delayModel = "delay_model", liberty, criticalPathNs = "critical_path_ns", glitchPerMacPJ = "glitch_pj_per_mac", clockNs = "clock_ns"
        case scaledSupplyV = "scaled_supply_v", scaledEnergyPerMacPJ = "scaled_energy_pj_per_mac"
        case data, areaUm2 = "area_um2",
             gateEquivalents = "gate_equivalents", cells, energyPerMacPJ = "energy_pj_per_mac", dynamicPerMacPJ = "dynamic_pj_per_mac",
             clockPerMacPJ = "clock_pj_per_mac", leakagePerMacPJ = "leakage_pj_per_mac", perActionPerMacPJ = "per_action_pj_per_mac",
             areaByBlock = "area_um2_by_block", dynamicPerMacByBlock = "dynamic_pj_per_mac_by_block", utilization, cycles
    }
}

/// What prices the report: technology, delay model, clock, iso-throughput.
public struct CostSettings: Sendable {
    public var technology: Technology
    public var delayModel: DelayModel
    /// The clock (ns) leakage is charged at; nil: the slowest unit's critical path in each
    /// comparison (Liberty), or the table's period.
    public var clockNs: Double?
    /// Also report every unit at the slowest unit's clock with its supply lowered to just meet it.
    public var isoThroughput: Bool
    /// The Liberty file's path, for the rows.
    public var libertyPath: String?

    public init(technology: Technology, delayModel: DelayModel = .zero, clockNs: Double? = nil, isoThroughput: Bool = false, libertyPath: String? = nil) {
        self.technology = technology; self.delayModel = delayModel; self.clockNs = clockNs
        self.isoThroughput = isoThroughput; self.libertyPath = libertyPath
    }

    public static func table(_ t: TechnologyTable) -> CostSettings { CostSettings(technology: .table(t)) }

    /// The supply model for iso-throughput figures (Liberty libraries: their nom_voltage).
    public var voltage: VoltageScaling? {
        if case .liberty(let b) = technology { return .process180nm(nominalVolts: b.library.nominalVoltage) }
        return nil
    }
}

public enum CostReport {
    public static let paperAreaRatio = 1.93
    public static let paperPowerRatio = 2.56

    /// Prices `configuration` on `data` (activity-based) and on random operands (per-action).
    public static func row(_ configuration: MacConfiguration, data: ReportData, table: TechnologyTable) throws -> CostRow {
        try row(PricedUnit(configuration, technology: .table(table), delayModel: .zero), data: data, settings: .table(table))
    }

    /// `unit` priced by `settings`, leakage at `periodNs` (default: `settings.clockNs`, else the
    /// table's period or the unit's own critical path).
    public static func row(_ unit: PricedUnit, data: ReportData, settings: CostSettings, periodNs: Double? = nil) throws -> CostRow {
        let c = unit.configuration
        let (codes, acts) = try data.operands(for: c.kind)
        let period = periodNs ?? settings.clockNs
        let cost = try unit.price(codes: codes, activations: acts, rows: data.dotProducts, length: data.length, periodNs: period)
        let randomLength = 256, randomRows = 128
        let (rc, ra) = ReportData.randomOperands(c, count: randomLength * randomRows, seed: 0xACC)
        let random = try unit.price(codes: rc, activations: ra, rows: randomRows, length: randomLength, periodNs: period)
        return CostRow(configuration: c, figures: CostFigures(
            data: data.name,
            areaUm2: cost.area.total, gateEquivalents: cost.area.gateEquivalents, cells: cost.cells,
            energyPerMacPJ: cost.energyPerMAC, dynamicPerMacPJ: cost.dynamicPerMAC, clockPerMacPJ: cost.clockPerMAC,
            leakagePerMacPJ: cost.leakagePerMAC, perActionPerMacPJ: random.energyPerMAC,
            areaByBlock: cost.area.byBlock, dynamicPerMacByBlock: cost.energy.dynamicByBlock.mapValues { $0 / Double(cost.macs) },
            utilization: cost.run.utilization, cycles: cost.run.totalCycles,
            delayModel: settings.delayModel.rawValue, liberty: settings.libertyPath, criticalPathNs: cost.timing?.criticalPathNs,
            glitchPerMacPJ: cost.glitchPerMAC, clockNs: cost.periodNs))
    }

    /// The three units of one comparison, at one clock: the given one, or the slowest unit's
    /// critical path; with iso-throughput, each faster unit also at its lowered supply.
    static func group(_ configurations: [MacConfiguration], data: ReportData, settings: CostSettings) throws -> [CostRow] {
        let units = try configurations.map { try PricedUnit($0, technology: settings.technology, delayModel: settings.delayModel) }
        let paths = units.map { $0.timing?.criticalPathNs }
        let period = settings.clockNs ?? paths.compactMap { $0 }.max()
        var rows = try units.map { try row($0, data: data, settings: settings, periodNs: period) }
        if settings.isoThroughput, let v = settings.voltage, let period {
            for i in rows.indices {
                let volts = v.supply(forPath: paths[i]!, period: period)
                let k = volts / v.nominalVolts
                let r = rows[i]
                rows[i].scaledSupplyV = volts
                rows[i].scaledEnergyPerMacPJ = (r.dynamicPerMacPJ + r.clockPerMacPJ) * k * k + r.leakagePerMacPJ * k
            }
        }
        return rows
    }
}
