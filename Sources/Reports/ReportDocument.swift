import Foundation
import Circuits
import Cost
import Units
import Workloads

/// Everything `dintsim report` prints and writes.
public struct ReportDocument: Sendable, Codable {
    public struct Ratio: Sendable, Codable {
        public let data: String
        public let lanes: Int
        /// INT8 MAC over dINT MAC.
        public let area: Double
        public let energy: Double
        public let perActionEnergy: Double
        /// INT8 MAC over FP4 (E2M1) MAC.
        public let fp4Area: Double
        public let fp4Energy: Double
        public let fp4PerActionEnergy: Double
        /// Iso-throughput: energy ratios with each faster unit at its lowered supply.
        public var scaledEnergy: Double? = nil
        public var fp4ScaledEnergy: Double? = nil
        enum CodingKeys: String, CodingKey {
            case data, lanes, area, energy, perActionEnergy, fp4Area = "fp4_area", fp4Energy = "fp4_energy", fp4PerActionEnergy = "fp4_per_action_energy"
            case scaledEnergy = "scaled_energy", fp4ScaledEnergy = "fp4_scaled_energy"
        }
    }
    public struct Headline: Sendable, Codable {
        /// INT8 over dINT.
        public let area: Double
        public let energy: Double
        /// INT8 over FP4.
        public let fp4Area: Double
        public let fp4Energy: Double
        public let paperArea: Double
        public let paperPower: Double
        enum CodingKeys: String, CodingKey { case area, energy, fp4Area = "fp4_area", fp4Energy = "fp4_energy", paperArea = "paper_area", paperPower = "paper_power" }
    }
    public struct CalibrationRow: Sendable, Codable {
        public let operation: String
        public let modelEnergyPJ: Double, horowitzEnergyPJ: Double, modelAreaUm2: Double, horowitzAreaUm2: Double
        enum CodingKeys: String, CodingKey {
            case operation, modelEnergyPJ = "model_pj", horowitzEnergyPJ = "horowitz_pj", modelAreaUm2 = "model_um2", horowitzAreaUm2 = "horowitz_um2"
        }
    }
    public struct SweepRow: Sendable, Codable {
        public let parameter: String
        public let value: String
        public let int8: CostRow
        public let dint: CostRow
        public let fp4: CostRow
        /// INT8 over dINT.
        public var areaRatio: Double { int8.areaUm2 / dint.areaUm2 }
        public var energyRatio: Double { int8.energyPerMacPJ / dint.energyPerMacPJ }
        /// INT8 over FP4.
        public var fp4AreaRatio: Double { int8.areaUm2 / fp4.areaUm2 }
        public var fp4EnergyRatio: Double { int8.energyPerMacPJ / fp4.energyPerMacPJ }
        enum CodingKeys: String, CodingKey {
            case parameter, value, int8, dint, fp4, areaRatio = "area_ratio", energyRatio = "energy_ratio",
                 fp4AreaRatio = "fp4_area_ratio", fp4EnergyRatio = "fp4_energy_ratio"
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(parameter, forKey: .parameter); try c.encode(value, forKey: .value)
            try c.encode(int8, forKey: .int8); try c.encode(dint, forKey: .dint); try c.encode(fp4, forKey: .fp4)
            try c.encode(areaRatio, forKey: .areaRatio); try c.encode(energyRatio, forKey: .energyRatio)
            try c.encode(fp4AreaRatio, forKey: .fp4AreaRatio); try c.encode(fp4EnergyRatio, forKey: .fp4EnergyRatio)
        }
        public init(parameter: String, value: String, int8: CostRow, dint: CostRow, fp4: CostRow) {
            self.parameter = parameter; self.value = value; self.int8 = int8; self.dint = dint; self.fp4 = fp4
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            parameter = try c.decode(String.self, forKey: .parameter); value = try c.decode(String.self, forKey: .value)
            int8 = try c.decode(CostRow.self, forKey: .int8); dint = try c.decode(CostRow.self, forKey: .dint)
            fp4 = try c.decode(CostRow.self, forKey: .fp4)
        }
    }

    public let technology: String
    public let rows: [CostRow]
    public let ratios: Headline
    public let comparisons: [Ratio]
    public let calibration: [CalibrationRow]
    public var sweep: [SweepRow]
    /// Which slice of the sweep's points this document holds ("i/n"; "0/1" = all of them).
    public var sweepShard: String = "0/1"
    /// TAH-Quant decode datapaths (G = 64, FP32), when activations were given.
    public var decoder: [DecoderRow] = []
    /// The MXFP4 block quantizer (B = 32) on each data set's weights and activations.
    public var blockQuantizer: [BlockQuantizerRow]? = nil
    /// The block-scale stages (MX, NVFP4) the FP4 MAC needs once per block, on the first data set.
    public var blockScale: [BlockScaleRow]? = nil
    /// With a Liberty library: how each netlist cell kind is built from its cells ("MUX2X1 +
    /// INVX1" for a kind the library has no single cell for).
    public var binding: [String: String]? = nil

    enum CodingKeys: String, CodingKey { case technology, rows, ratios, comparisons, calibration, sweep, sweepShard = "sweep_shard", decoder, blockQuantizer = "block_quantizer", blockScale = "block_scale", binding }
}

extension CostReport {
    /// The default comparison: INT8, dINT and FP4 MACs, lanes 1 and 16, default widths, on each
    /// data set; the headline ratios come from the first data set at one lane.
    /// `sweepShard` (i, n) computes only the i-th of n contiguous slices of the sweep's points;
    /// `ReportDocument.merge` joins such documents into the single run's.
    public static func build(data: [ReportData], table: TechnologyTable, sweep: Bool, decoder: Bool = true,
                             sweepShard: (index: Int, count: Int) = (0, 1),
                             progress: (String) -> Void = { _ in }) throws -> ReportDocument {
        try build(data: data, settings: .table(table), sweep: sweep, decoder: decoder, sweepShard: sweepShard, progress: progress)
    }

    /// As above, priced by `settings` (a Liberty library, a delay model, a clock). The
    /// calibration against Horowitz belongs to the 45 nm-style table and is left out under a
    /// Liberty library; the decode datapaths, the block quantizer and the block-scale stages are
    /// priced by whichever technology prices the MACs.
    public static func build(data: [ReportData], settings: CostSettings, sweep: Bool, decoder: Bool = true,
                             sweepShard: (index: Int, count: Int) = (0, 1),
                             progress: (String) -> Void = { _ in }) throws -> ReportDocument {
        precondition(!data.isEmpty)
        var rows: [CostRow] = []
        var comparisons: [ReportDocument.Ratio] = []
        for d in data {
            for lanes in [1, 16] {
                progress("pricing \(d.name), \(lanes) lane(s)")
                let group = try Self.group([.int8, .dint, .fp4].map { try MacConfiguration(kind: $0, lanes: lanes) }, data: d, settings: settings)
                let (int8, dint, fp4) = (group[0], group[1], group[2])
                rows += group
                var ratio = ReportDocument.Ratio(data: d.name, lanes: lanes, area: int8.areaUm2 / dint.areaUm2,
                                                 energy: int8.energyPerMacPJ / dint.energyPerMacPJ,
                                                 perActionEnergy: int8.perActionPerMacPJ / dint.perActionPerMacPJ,
                                                 fp4Area: int8.areaUm2 / fp4.areaUm2, fp4Energy: int8.energyPerMacPJ / fp4.energyPerMacPJ,
                                                 fp4PerActionEnergy: int8.perActionPerMacPJ / fp4.perActionPerMacPJ)
                if let a = int8.scaledEnergyPerMacPJ, let b = dint.scaledEnergyPerMacPJ, let f = fp4.scaledEnergyPerMacPJ {
                    ratio.scaledEnergy = a / b
                    ratio.fp4ScaledEnergy = a / f
                }
                comparisons.append(ratio)
            }
        }
        let first = comparisons[0]
        var table: TechnologyTable?
        if case .table(let t) = settings.technology { table = t }
        let calibration = (table.map { Calibration.measure($0).points } ?? []).map {
            ReportDocument.CalibrationRow(operation: $0.operation, modelEnergyPJ: $0.modelEnergy, horowitzEnergyPJ: $0.horowitzEnergy,
                                          modelAreaUm2: $0.modelArea, horowitzAreaUm2: $0.horowitzArea)
        }
        var sweepRows: [ReportDocument.SweepRow] = []
        if sweep { sweepRows = try sweepPoints(data: data, settings: settings, shard: sweepShard, progress: progress) }
        var document = ReportDocument(technology: settings.technology.name, rows: rows,
                              ratios: .init(area: first.area, energy: first.energy, fp4Area: first.fp4Area, fp4Energy: first.fp4Energy,
                                            paperArea: paperAreaRatio, paperPower: paperPowerRatio),
                              comparisons: comparisons, calibration: calibration, sweep: sweepRows,
                              sweepShard: "\(sweepShard.index)/\(sweepShard.count)")
        if case .liberty(let b) = settings.technology {
            document.binding = Dictionary(uniqueKeysWithValues: CellKind.allCases.map { ($0.rawValue, b.describe($0)) })
        }
        // The decoder rows use the first data set's activations, trimmed to whole G = 64 tiles.
        // These datapaths are priced like the MACs: by the table or the Liberty library, under
        // the report's delay model.
        let d = data[0]
        let channels = d.length / 64 * 64
        if decoder && channels > 0 {
            progress("pricing the TAH-Quant decode datapaths")
            let tokens = min(d.activationRows, 64)
            var acts: [Float] = []
            for r in 0..<tokens { acts += d.activations[(r * d.length)..<(r * d.length + channels)].map { min(max($0, -65504), 65504) } }
            document.decoder = try decoderRows(activations: acts, tokens: tokens, channels: channels, technology: settings.technology, delayModel: settings.delayModel)
        }
        if decoder {
            progress("pricing the block quantizers (MXFP4, NVFP4)")
            let tensors = data.flatMap { d in [("\(d.name) weights", d.weights), ("\(d.name) activations", d.activations)] }
            let rows = try blockQuantizerRows(tensors.map { ($0.0, $0.1.map { $0.isFinite ? $0 : 0 }) }, technology: settings.technology, delayModel: settings.delayModel)
            if !rows.isEmpty { document.blockQuantizer = rows }
            progress("pricing the block-scale stages")
            document.blockScale = try blockScaleRows(d, technology: settings.technology, delayModel: settings.delayModel)
        }
        return document
    }

    /// One parameter at a time around the defaults (W 32, D 1, lanes 1, array, ripple, the first
    /// data set, the default clock), all three units per point; plus every synthetic
    /// distribution, every data set, and the clock at 1, 1.5, 2 and 4 times its default.
    static func sweepPoints(data: [ReportData], settings: CostSettings, shard: (index: Int, count: Int),
                            progress: (String) -> Void) throws -> [ReportDocument.SweepRow] {
        // Parameters are named by the configuration's serialization keys.
        typealias Key = MacConfiguration.CodingKeys
        var points: [(String, String, (MacConfiguration) throws -> MacConfiguration, ReportData, Double?)] = []
        let base = data[0]
        for w in [16, 24, 32, 48] { points.append((Key.accumulatorWidth.rawValue, "\(w)", { try $0.with(accumulatorWidth: w) }, base, nil)) }
        for n in [1, 2, 4, 8, 16, 32] { points.append((Key.lanes.rawValue, "\(n)", { try $0.with(lanes: n) }, base, nil)) }
        for d in [1, 2, 3] { points.append((Key.pipelineDepth.rawValue, "\(d)", { try $0.with(pipelineDepth: d) }, base, nil)) }
        for m in MultiplierArchitecture.allCases { points.append((Key.multiplier.rawValue, m.rawValue, { try $0.with(multiplier: m) }, base, nil)) }
        for a in AdderArchitecture.allCases { points.append((Key.adder.rawValue, a.rawValue, { try $0.with(adder: a) }, base, nil)) }
        for o in OverflowRule.allCases { points.append((Key.overflow.rawValue, o.rawValue, { try $0.with(overflow: o) }, base, nil)) }
        for dist in Distribution.allCases { points.append(("distribution", dist.rawValue, { $0 }, .synthetic(dist), nil)) }
        for d in data.dropFirst() { points.append(("data", d.name, { $0 }, d, nil)) }
        // The clock leakage is charged at (and, with --iso-throughput, the supply is scaled to):
        // around the default — the table's period, or the slowest default unit's critical path.
        let defaultClock: Double
        switch settings.technology {
        case .table(let t): defaultClock = t.clockPeriodNanoseconds
        case .liberty:
            defaultClock = try [MacKind.int8, .dint, .fp4].compactMap {
                try PricedUnit(try MacConfiguration(kind: $0), technology: settings.technology, delayModel: .zero).timing?.criticalPathNs
            }.max() ?? 1
        }
        for factor in [1.0, 1.5, 2, 4] {
            let clock = (defaultClock * factor * 100).rounded() / 100
            points.append(("clock_ns", String(format: "%.2f", clock), { $0 }, base, clock))
        }
        var out: [ReportDocument.SweepRow] = []
        let slice = (shard.index * points.count / shard.count)..<((shard.index + 1) * points.count / shard.count)
        for (i, (parameter, value, change, d, clock)) in points.enumerated() where slice.contains(i) {
            progress("sweep \(i + 1)/\(points.count): \(parameter) = \(value)")
            let (a, b, f) = (try change(try MacConfiguration(kind: .int8)), try change(try MacConfiguration(kind: .dint)), try change(try MacConfiguration(kind: .fp4)))
            var pointSettings = settings
            if let clock { pointSettings.clockNs = clock }
            let group = try Self.group([a, b, f], data: d, settings: pointSettings)
            out.append(.init(parameter: parameter, value: value, int8: group[0], dint: group[1], fp4: group[2]))
        }
        return out
    }
}

extension ReportDocument {
    /// Joins sweep shards ("0/n" … "n−1/n", each once) of one report into the single run's
    /// document: everything but the sweep must be identical (it is computed the same way in
    /// every shard); the sweep rows are concatenated in shard order.
    public static func merge(_ parts: [ReportDocument]) throws -> ReportDocument {
        func shard(_ d: ReportDocument) -> (Int, Int)? {
            let p = d.sweepShard.split(separator: "/")
            guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]) else { return nil }
            return (i, n)
        }
        let indexed = try parts.map { d -> (Int, Int, ReportDocument) in
            guard let (i, n) = shard(d) else { throw MergeError.invalid("report sweep_shard '\(d.sweepShard)' is not i/n") }
            return (i, n, d)
        }.sorted { $0.0 < $1.0 }
        guard let n = indexed.first?.1, indexed.map(\.0) == Array(0..<n), indexed.allSatisfy({ $0.1 == n }) else {
            throw MergeError.invalid("need report shards 0/n … n−1/n once each, got \(parts.map(\.sweepShard).joined(separator: ", "))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func common(_ d: ReportDocument) throws -> Data { var c = d; c.sweep = []; c.sweepShard = ""; return try encoder.encode(c) }
        let reference = try common(indexed[0].2)
        for (i, _, d) in indexed where try common(d) != reference {
            throw MergeError.invalid("report shard \(i)/\(n) was made from other data or options than shard 0/\(n)")
        }
        var merged = indexed[0].2
        merged.sweep = indexed.flatMap { $0.2.sweep }
        merged.sweepShard = "0/1"
        return merged
    }
}

public enum MergeError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let s) = self { return s }; return "" }
}
