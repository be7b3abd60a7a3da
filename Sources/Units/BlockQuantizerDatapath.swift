import Circuits
import Quantization

/// An MXFP4 block quantizer as a gate-level datapath (docs/block-quantizer.md): B binary32 inputs
/// (finite) → the UE8M0 shared-exponent code under an MX scale rule (OCP's floor by default, or
/// ceil, rceil, even) and B E2M1 codes, rounded to nearest even, saturating at ±6, the sign kept
/// (`--signed-zero keep`). One block per cycle; the outputs are registered (latency 1).
///
/// The arithmetic, bit for bit the rule of `BlockFloatQuantizer(.mxfp4)` with that scale rule:
/// 1. E = max over the block of the biased exponent fields (a tree of 8-bit compare-selects);
///    the largest magnitude's ⌊log2⌋ is E − 127 for a normal maximum.
/// 2. The rule's bump u: 1 when some element whose exponent field is E has a fraction above the
///    rule's threshold (ceil: non-zero; rceil: above 2^22, significand > 1.5; even: at least
///    3 · 2^21, significand ≥ 1.75), 0 under floor — the maximum's significand decides, and only
///    elements of its binade can hold it. scale code = E − 2 + u when that is ≥ 0, else 0
///    (k = ⌊log2 m⌋ − 2 + u clamped at −127; a zero or subnormal maximum gives code 0).
/// 3. For each element, M = the 24-bit significand (hidden bit = exponent field ≠ 0) and
///    r = code + 2 − max(e, 1) ∈ 0 … 253: the element in quarter-steps of the E2M1 half-step grid
///    is q = 4·|x| / 2^k = M / 2^(19 + r). ⌊q⌋ (5 bits) is M's bits 19 + r … 23 + r (zero for
///    r ≥ 5); the sticky bit is the OR of M's bits below 19 + r.
/// 4. The magnitude code counts the E2M1 midpoints below q (midpoints 1, 3, 5, 7, 10, 14, 20 in
///    quarter half-steps): midpoints whose ties go up (3, 7, 14) count when ⌊q⌋ ≥ m, the others
///    (1, 5, 10, 20) when ⌊q⌋ > m or (⌊q⌋ = m and sticky). Above 20 it saturates at code 7 (6).
/// 5. The E2M1 code is sign · 8 + magnitude.
public final class BlockQuantizerDatapath {
    public let blockSize: Int
    /// The MX scale rule (not `stochastic`).
    public let scaleRule: MXScaleRule
    public let netlist: Netlist
    public let inputs: [Bus]
    public let scale: Bus
    public let codes: [Bus]
    /// Clock edges from presenting a block until `scale` and `codes` hold its result.
    public let latency = 1

    /// E2M1 midpoints in quarter half-steps, and whether a tie there goes to the upper level.
    static let midpoints: [(m: Int, up: Bool)] = [(1, false), (3, true), (5, false), (7, true), (10, false), (14, true), (20, false)]

    public init(blockSize b: Int, scaleRule: MXScaleRule = .floor) {
        precondition(b >= 1 && b <= 64)
        precondition(scaleRule != .stochastic, "the hardware block quantizer has no random source")
        blockSize = b
        self.scaleRule = scaleRule
        let n = Netlist()
        netlist = n
        let x = (0..<b).map { n.input("x\($0)", width: 32) }
        inputs = x
        let exponents = x.map { Array($0[23..<31]) }
        // 1. The largest exponent field.
        let e = n.block("block-max") { () -> Bus in
            var level = exponents
            while level.count > 1 {
                var next: [Bus] = []
                for i in stride(from: 0, to: level.count, by: 2) {
                    if i + 1 == level.count { next.append(level[i]); continue }
                    let (_, aAtLeastB) = n.add(level[i], level[i + 1].map { n.not($0) }, carryIn: Netlist.one)
                    next.append(n.mux(aAtLeastB, level[i + 1], level[i]))
                }
                level = next
            }
            return level[0]
        }
        // 2. The bump u, then code = E − 2 + u when that is ≥ 0 (the adder's carry), else 0.
        let bump = n.block("scale") { () -> Node in
            if scaleRule == .floor { return Netlist.zero }
            return (0..<b).reduce(Netlist.zero) { any, i in
                let fraction = Array(x[i][0..<23])
                let above: Node
                switch scaleRule {
                case .ceil: above = fraction.dropFirst().reduce(fraction[0]) { n.or($0, $1) }
                case .rceil: above = n.and(fraction[22], fraction[1..<22].reduce(fraction[0]) { n.or($0, $1) })
                case .even: above = n.and(fraction[22], fraction[21])
                case .floor, .stochastic: preconditionFailure()
                }
                let sameBinade = (0..<8).reduce(Netlist.one) { n.and($0, n.xnor(exponents[i][$1], e[$1])) }
                return n.or(any, n.and(sameBinade, above))
            }
        }
        let code = n.block("scale") { () -> Bus in
            let (difference, notNegative) = n.add(e, n.constant(254, width: 8), carryIn: bump)
            return difference.map { n.and($0, notNegative) }
        }
        let codePlusTwo = n.block("scale") { n.add(n.zeroExtend(code, to: 9), n.constant(2, width: 9)).sum }
        var outputs: [Bus] = []
        for i in 0..<b {
            outputs.append(n.block("element") { () -> Bus in
                let field = exponents[i]
                let hidden = field.dropFirst().reduce(field[0]) { n.or($0, $1) }
                // max(e, 1): a zero field counts as 1 (subnormals share the smallest normal's binade).
                var eOne = field
                eOne[0] = n.or(field[0], n.not(hidden))
                // r = code + 2 − max(e, 1), 9 bits (never negative: code + 2 ≥ E ≥ e).
                let r = n.add(codePlusTwo, n.zeroExtend(eOne, to: 9).map { n.not($0) }, carryIn: Netlist.one).sum
                let significand = Array(x[i][0..<23]) + [hidden]
                // 3. ⌊q⌋ = bits 19 + r … 23 + r of M: a 3-stage shift of the top 5 bits, zero when
                // r ≥ 5. Sticky: a 1 below bit 19 + r (bit 18 + t counts once r ≥ t).
                var top = Array(significand[19..<24])
                for stage in 0..<3 {
                    let k = 1 << stage, s = r[stage]
                    top = (0..<5).map { j in j + k < 5 ? n.mux(s, top[j], top[j + k]) : n.and(n.not(s), top[j]) }
                }
                // r ≥ t for t = 1 … 5, sharing r ≥ 8.
                let r8 = r[4...].reduce(r[3]) { n.or($0, $1) }, r4 = n.or(r8, r[2])
                let rAtLeast = [Netlist.one, n.or(r4, n.or(r[1], r[0])), n.or(r4, r[1]), n.or(r4, n.and(r[1], r[0])), r4, n.or(r8, n.and(r[2], n.or(r[1], r[0])))]
                let window = top.map { n.and($0, n.not(rAtLeast[5])) }
                var sticky = significand[1..<19].reduce(significand[0]) { n.or($0, $1) }
                for t in 1...5 { sticky = n.or(sticky, n.and(significand[18 + t], rAtLeast[t])) }
                // 4. The thermometer of midpoints below q, then its count (window bits inverted once).
                let inverted = window.map { n.not($0) }
                let t = Self.midpoints.map { p -> Node in
                    p.up ? Self.atLeast(window, inverted, p.m, n)
                        : n.or(Self.atLeast(window, inverted, p.m + 1, n), n.and(Self.equals(window, inverted, p.m, n), sticky))
                }
                // 5. Sign and magnitude.
                return Self.magnitude(thermometer: t, n) + [x[i][31]]
            })
        }
        scale = n.block("pipeline") { n.register("scale", code) }
        codes = n.block("pipeline") { outputs.enumerated().map { n.register("c\($0.offset)", $0.element) } }
        n.name(scale, "scale")
        for (i, c) in codes.enumerated() { n.name(c, "c\(i)") }
    }

    /// The datapath's own ports after clk and rst: x [B·32], scale [8], c [B·4] (without
    /// block_quantizer.v's valid handshake, which `verilog` adds as glue).
    public var verilogPorts: [VerilogPort] {
        [VerilogPort(name: "x", direction: .input, bits: inputs.flatMap { $0 }),
         VerilogPort(name: "scale", direction: .output, bits: scale),
         VerilogPort(name: "c", direction: .output, bits: codes.flatMap { $0 })]
    }

    /// The netlist as Verilog with `block_quantizer.v`'s ports and parameter (`dintsim`'s exporter),
    /// so it can stand in for the reference in `tb_block_quantizer.v`.
    public func verilog(module: String = "block_quantizer") -> String {
        netlist.verilog(module: module,
                        ports: [VerilogPort(name: "in_valid", direction: .input, width: 1), VerilogPort(name: "x", direction: .input, bits: inputs.flatMap { $0 }),
                                VerilogPort(name: "out_valid", direction: .output, width: 1), VerilogPort(name: "scale", direction: .output, bits: scale),
                                VerilogPort(name: "c", direction: .output, bits: codes.flatMap { $0 })],
                        parameters: [("B", blockSize), ("SCALE_RULE", Self.ruleNumber(scaleRule))],
                        comment: "MXFP4 block quantizer, B = \(blockSize), \(scaleRule.rawValue) rule, RNE, sign kept", glue: Self.validGlue(latency: latency))
    }

    /// in_valid → out_valid through `latency` flip-flops: the exported quantizers' handshake.
    static func validGlue(latency: Int) -> String {
        let next = latency == 1 ? "in_valid" : "{valid_q[\(latency - 2):0], in_valid}"
        return """
                // in_valid → out_valid: \(latency) cycle\(latency == 1 ? "" : "s"), as the datapath's latency (exporter-made, not priced).
                reg [\(latency - 1):0] valid_q;
                always @(posedge clk) valid_q <= rst ? \(latency)'d0 : \(next);
                assign out_valid = valid_q[\(latency - 1)];

            """
    }

    /// The E2M1 magnitude code (3 bits, LSB first) from the thermometer t of the seven midpoints
    /// below the element (t[j] set for every midpoint j it passes): the count of set bits.
    static func magnitude(thermometer t: [Node], _ n: Netlist) -> Bus {
        let bit2 = t[3]
        let bit1 = n.or(n.and(t[1], n.not(t[3])), t[5])
        let bit0 = n.or(n.or(n.and(t[0], n.not(t[1])), n.and(t[2], n.not(t[3]))), n.or(n.and(t[4], n.not(t[5])), t[6]))
        return [bit0, bit1, bit2]
    }

    /// block_quantizer.v's SCALE_RULE parameter: 0 floor, 1 ceil, 2 rceil, 3 even.
    public static func ruleNumber(_ rule: MXScaleRule) -> Int {
        switch rule {
        case .floor: return 0
        case .ceil: return 1
        case .rceil: return 2
        case .even: return 3
        case .stochastic: preconditionFailure("the hardware block quantizer has no random source")
        }
    }

    /// `bus` (unsigned, LSB first; `inverted` its complement) ≥ the constant c.
    static func atLeast(_ bus: Bus, _ inverted: Bus, _ c: Int, _ n: Netlist) -> Node {
        if c <= 0 { return Netlist.one }
        if c >= 1 << bus.count { return Netlist.zero }
        // From the top bit: greater if a 1 meets a 0 of c, equal so far otherwise.
        var greater = Netlist.zero, equal = Netlist.one
        for j in stride(from: bus.count - 1, through: 0, by: -1) {
            if (c >> j) & 1 == 1 { equal = n.and(equal, bus[j]) }
            else { greater = n.or(greater, n.and(equal, bus[j])); equal = n.and(equal, inverted[j]) }
        }
        return n.or(greater, equal)
    }

    static func equals(_ bus: Bus, _ inverted: Bus, _ c: Int, _ n: Netlist) -> Node {
        bus.indices.reduce(Netlist.one) { acc, j in n.and(acc, (c >> j) & 1 == 1 ? bus[j] : inverted[j]) }
    }
}

/// A stream of blocks through `BlockQuantizerDatapath`, 64 blocks per simulated word (one lane
/// per block position in the stream), with toggle counts for the cost model.
public struct BlockQuantizerRun: Sendable {
    public let scales: [UInt8]
    public let codes: [UInt8]
    public let blocks: Int
    public let cellToggles: [Int]
    public let internalToggles: [Int]
    public let simulatedUnitCycles: Int

    /// `values` holds whole blocks of `datapath.blockSize` binary32 values (finite).
    public static func run(_ values: [Float], datapath d: BlockQuantizerDatapath) -> BlockQuantizerRun {
        let sim = Simulator(d.netlist)
        let r = drive(values, datapath: d, on: sim)
        return BlockQuantizerRun(scales: r.scales, codes: r.codes, blocks: r.scales.count, cellToggles: sim.cellToggles, internalToggles: sim.internalToggles,
                                 simulatedUnitCycles: r.simulatedUnitCycles)
    }

    /// The blocks of `values` through `sim` (a simulator of `d.netlist`: the netlist simulator,
    /// or the timed one on its mapped gates), 64 blocks per cycle: the scale and element codes
    /// read after each edge, and the unit-cycles simulated (one per block).
    public static func drive<S: BitSlicedSimulation>(_ values: [Float], datapath d: BlockQuantizerDatapath, on sim: S)
        -> (scales: [UInt8], codes: [UInt8], simulatedUnitCycles: Int) {
        drive(values, blockSize: d.blockSize, latency: d.latency, inputs: d.inputs, scale: d.scale, codes: d.codes, on: sim) { _, _ in }
    }

    /// The same for any block quantizer's ports; `setOther` drives its other inputs for the
    /// `active` instances of each cycle (the NVFP4 unit's tensor scale). A unit of latency L is
    /// clocked L times per batch with its inputs held: each stage sees every block once, as in a
    /// stream (the stages meet only through registers, so their toggles and glitches are a
    /// stream's), and one unit-cycle is counted per block (one block per cycle in a stream).
    static func drive<S: BitSlicedSimulation>(_ values: [Float], blockSize b: Int, latency: Int, inputs: [Bus], scale: Bus, codes outputs: [Bus], on sim: S,
                                              setOther: (S, Int) -> Void) -> (scales: [UInt8], codes: [UInt8], simulatedUnitCycles: Int) {
        let blocks = values.count / b
        var scales = [UInt8](repeating: 0, count: blocks), codes = [UInt8](repeating: 0, count: blocks * b)
        var simulated = 0
        for first in stride(from: 0, to: blocks, by: 64) {
            let active = min(64, blocks - first)
            sim.activeMask = active == 64 ? ~0 : (UInt64(1) << UInt64(active)) - 1
            for i in 0..<b { sim.set(inputs[i], instances: (0..<active).map { Int64(values[(first + $0) * b + i].bitPattern) }) }
            setOther(sim, active)
            for _ in 0..<latency {
                sim.evaluate()
                sim.clock(resetting: 0)
            }
            simulated += active
            for k in 0..<active {
                scales[first + k] = UInt8(sim.read(scale, instance: k, signed: false))
                for i in 0..<b { codes[(first + k) * b + i] = UInt8(sim.read(outputs[i], instance: k, signed: false)) }
            }
        }
        return (scales, codes, simulated)
    }
}
