import ArgumentParser
import Circuits
import Foundation
import Formats
import TensorIO
import Quantization
import Reports
import Units
import Cost
import Workflows

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run dot products through the cycle-level MAC / PE model.",
        discussion: """
        Each row of W and A is one dot product (columns = reduction); --pairing matmul takes every row of A with every \
        row of W instead (Y = A·Wᵀ). Results are exact integers in units of the smallest product step: Σ 2w·a for \
        dint-mac, fp4-mac and codebook-mac (w in weight steps), Σ w·a for int8-mac. With the scales quantize wrote \
        (--weight-scales, --activation-scales) each result is also dequantized: acc · unit · s_w · s_a rounded once to \
        float32 (--outputs, and "outputs" in --json). Every result is checked against plain integer arithmetic; a \
        disagreement exits 1. The VCD shows simulated instance 0, which processes dot products 0, 64, 128, … back to back.
        --unit block-quantizer runs the MXFP4 block quantizer's netlist instead, one block per cycle, on --blocks (float32 \
        rows of --block-size values, each a block) under --mx-scale, checked against the library's quantizer and priced \
        with --tech or --liberty (docs/block-quantizer.md); --unit nvfp4-quantizer the NVFP4 unit (default B = 16), fed the \
        tensor scale the library derives from the whole file.
        """)

    @OptionGroup var mac: MacOptions
    @Option(help: "Weights: 2-D uint8 .npy of raw codes (int8-mac: int8 values or their uint8 bit patterns).") var weights: String?
    @Option(help: "Activations: 2-D int8 .npy, or the uint8 codes of quantize --format int8-sym (bit patterns).") var activations: String?
    @Option(help: "block-quantizer: the blocks, a 2-D float32 .npy of --block-size columns (one block per row, finite values).") var blocks: String?
    @Option(help: "block-quantizer / nvfp4-quantizer: block size B (1-64; default 32, MXFP4's, or 16, NVFP4's).") var blockSize: Int?
    @Option(help: "block-quantizer: the MX scale rule, floor (default), ceil, rceil or even.") var mxScale: MXScaleRule?
    @Option(help: "fast (word-level model), netlist (gate level), toggles (gate level with toggle counts).") var mode: SimulationMode = .toggles
    @Option(help: "Write a VCD waveform here (gate-level modes): clk, rst, a scope per block and lane.") var vcd: String?
    @Option(help: "With --vcd: the dot product whose instance to show (instance R mod 64, which runs R, R + 64, … back to back; default 0).") var vcdRow: Int?
    @Option(help: "rows: row r of W with row r of A (same shape); matmul: every row of A (tokens) with every row of W (output channels), results [T, O] = A·Wᵀ.") var pairing: MacSimulation.Pairing = .rows
    @Option(help: "Weight scales from quantize --scales-out (float32, per row or per tensor): with --activation-scales, dequantize the results.") var weightScales: String?
    @Option(help: "Activation scales from quantize --scales-out (float32, per row or per tensor).") var activationScales: String?
    @Option(help: "With both scale files: write the dequantized results here (float32 .npy of the results' shape, each rounded once from the exact value).") var outputs: String?
    @Option(help: "Write the results as JSON here (with both scale files: the dequantized \"outputs\" too).") var json: String?
    @Option(help: "Price the run with this technology table JSON (energy per MAC in the output).") var tech: String?
    @Option(help: "Price the run with this Liberty library (.lib/.lib.gz): energy per MAC, critical path.") var liberty: String?
    @Option(help: "With pricing: zero, unit or liberty (per-arc delays from --liberty); glitches counted apart.") var delayModel: DelayModel?
    @Option(help: "With pricing: the clock (ns) leakage is charged at (default: the table's, or the unit's critical path).") var clockNs: Double?

    func validate() throws {
        if isBlockQuantizer {
            guard blocks != nil, weights == nil, activations == nil else { throw ValidationError("--unit \(mac.unit) takes --blocks X.npy (not --weights / --activations)") }
            guard tech != nil || liberty != nil else { throw ValidationError("--unit \(mac.unit) prices the netlist: give --tech FILE or --liberty FILE") }
            if mac.unit == "nvfp4-quantizer" && mxScale != nil { throw ValidationError("--mx-scale does not apply to --unit nvfp4-quantizer; drop it") }
            if vcd != nil || weightScales != nil || outputs != nil { throw ValidationError("--vcd, the scale files and --outputs apply to the MAC units") }
        } else {
            guard weights != nil, activations != nil, blocks == nil else { throw ValidationError("give --weights and --activations (--blocks is for --unit block-quantizer and nvfp4-quantizer)") }
            if blockSize != nil || mxScale != nil { throw ValidationError("--block-size and --mx-scale apply to --unit block-quantizer and nvfp4-quantizer") }
        }
        if tech != nil && liberty != nil { throw ValidationError("give --tech or --liberty, not both") }
        if delayModel == .liberty && liberty == nil { throw ValidationError("--delay-model liberty needs --liberty FILE (per-arc delays come from the library)") }
        if let clockNs, !(clockNs > 0 && clockNs.isFinite) { throw ValidationError("--clock-ns must be a positive number of nanoseconds") }
        if pricing && mode != .toggles { throw ValidationError("--tech, --liberty, --delay-model and --clock-ns price toggles: they need --mode toggles") }
        if pricing && vcd != nil { throw ValidationError("--vcd shows the zero-delay netlist: drop --tech, --liberty, --delay-model and --clock-ns to write one") }
        if vcd != nil && mode == .fast { throw ValidationError("--vcd needs --mode netlist or toggles") }
        if vcdRow != nil && vcd == nil { throw ValidationError("--vcd-row chooses the waveform's instance: give --vcd FILE") }
        if (weightScales == nil) != (activationScales == nil) { throw ValidationError("--weight-scales and --activation-scales go together (a dot product's value needs both)") }
        if outputs != nil && weightScales == nil { throw ValidationError("--outputs writes dequantized results: give --weight-scales and --activation-scales") }
    }

    var pricing: Bool { tech != nil || liberty != nil || delayModel != nil || clockNs != nil }
    var isBlockQuantizer: Bool { mac.unit == "block-quantizer" || mac.unit == "nvfp4-quantizer" }

    func run() throws {
        if isBlockQuantizer { return try runBlockQuantizer() }
        let c = try mac.configuration()
        let weights = self.weights!, activations = self.activations!
        let operands = try badInput {
            try MacSimulation.Operands.read(weights: try Files.readNpy(weights), activations: try Files.readNpy(activations),
                                            weightScales: try weightScales.map(Files.readNpy), activationScales: try activationScales.map(Files.readNpy),
                                            for: c, pairing: pairing, weightsName: weights)
        }
        let pricing = self.pricing ? MacSimulation.Pricing(technology: try badInput { try Technology.load(tech: tech, liberty: liberty) },
                                                           delayModel: delayModel ?? .zero, clockNs: clockNs, libertyPath: liberty) : nil
        let outcome: MacSimulation.Outcome
        do {
            outcome = try MacSimulation.run(c, operands, mode: mode, pricing: pricing, vcd: vcd != nil, vcdRow: vcdRow ?? 0) { done, total in
                if total >= 16 && (done % max(1, total / 10) == 0 || done == total) { printProgress("simulate: \(done)/\(total) rounds of 64 rows") }
            }
        } catch let e as MacSimulationError {
            if case .mismatch = e { throw CLIError(message: e.description, exitCode: 1) }
            throw CLIError.badInput(e.description)
        } catch {
            throw CLIError.badInput(ErrorText.describe(error))
        }
        var files: [(path: String, bytes: [UInt8])] = []
        if let vcd, let text = outcome.vcd { files.append((vcd, Array(text.utf8))) }
        if let json { files.append((json, try jsonFileBytes(outcome))) }
        if let outputs, let values = outcome.outputs {
            files.append((outputs, NpyCodec.encodeHeader(dtype: .float32, shape: outcome.resultShape) + NpyArray.float32Bytes(values)))
        }
        try badInput { try Files.writeAllAtomically(files) }
        printOut(outcome.summary)
    }
}

extension SimulateCommand {
    /// --unit block-quantizer / nvfp4-quantizer: the blocks through the netlist, priced; one line, and --json.
    func runBlockQuantizer() throws {
        let nvfp4 = mac.unit == "nvfp4-quantizer", blockSize = self.blockSize ?? (nvfp4 ? 16 : 32)
        let pricing = try badInput { () -> BlockQuantizerPricing in
            let a = try Files.readNpy(blocks!)
            let (_, columns) = try a.matrixShape()
            guard columns == blockSize else { throw CLIError.badInput("\(blocks!): \(columns) columns, but --block-size is \(blockSize) (one block per row)") }
            return try CostReport.priceBlockQuantizer(try a.floatValues(), blockSize: blockSize, scaleRule: nvfp4 ? nil : mxScale ?? .floor,
                                                      format: nvfp4 ? .nvfp4 : .mxfp4, technology: try Technology.load(tech: tech, liberty: liberty), delayModel: delayModel ?? .zero,
                                                      periodNs: clockNs)
        }
        if let json { try badInput { try Files.writeAllAtomically([(json, try jsonFileBytes(pricing))]) } }
        printOut("\(pricing.format) block quantizer B = \(blockSize), \(pricing.scaleRule) rule: \(pricing.blocks) blocks, \(pricing.cells) cells, "
                 + "\(FigureText.scientific(pricing.areaUm2)) µm², \(FigureText.scientific(pricing.energyPerElementPJ)) pJ/element "
                 + "(glitch \(FigureText.scientific(pricing.glitchPerElementPJ))) at \(pricing.clockNs) ns")
    }
}

extension SimulateCommand: DeclaresFiles {
    var files: FileUse { FileUse(inputs: [weights, activations, blocks, weightScales, activationScales, tech, liberty, mac.codebook.flatMap(codeBookPath)],
                                  outputs: [json, vcd, outputs]) }
}
