import Circuits

/// The integer part of the TAH-Quant decode path as a gate-level datapath: codes of one tile →
/// w = H·q for flagged tiles (bypass q for unflagged ones), with the pivot un-swap applied, so
/// that output i is the integer the final scale stage multiplies by s (docs/hadamard-decode.md).
///
/// Architectures:
/// - `pipelined`: log2 G stages of G/2 add/subtract butterflies, a register after each stage;
///   one tile per cycle, latency log2 G + 1 (the output register).
/// - `folded`: one constant-geometry stage of G/2 butterflies (pairs (i, i + G/2) → outputs
///   (2i, 2i + 1)) applied log2 G times to a G-word register; log2 G + 1 cycles per tile.
///
/// Bit growth: codes enter as 5-bit two's complement (0…15); stage k's outputs are 5 + k bits
/// wide (pipelined); the folded stage works at the final width 5 + log2 G throughout.
public final class HadamardDatapath {
    public enum Architecture: String, CaseIterable, Sendable { case pipelined, folded }

    public let tileSize: Int
    public let architecture: Architecture
    public let netlist: Netlist
    public let codes: [Bus]
    public let flagged: Node
    public let pivot: Bus
    /// Start a tile (folded: load the register; ignored by the pipelined form).
    public let start: Node
    /// The tile's FP16 scale and zero point (carried to the scale stage).
    public let scale: Bus
    public let zero: Bus
    /// Integer outputs (un-swapped butterfly or bypassed codes), registered.
    public let outputs: [Bus]
    /// The decoded values in the output format (when built with a scale/round stage), registered.
    public let values: [Bus]
    public let output: ScaleRoundStage.Output?
    public var outputWidth: Int { 5 + tileSize.trailingZeroBitCount }
    /// Cycles from a tile's inputs to its outputs, and cycles between tiles.
    /// Clock edges from presenting a tile until `outputs` hold its result.
    public var latency: Int { tileSize.trailingZeroBitCount + (architecture == .pipelined ? 1 : 2) + (output == nil ? 0 : 1) }
    public var cyclesPerTile: Int { architecture == .pipelined ? 1 : tileSize.trailingZeroBitCount + 1 }

    public init(tileSize g: Int, architecture: Architecture, output: ScaleRoundStage.Output? = nil) {
        precondition([8, 16, 32, 64, 128].contains(g))
        tileSize = g
        self.architecture = architecture
        self.output = output
        let n = Netlist()
        netlist = n
        let stages = g.trailingZeroBitCount
        let codesIn = (0..<g).map { n.input("q\($0)", width: 4) }
        let flaggedIn = n.input("flagged", width: 1)[0]
        let pivotIn = n.input("pivot", width: stages)
        let startIn = n.input("start", width: 1)[0]
        let scaleIn = n.input("scale", width: 16), zeroIn = n.input("zero", width: 16)
        codes = codesIn; flagged = flaggedIn; pivot = pivotIn; start = startIn; scale = scaleIn; zero = zeroIn
        var sc = scaleIn, ze = zeroIn
        let width = 5 + stages
        var flag = flaggedIn, piv = pivotIn
        var words: [Bus] = codesIn.map { n.zeroExtend($0, to: 5) }
        let original: [Bus]
        switch architecture {
        case .pipelined:
            var bypass = words
            for stage in 0..<stages {
                let h = 1 << stage
                var next = words
                n.block("butterfly") {
                    for block in stride(from: 0, to: g, by: 2 * h) {
                        for i in block..<(block + h) {
                            next[i] = n.addSigned(words[i], words[i + h])
                            next[i + h] = n.subtractSigned(words[i], words[i + h])
                        }
                    }
                }
                words = n.block("pipeline") { next.enumerated().map { n.register("s\(stage)_w\($0.offset)", $0.element) } }
                // Bypass codes, flag and pivot travel beside the butterflies.
                n.block("pipeline") {
                    bypass = bypass.enumerated().map { n.register("s\(stage)_q\($0.offset)", $0.element) }
                    flag = n.register("s\(stage)_flagged", [flag])[0]
                    piv = n.register("s\(stage)_pivot", piv)
                    if output != nil {
                        sc = n.register("s\(stage)_scale", sc)
                        ze = n.register("s\(stage)_zero", ze)
                    }
                }
            }
            original = bypass
        case .folded:
            // Stage counter and register: load on start, otherwise one constant-geometry pass.
            let state = n.block("fold register") { (0..<g).map { n.makeRegister("fold_w\($0)", width: width) } }
            let current = state.map(\.q)
            var next: [Bus] = Array(repeating: [], count: g)
            n.block("butterfly") {
                for i in 0..<(g / 2) {
                    let a = current[i], b = current[i + g / 2]
                    next[2 * i] = n.add(a, b).sum
                    next[2 * i + 1] = n.add(a, b.map { n.not($0) }, carryIn: Netlist.one).sum
                }
            }
            n.block("pipeline") {
                for i in 0..<g { n.connect(state[i], d: n.mux(startIn, next[i], n.signExtend(words[i], to: width))) }
            }
            let held = n.block("pipeline") { () -> ([Bus], Node, Bus) in
                (codesIn.enumerated().map { n.register("fold_q\($0.offset)", n.zeroExtend($0.element, to: 5), enable: startIn) },
                 n.register("fold_flagged", [flaggedIn], enable: startIn)[0], n.register("fold_pivot", pivotIn, enable: startIn))
            }
            words = current
            original = held.0
            flag = held.1; piv = held.2
            if output != nil {
                sc = n.block("pipeline") { n.register("fold_scale", scaleIn, enable: startIn) }
                ze = n.block("pipeline") { n.register("fold_zero", zeroIn, enable: startIn) }
            }
        }
        // Bypass for unflagged tiles, then the pivot un-swap: out[0] = w[pivot], out[pivot] = w[0].
        let chosen: [Bus] = n.block("bypass") { (0..<g).map { n.mux(flag, n.signExtend(original[$0], to: width), n.signExtend(words[$0], to: width)) } }
        let swapped: [Bus] = n.block("unswap") {
            let isPivot = (0..<g).map { i in n.and(flag, n.equals(piv, constant: i)) }
            // w[pivot]: a G:1 mux tree on the pivot index.
            var layer = chosen
            for bit in piv { layer = stride(from: 0, to: layer.count, by: 2).map { n.mux(bit, layer[$0], layer[$0 + 1]) } }
            let atPivot = layer[0]
            return (0..<g).map { i in
                i == 0 ? n.mux(flag, chosen[0], atPivot) : n.mux(isPivot[i], chosen[i], chosen[0])
            }
        }
        let registered = n.block("pipeline") { swapped.enumerated().map { n.register("out_w\($0.offset)", $0.element) } }
        outputs = registered
        for (i, o) in registered.enumerated() { n.name(o, "w\(i)") }
        guard let output else { values = []; return }
        // Scale/round stage per element, from registered integers and tile parameters.
        let (outFlag, outPivot, outScale, outZero) = n.block("pipeline") {
            (n.register("out_flagged", [flag])[0], n.register("out_pivot", piv), n.register("out_scale", sc), n.register("out_zero", ze))
        }
        let notFlag = n.block("scale and round") { n.not(outFlag) }
        values = (0..<g).map { i in
            let y = n.block("scale and round") {
                ScaleRoundStage.build(n, tileSize: g, output: output, w: registered[i], scale: outScale, zero: outZero,
                                      addZero: notFlag, addZeroTimesG: n.and(outFlag, n.equals(outPivot, constant: i)), applyC: outFlag)
            }
            return n.block("pipeline") { n.register("y\(i)", y) }
        }
    }

}

extension HadamardDatapath {
    /// The datapath as structural Verilog (docs/export.md). Pipelined, with a scale/round
    /// stage: the ports and parameters of `rtl-reference/hadamard_decoder.v` (clk, rst, in_valid,
    /// q, flagged, pivot, scale, zero, out_valid, y), so it drops into that module's test bench;
    /// `in_valid` → `out_valid` is a chain of `latency` flip-flops the exporter adds beside the
    /// priced netlist (dintsim's datapath carries no valid bit). Folded: its own protocol, a
    /// `start` input for each tile (held for `cyclesPerTile` cycles), no valid signals.
    public func verilog(module: String = "hadamard_decoder") -> String {
        let g = tileSize, log2g = g.trailingZeroBitCount
        let q = VerilogPort(name: "q", direction: .input, bits: codes.flatMap { $0 })
        let tile = [q, VerilogPort(name: "flagged", direction: .input, bits: [flagged]), VerilogPort(name: "pivot", direction: .input, bits: pivot),
                    VerilogPort(name: "scale", direction: .input, bits: scale), VerilogPort(name: "zero", direction: .input, bits: zero)]
        let y = output == nil ? VerilogPort(name: "w", direction: .output, bits: outputs.flatMap { $0 })
                              : VerilogPort(name: "y", direction: .output, bits: values.flatMap { $0 })
        let comment = "TAH-Quant decode datapath, G = \(g), \(architecture.rawValue), output \(output?.rawValue ?? "integers")"
        if architecture == .folded {
            return netlist.verilog(module: module, ports: [VerilogPort(name: "start", direction: .input, bits: [start])] + tile + [y], comment: comment)
        }
        let format = output.map { ["fp32": 0, "bf16": 1, "fp16": 2][$0.rawValue]! } ?? -1
        let parameters = output == nil ? [] : [("G", g), ("LOG2G", log2g), ("OUT_FMT", format), ("OUT_W", output == .fp32 ? 32 : 16)]
        let glue = """
            // in_valid → out_valid: \(latency) cycles, as the datapath's latency (exporter-made, not priced).
            reg [\(latency - 1):0] valid_pipe;
            always @(posedge clk) valid_pipe <= rst ? \(latency)'d0 : {valid_pipe[\(latency - 2):0], in_valid};
            assign out_valid = valid_pipe[\(latency - 1)];

        """
        return netlist.verilog(module: module,
                               ports: [VerilogPort(name: "in_valid", direction: .input, width: 1)] + tile
                                   + [VerilogPort(name: "out_valid", direction: .output, width: 1), y],
                               parameters: parameters, comment: comment, glue: glue)
    }
}
