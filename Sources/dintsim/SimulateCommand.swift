import ArgumentParser
import Circuits
import Foundation
import Formats
import TensorIO
import Units
import Cost

extension OverflowRule: ExpressibleByArgument {}
extension MultiplierArchitecture: ExpressibleByArgument {}
extension AdderArchitecture: ExpressibleByArgument {}
extension MacRunner.Mode: ExpressibleByArgument {}

/// Options shared by the commands that build a MAC unit.
struct MacOptions: ParsableArguments {
    @Option(help: "int8-mac, dint-mac, fp4-mac or codebook-mac.") var unit: String = "dint-mac"
    @Option(help: "Code book for codebook-mac: a preset name or codebook:FILE.json (default dint4).") var codebook: String?
    @Option(help: "Lanes of the dot-product PE (1 = a plain MAC).") var lanes = 1
    @Option(help: "Pipeline depth 1–3.") var pipeline = 1
    @Option(help: "Accumulator width in bits.") var accWidth = 32
    @Option(help: "Accumulator overflow: wrap or saturate.") var overflow: OverflowRule = .wrap
    @Option(help: "Multiplier: array (Baugh-Wooley) or dadda.") var multiplier: MultiplierArchitecture = .array
    @Option(help: "Adder tree and accumulator adder: ripple or kogge-stone.") var adder: AdderArchitecture = .ripple

    func configuration() throws -> MacConfiguration {
        if codebook != nil && unit != "codebook-mac" {
            throw CLIError.badInput("--codebook applies to --unit codebook-mac, not \(unit); drop it")
        }
        let kind: MacKind
        if let fixed = MacKind(unitName: unit) {
            kind = fixed
        } else if unit == "codebook-mac" {
            kind = .codeBook(try resolveFormat(codebook ?? "dint4"))
        } else {
            throw CLIError.badInput("unknown unit '\(unit)' (known: int8-mac, dint-mac, fp4-mac, codebook-mac)")
        }
        let c = MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: pipeline, accumulatorWidth: accWidth,
                                 overflow: overflow, multiplier: multiplier, adder: adder)
        try badInput { try c.validate() }
        return c
    }
}

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run dot products through the cycle-level MAC / PE model.",
        discussion: """
        Each row of W and A is one dot product (columns = reduction). Results are exact integers in units of the \
        smallest product step: Σ 2w·a for dint-mac, fp4-mac and codebook-mac (w in weight steps), Σ w·a for int8-mac. \
        Every result is also checked against plain integer arithmetic; a disagreement exits 1. \
        The VCD shows simulated instance 0, which processes rows 0, 64, 128, … back to back.
        """)

    @OptionGroup var mac: MacOptions
    @Option(help: "Weights: 2-D uint8 .npy of raw codes (int8-mac: int8 values or their uint8 bit patterns).") var weights: String
    @Option(help: "Activations: 2-D int8 .npy, or the uint8 codes of quantize --format int8-sym (bit patterns), same shape.") var activations: String
    @Option(help: "fast (word-level model), netlist (gate level), toggles (gate level with toggle counts).") var mode: MacRunner.Mode = .toggles
    @Option(help: "Write a VCD waveform here (gate-level modes).") var vcd: String?
    @Option(help: "Write the results as JSON here.") var json: String?
    @Option(help: "Price the run with this technology table JSON (energy per MAC in the output).") var tech: String?
    @Option(help: "Price the run with this Liberty library (.lib/.lib.gz): energy per MAC, critical path.") var liberty: String?
    @Option(help: "With pricing: zero, unit or liberty (per-arc delays from --liberty); glitches counted apart.") var delayModel: DelayModel?
    @Option(help: "With pricing: the clock (ns) leakage is charged at (default: the table's, or the unit's critical path).") var clockNs: Double?

    func validate() throws {
        if tech != nil && liberty != nil { throw ValidationError("give --tech or --liberty, not both") }
        if delayModel == .liberty && liberty == nil { throw ValidationError("--delay-model liberty needs --liberty FILE (per-arc delays come from the library)") }
        if let clockNs, !(clockNs > 0 && clockNs.isFinite) { throw ValidationError("--clock-ns must be a positive number of nanoseconds") }
        if pricing && mode != .toggles { throw ValidationError("--tech, --liberty, --delay-model and --clock-ns price toggles: they need --mode toggles") }
        if pricing && vcd != nil { throw ValidationError("--vcd shows the zero-delay netlist: drop --tech, --liberty, --delay-model and --clock-ns to write one") }
    }

    var pricing: Bool { tech != nil || liberty != nil || delayModel != nil || clockNs != nil }

    func run() throws {
        let c = try mac.configuration()
        if vcd != nil && mode == .fast { throw CLIError.badInput("--vcd needs --mode netlist or toggles") }
        let (codes, acts, rows, length) = try badInput { () -> ([UInt8], [Int8], Int, Int) in
            let w = try Files.readNpy(weights), a = try Files.readNpy(activations)
            let (r, k) = try w.matrixShape()
            guard a.shape == w.shape else {
                throw TensorIOError.malformed("activations shape \(a.shape) differs from weights shape \(w.shape)")
            }
            let codes: [UInt8]
            if c.kind == .int8 && w.dtype == .int8 { codes = try w.int8Values().map { UInt8(bitPattern: $0) } } else { codes = try w.uint8Values() }
            // Activations: int8 values, or the uint8 bit patterns `quantize --format int8-sym` writes.
            let acts = a.dtype == .uint8 ? try a.uint8Values().map { Int8(bitPattern: $0) } : try a.int8Values()
            return (codes, acts, r, k)
        }
        if let bad = codes.firstIndex(where: { !c.isValidCode($0) }) {
            throw CLIError.badInput("\(weights): weight code \(codes[bad]) at row \(bad / max(length, 1)), column \(bad % max(length, 1)) is reserved or out of range for \(c.kind)")
        }
        let runner = try badInput { try MacRunner(c) }
        var cost: MacCost?
        let result: MacRunner.Result
        var writer: VCDWriter?
        if pricing {
            let technology = try badInput { try Technology.load(tech: tech, liberty: liberty) }
            cost = try badInput {
                try PricedUnit(c, technology: technology, delayModel: delayModel ?? .zero)
                    .price(codes: codes, activations: acts, rows: rows, length: length, periodNs: clockNs)
            }
            result = cost!.run
        } else {
            let circuit = mode == .fast ? nil : try badInput { try MacCircuit(c) }
            writer = vcd.flatMap { _ in circuit.map { VCDWriter(signals: $0.netlist.signals, instance: 0) } }
            result = try runner.run(codes: codes, activations: acts, rows: rows, length: length, mode: mode, vcd: writer, circuit: circuit) { done, total in
                if total >= 16 && (done % max(1, total / 10) == 0 || done == total) {
                    printProgress("simulate: \(done)/\(total) rounds of 64 rows")
                }
            }
        }
        let reference = runner.reference(codes: codes, activations: acts, rows: rows, length: length)
        var files: [(path: String, bytes: [UInt8])] = []
        if let vcd, let writer { files.append((vcd, Array(writer.text.utf8))) }
        if let json {
            var object: [String: Any] = [
                "unit": "\(c.kind)", "lanes": c.lanes, "pipeline": c.pipelineDepth, "acc_width": c.accumulatorWidth,
                "overflow": c.overflow.rawValue, "multiplier": c.multiplier.rawValue, "adder": c.adder.rawValue,
                "rows": rows, "length": length, "results": result.results, "cycles": result.totalCycles,
                "compute_cycles": result.computeCycles, "latency": result.latency, "fill": result.latency, "drain": result.latency,
                "stalls": 0, "utilization": result.utilization, "macs": result.macs, "mode": mode.rawValue,
            ]
            if let cost {
                object["toggles"] = cost.functionalToggles + cost.glitchToggles
                object["functional_toggles"] = cost.functionalToggles
                object["glitch_toggles"] = cost.glitchToggles
                object["energy"] = [
                    "technology": cost.technologyName, "delay_model": cost.delayModel.rawValue, "liberty": liberty ?? NSNull(),
                    "area_um2": cost.area.total, "critical_path_ns": cost.timing?.criticalPathNs ?? NSNull(), "clock_ns": cost.periodNs,
                    "energy_pj_per_mac": cost.energyPerMAC, "dynamic_pj_per_mac": cost.dynamicPerMAC, "glitch_pj_per_mac": cost.glitchPerMAC,
                    "clock_pj_per_mac": cost.clockPerMAC, "leakage_pj_per_mac": cost.leakagePerMAC, "unit_cycles": cost.unitCycles,
                ] as [String: Any]
            } else if mode == .toggles {
                object["toggles"] = result.totalToggles
                object["toggles_by_block"] = result.togglesByBlock
            } else {
                object["toggles"] = NSNull()
            }
            let data = try badInput { try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) }
            files.append((json, Array(data) + [0x0A]))
        }
        guard result.results == reference else {
            let row = zip(result.results, reference).enumerated().first { $0.element.0 != $0.element.1 }!.offset
            throw CLIError(message: "internal check failed: row \(row) simulated \(result.results[row]), plain arithmetic \(reference[row])", exitCode: 1)
        }
        try badInput { try Files.writeAllAtomically(files) }
        var out = result.results.enumerated().map { "row \($0.offset): \($0.element)" }.joined(separator: "\n")
        out += "\n\(c.kind), \(c.lanes) lane(s), depth \(c.pipelineDepth), \(c.accumulatorWidth)-bit \(c.overflow) accumulator, \(c.multiplier) multiplier, \(c.adder) adders\n"
        out += "cycles \(result.totalCycles) (compute \(result.computeCycles), latency \(result.latency), stalls 0), utilization \(String(format: "%.3f", result.utilization)), \(result.macs) MACs\n"
        if let cost {
            out += "\(cost.delayModel) delay, \(cost.technologyName): toggles \(cost.functionalToggles) functional + \(cost.glitchToggles) glitch; "
            out += String(format: "%.4f pJ/MAC (dynamic %.4f, of which glitch %.4f; clock %.4f; leakage %.4f), area %.1f µm²",
                          cost.energyPerMAC, cost.dynamicPerMAC, cost.glitchPerMAC, cost.clockPerMAC, cost.leakagePerMAC, cost.area.total)
            out += cost.timing.map { String(format: ", critical path %.3f ns", $0.criticalPathNs) } ?? ""
            out += "\n"
        } else if mode == .toggles {
            out += "toggles \(result.totalToggles): " + result.togglesByBlock.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }
        out += "results agree with plain integer arithmetic"
        printOut(out)
    }
}

extension SimulateCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [weights, activations, tech, liberty, mac.codebook.flatMap(codeBookPath)], outputs: [json, vcd]) }
}
