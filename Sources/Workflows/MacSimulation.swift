import Circuits
import Cost
import Foundation
import Formats
import Quantization
import TensorIO
import Units

public enum MacSimulationError: Error, Equatable, CustomStringConvertible {
    /// The inputs do not fit the unit (shape, dtype, code, scales).
    case invalid(String)
    /// The simulated result of a row differs from plain integer arithmetic: a defect of dintsim.
    case mismatch(row: Int, simulated: Int64, reference: Int64)

    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .mismatch(let r, let s, let p): return "internal check failed: row \(r) simulated \(s), plain arithmetic \(p)"
        }
    }
}

/// `simulate` as one library call: dot products through a MAC unit (word-level model or gate
/// level), every result checked against plain integer arithmetic, optionally priced, and
/// optionally dequantized to floats with the scales `quantize` wrote.
public enum MacSimulation {
    /// Which rows meet in a dot product.
    public enum Pairing: String, Sendable, CaseIterable {
        /// Row r of the weights with row r of the activations (same shape); results [R].
        case rows
        /// Every activation row t (a token) with every weight row o (an output channel), t-major:
        /// the layer's Y = A·Wᵀ, results [T, O].
        case matmul
    }

    /// The dot products, flattened: dot product r is `codes[r·length ..< (r+1)·length]` with the
    /// same slice of `activations`; the per-dot-product scales are those of its two rows.
    public struct Operands: Sendable {
        public var codes: [UInt8]
        public var activations: [Int8]
        public var rows: Int
        public var length: Int
        /// The results' shape: [R] for row pairing, [T, O] for a matrix product.
        public var resultShape: [Int]
        /// The weight and activation scale of each dot product (both or neither).
        public var weightScales: [Float]?
        public var activationScales: [Float]?

        public init(codes: [UInt8], activations: [Int8], rows: Int, length: Int, resultShape: [Int]? = nil,
                    weightScales: [Float]? = nil, activationScales: [Float]? = nil) {
            self.codes = codes; self.activations = activations; self.rows = rows; self.length = length
            self.resultShape = resultShape ?? [rows]
            self.weightScales = weightScales; self.activationScales = activationScales
        }

        /// Largest number of operand bytes a matrix product is expanded to (codes + activations).
        public static let maximumExpandedBytes = 1 << 31

        /// From the arrays `quantize` writes (docs/cli.md, simulate): weights uint8 codes (int8-mac:
        /// also int8 values), activations int8 values or the uint8 bit patterns of int8-sym codes,
        /// 2-D, the same shape (`.rows`) or the same column count (`.matmul`); scales float32 of
        /// shape [1] / [rows] / [rows, 1] of their own tensor (tensor or channel granularity).
        /// Reserved or too-wide codes are refused, naming the row and column.
        public static func read(weights: NpyArray, activations: NpyArray, weightScales: NpyArray? = nil, activationScales: NpyArray? = nil,
                                for c: MacConfiguration, pairing: Pairing = .rows, weightsName: String = "weights") throws -> Operands {
            let (weightRows, length) = try weights.matrixShape()
            let (activationRows, activationColumns) = try activations.matrixShape()
            switch pairing {
            case .rows:
                guard activations.shape == weights.shape else {
                    throw MacSimulationError.invalid("activations shape \(activations.shape) differs from weights shape \(weights.shape) (a matrix product pairs every row with every row: --pairing matmul)")
                }
            case .matmul:
                guard activationColumns == length else {
                    throw MacSimulationError.invalid("activations have \(activationColumns) columns, weights \(length): a dot product needs equal lengths")
                }
                guard 2 * weightRows * activationRows * length <= maximumExpandedBytes else {
                    throw MacSimulationError.invalid("a \(activationRows) × \(length) by \(length) × \(weightRows) product expands to \(2 * weightRows * activationRows * length) operand bytes (limit \(maximumExpandedBytes)); take fewer rows")
                }
            }
            let codes = c.kind == .int8 && weights.dtype == .int8 ? try weights.int8Values().map { UInt8(bitPattern: $0) } : try weights.uint8Values()
            let acts = activations.dtype == .uint8 ? try activations.uint8Values().map { Int8(bitPattern: $0) } : try activations.int8Values()
            if let bad = codes.firstIndex(where: { !c.isValidCode($0) }) {
                throw MacSimulationError.invalid("\(weightsName): weight code \(codes[bad]) at row \(bad / max(length, 1)), column \(bad % max(length, 1)) is reserved or out of range for \(c.kind)")
            }
            func scales(_ a: NpyArray?, _ what: String, rows: Int) throws -> [Float]? {
                guard let a else { return nil }
                guard a.dtype == .float32 else { throw MacSimulationError.invalid("\(what) scales: dtype \(a.dtype) where float32 (as quantize writes them) is required") }
                let count = a.shape.reduce(1, *)
                guard a.shape == [1] || a.shape == [rows] || a.shape == [rows, 1] || (a.shape == [1, 1]) else {
                    throw MacSimulationError.invalid("\(what) scales: shape \(a.shape); one scale per row ([\(rows)]) or per tensor ([1]) is required (group scales change inside a dot product: quantize with --granularity channel or tensor)")
                }
                let v = try a.floatValues()
                if let bad = v.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                    throw MacSimulationError.invalid("\(what) scales: element \(bad) is \(v[bad]); scales are finite and ≥ 0")
                }
                return count == 1 ? [Float](repeating: v[0], count: rows) : v
            }
            let sw = try scales(weightScales, "weight", rows: weightRows), sa = try scales(activationScales, "activation", rows: activationRows)
            guard pairing == .matmul else {
                return Operands(codes: codes, activations: acts, rows: weightRows, length: length, weightScales: sw, activationScales: sa)
            }
            // t-major: dot product t·O + o is activation row t with weight row o.
            let rows = activationRows * weightRows
            var pairedCodes = [UInt8](), pairedActs = [Int8]()
            pairedCodes.reserveCapacity(rows * length); pairedActs.reserveCapacity(rows * length)
            for t in 0..<activationRows {
                for o in 0..<weightRows {
                    pairedCodes += codes[(o * length)..<((o + 1) * length)]
                    pairedActs += acts[(t * length)..<((t + 1) * length)]
                }
            }
            return Operands(codes: pairedCodes, activations: pairedActs, rows: rows, length: length, resultShape: [activationRows, weightRows],
                            weightScales: sw.map { s in (0..<rows).map { s[$0 % weightRows] } },
                            activationScales: sa.map { s in (0..<rows).map { s[$0 / weightRows] } })
        }
    }

    /// Pricing the run (toggles through a technology table or a Liberty library).
    public struct Pricing {
        public var technology: Technology
        public var delayModel: DelayModel
        public var clockNs: Double?
        public var libertyPath: String?
        public init(technology: Technology, delayModel: DelayModel = .zero, clockNs: Double? = nil, libertyPath: String? = nil) {
            self.technology = technology; self.delayModel = delayModel; self.clockNs = clockNs; self.libertyPath = libertyPath
        }
    }

    /// What one simulation gives; encodes as simulate's JSON (the configuration's own keys
    /// flat beside the figures).
    public struct Outcome: Encodable {
        public let configuration: MacConfiguration
        public let mode: SimulationMode
        public let result: MacRunner.Result
        /// [R] for row pairing, [T, O] for a matrix product (results are row-major in it).
        public let resultShape: [Int]
        public let cost: MacCost?
        public let libertyPath: String?
        /// Dequantized results (both scale files given), one binary32 per row.
        public let outputs: [Float]?
        /// The waveform of one bit-sliced instance (gate-level modes, when asked for): instance k
        /// runs dot products k, k + 64, k + 128, … back to back; `vcdCycles` long.
        public let vcd: String?
        public let vcdInstance: Int?
        public let vcdCycles: Int

        enum Keys: String, CodingKey {
            case rows, length, results, resultShape = "result_shape", cycles, computeCycles = "compute_cycles", latency, fill, drain, stalls, utilization, macs, mode
            case toggles, functionalToggles = "functional_toggles", glitchToggles = "glitch_toggles", energy, togglesByBlock = "toggles_by_block"
            case outputs
        }
        enum EnergyKeys: String, CodingKey {
            case technology, delayModel = "delay_model", liberty, areaUm2 = "area_um2", criticalPathNs = "critical_path_ns", clockNs = "clock_ns"
            case energy = "energy_pj_per_mac", dynamic = "dynamic_pj_per_mac", glitch = "glitch_pj_per_mac", clock = "clock_pj_per_mac"
            case leakage = "leakage_pj_per_mac", unitCycles = "unit_cycles"
        }

        public func encode(to encoder: Encoder) throws {
            try configuration.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            let r = result
            try c.encode(r.rows, forKey: .rows); try c.encode(r.length, forKey: .length); try c.encode(r.results, forKey: .results)
            try c.encode(resultShape, forKey: .resultShape)
            try c.encode(r.totalCycles, forKey: .cycles); try c.encode(r.computeCycles, forKey: .computeCycles)
            try c.encode(r.latency, forKey: .latency); try c.encode(r.latency, forKey: .fill); try c.encode(r.latency, forKey: .drain)
            try c.encode(0, forKey: .stalls); try c.encode(r.utilization, forKey: .utilization); try c.encode(r.macs, forKey: .macs)
            try c.encode(mode.rawValue, forKey: .mode)
            if let outputs { try c.encode(outputs.map(Double.init), forKey: .outputs) }
            if let cost {
                try c.encode(cost.functionalToggles + cost.glitchToggles, forKey: .toggles)
                try c.encode(cost.functionalToggles, forKey: .functionalToggles)
                try c.encode(cost.glitchToggles, forKey: .glitchToggles)
                var e = c.nestedContainer(keyedBy: EnergyKeys.self, forKey: .energy)
                try e.encode(cost.technologyName, forKey: .technology); try e.encode(cost.delayModel.rawValue, forKey: .delayModel)
                try e.encode(libertyPath, forKey: .liberty); try e.encode(cost.area.total, forKey: .areaUm2)
                try e.encode(cost.timing?.criticalPathNs, forKey: .criticalPathNs); try e.encode(cost.periodNs, forKey: .clockNs)
                try e.encode(cost.energyPerMAC, forKey: .energy); try e.encode(cost.dynamicPerMAC, forKey: .dynamic)
                try e.encode(cost.glitchPerMAC, forKey: .glitch); try e.encode(cost.clockPerMAC, forKey: .clock)
                try e.encode(cost.leakagePerMAC, forKey: .leakage); try e.encode(cost.unitCycles, forKey: .unitCycles)
            } else if mode == .toggles {
                try c.encode(r.totalToggles, forKey: .toggles)
                try c.encode(r.togglesByBlock, forKey: .togglesByBlock)
            } else {
                try c.encodeNil(forKey: .toggles)
            }
        }

        /// Results printed one per line up to this many; beyond, the first few and a count.
        public static let printedResults = 256

        /// The text simulate prints.
        public var summary: String {
            let c = configuration, r = result
            let shown = r.results.count <= Self.printedResults ? r.results.count : 8
            var out = r.results.prefix(shown).enumerated().map { "row \($0.offset): \($0.element)" }.joined(separator: "\n")
            if shown < r.results.count { out += "\n… \(r.results.count) results in all, shape \(resultShape) (every one in --json)" }
            if let outputs { out += "\ndequantized: " + outputs.prefix(8).map { "\($0)" }.joined(separator: ", ") + (outputs.count > 8 ? ", …" : "") }
            out += "\n\(c.kind), \(c.lanes) lane(s), depth \(c.pipelineDepth), \(c.accumulatorWidth)-bit \(c.overflow) accumulator, \(c.multiplier) multiplier, \(c.adder) adders\n"
            out += "cycles \(r.totalCycles) (compute \(r.computeCycles), latency \(r.latency), stalls 0), utilization \(String(format: "%.3f", r.utilization)), \(r.macs) MACs\n"
            if let cost {
                out += "\(cost.delayModel) delay, \(cost.technologyName): toggles \(cost.functionalToggles) functional + \(cost.glitchToggles) glitch; "
                out += String(format: "%.4f pJ/MAC (dynamic %.4f, of which glitch %.4f; clock %.4f; leakage %.4f), area %.1f µm²",
                              cost.energyPerMAC, cost.dynamicPerMAC, cost.glitchPerMAC, cost.clockPerMAC, cost.leakagePerMAC, cost.area.total)
                out += cost.timing.map { String(format: ", critical path %.3f ns", $0.criticalPathNs) } ?? ""
                out += "\n"
            } else if mode == .toggles {
                out += "toggles \(r.totalToggles): " + r.togglesByBlock.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
            }
            if let k = vcdInstance {
                let shown = stride(from: k, to: r.rows, by: 64).prefix(4).map(String.init).joined(separator: ", ")
                out += "waveform: instance \(k) (dot products \(shown)\(r.rows > k + 256 ? ", …" : "")), \(vcdCycles) cycles (clk, rst; a scope per block and lane)\n"
            }
            out += "results agree with plain integer arithmetic"
            return out
        }
    }

    /// Runs the dot products, checks every result against `MacRunner.reference` (a difference
    /// throws `.mismatch`), prices the run when `pricing` is given (toggles mode), and
    /// dequantizes when both scale sets are present. `vcd` (gate-level modes, no pricing):
    /// the waveform of instance 0.
    public static func run(_ c: MacConfiguration, _ operands: Operands, mode: SimulationMode, pricing: Pricing? = nil, vcd: Bool = false,
                           vcdRow: Int = 0, progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        if vcd && mode == .fast { throw MacSimulationError.invalid("a VCD needs the gate-level netlist: --mode netlist or toggles") }
        if vcd && !(0..<max(operands.rows, 1)).contains(vcdRow) {
            throw MacSimulationError.invalid("the waveform's dot product \(vcdRow) is not one of the \(operands.rows) (0…\(operands.rows - 1))")
        }
        if pricing != nil && mode != .toggles { throw MacSimulationError.invalid("pricing counts toggles: it needs --mode toggles") }
        if pricing != nil && vcd { throw MacSimulationError.invalid("a VCD shows the zero-delay netlist: drop the pricing options to write one") }
        if (operands.weightScales == nil) != (operands.activationScales == nil) {
            throw MacSimulationError.invalid("dequantized outputs need both the weight and the activation scales")
        }
        let o = operands
        let runner = MacRunner(c)
        var cost: MacCost?
        let result: MacRunner.Result
        var writer: VCDWriter?
        if let pricing {
            cost = try PricedUnit(c, technology: pricing.technology, delayModel: pricing.delayModel)
                .price(codes: o.codes, activations: o.activations, rows: o.rows, length: o.length, periodNs: pricing.clockNs)
            result = cost!.run
        } else {
            let circuit = mode == .fast ? nil : MacCircuit(c)
            writer = vcd ? circuit.map {
                VCDWriter(signals: $0.netlist.signals, scopes: VCDWriter.scopes($0.netlist, index: "lane", count: c.lanes), instance: vcdRow % 64, module: c.kind.unitName)
            } : nil
            result = try runner.run(codes: o.codes, activations: o.activations, rows: o.rows, length: o.length, mode: mode, vcd: writer, circuit: circuit, progress: progress)
        }
        let reference = runner.reference(codes: o.codes, activations: o.activations, rows: o.rows, length: o.length)
        if let row = zip(result.results, reference).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            throw MacSimulationError.mismatch(row: row, simulated: result.results[row], reference: reference[row])
        }
        var outputs: [Float]?
        if let sw = o.weightScales, let sa = o.activationScales {
            outputs = (0..<o.rows).map {
                OperandQuantization.dequantize(accumulator: result.results[$0], unitLog2: c.productUnitLog2, weightScale: sw[$0], activationScale: sa[$0])
            }
        }
        return Outcome(configuration: c, mode: mode, result: result, resultShape: o.resultShape, cost: cost, libertyPath: pricing?.libertyPath, outputs: outputs,
                       vcd: writer?.text, vcdInstance: writer?.instance, vcdCycles: writer?.cycles ?? 0)
    }
}
