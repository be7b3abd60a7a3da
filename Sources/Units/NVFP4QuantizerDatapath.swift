import Circuits
import Quantization

/// An NVFP4 block quantizer as a gate-level datapath (docs/block-quantizer.md, "NVFP4 quantizer"):
/// B binary32 elements and the tensor's decode scale S (binary32, positive) → the E4M3 block-scale
/// code and B E2M1 codes, bit for bit `BlockFloatQuantizer(.nvfp4)` under its default convention
/// (`decode` tensor scale given, `exact-quotient` block scale, `exact` elements, `allow-zero`,
/// elements rounded to nearest even and saturating at ±6, the sign kept). The tensor maximum
/// that S comes from is a pass over the whole tensor, outside the unit. One block per cycle in
/// two stages: the block-scale code (steps 1–4) is registered with S and the elements, then the
/// element stage (steps 5–6) and the registered outputs (latency 2).
///
/// The arithmetic, step by step (each a documented rule):
/// 1. m = the largest magnitude (bits 0–30 of the elements compared as integers).
/// 2. m and S normalized: N = the 24-bit significand shifted left until bit 23 is 1 (leading-zero
///    stages 16, 8, 4, 2, 1), exponent E = max(e, 1) − shift; Δ = E_m − E_S − 8.
/// 3. Q = ⌊N_m · 2^7 / (3 · N_S)⌋ by 7 steps of restoring division (Q ∈ [21, 85]), sticky = a
///    non-zero remainder: q = m / (6·S) = (Q + frac) · 2^Δ, Q's leading bit p ∈ {4, 5, 6}.
/// 4. E4M3 rounding: G = max(p + Δ + 6, 0) (= g + 9 for the quantum 2^g, g = max(⌊log2 q⌋ − 3, −9));
///    the quantum's position in Q is j = G − 9 − Δ (1 … 3 for a normal q, more for a subnormal
///    one); R = Q / 2^j rounded to nearest even with the sticky bit (0 when j ≥ 9); code = 8·G + R,
///    saturating at 0x7E (448) when that is ≥ 0x7F; m = 0 gives 0.
/// 5. The element scale b·S = P · 2^(max(e_b, 1) + max(e_S, 1) − 160) with P = M_b · M_S
///    (4 × 24 bits); thresholds T_c = c · P for the E2M1 midpoints c = 1, 3, 5, 7, 10, 14, 20
///    (quarter half-steps).
/// 6. Each element: L = 4·|x| / (b·S) = M_x · 2^(a − 24) with a = max(e_x, 1) − K,
///    K = max(e_S, 1) + max(e_b, 1) − 36 per block; ⌊L⌋ (33 bits, `over` when it is wider) and a
///    sticky bit from M_x · 2^a in a 57-bit field; the thermometer counts midpoints below L
///    (ties at 3, 7, 14 go up: L ≥ T; the others: L > T), all of them when `over`, none when the
///    block code is 0; the magnitude code is its count, the sign bit kept.
public final class NVFP4QuantizerDatapath {
    public let blockSize: Int
    public let netlist: Netlist
    public let inputs: [Bus]
    /// The tensor's decode scale S (binary32).
    public let tensorScale: Bus
    public let scale: Bus
    public let codes: [Bus]
    public let latency = 2
    /// E2M1 midpoints in quarter half-steps, ties going up at 3, 7, 14 (as the MX unit).
    static let midpoints = BlockQuantizerDatapath.midpoints

    public init(blockSize b: Int) {
        precondition(b >= 1 && b <= 64)
        blockSize = b
        let n = Netlist()
        netlist = n
        let x = (0..<b).map { n.input("x\($0)", width: 32) }
        inputs = x
        let s = n.input("s", width: 32)
        tensorScale = s
        func any(_ bits: some Collection<Node>) -> Node { bits.dropFirst().reduce(bits.first ?? Netlist.zero) { n.or($0, $1) } }
        /// max(e, 1) of an exponent field, and the hidden bit (e ≠ 0).
        func eOne(_ field: Bus) -> (Bus, Node) {
            let hidden = any(field)
            var e = field
            e[0] = n.or(field[0], n.not(hidden))
            return (e, hidden)
        }
        /// a ≥ b (unsigned, equal widths).
        func atLeast(_ a: Bus, _ b: Bus, strictly: Bool = false) -> Node {
            n.add(a, b.map { n.not($0) }, carryIn: strictly ? Netlist.zero : Netlist.one).carryOut
        }
        // 1. The block maximum magnitude.
        let m = n.block("block-max") { () -> Bus in
            var level = x.map { Array($0[0..<31]) }
            while level.count > 1 {
                var next: [Bus] = []
                for i in stride(from: 0, to: level.count, by: 2) {
                    if i + 1 == level.count { next.append(level[i]); continue }
                    next.append(n.mux(atLeast(level[i], level[i + 1]), level[i + 1], level[i]))
                }
                level = next
            }
            return level[0]
        }
        let mZero = n.not(any(m))
        // 2.–4. The E4M3 block-scale code.
        let blockCode = n.block("scale") { () -> Bus in
            // Normalize a 24-bit significand; the shift, 5 bits LSB first.
            func normalize(_ v: Bus) -> (Bus, Bus) {
                var word = v, shift: Bus = []
                for k in [16, 8, 4, 2, 1] {
                    let zero = n.not(any(word[(24 - k)...]))
                    word = (0..<24).map { j in j >= k ? n.mux(zero, word[j], word[j - k]) : n.and(n.not(zero), word[j]) }
                    shift.append(zero)
                }
                return (word, Array(shift.reversed()))
            }
            let (eM, hiddenM) = eOne(Array(m[23..<31]))
            let (nM, shiftM) = normalize(Array(m[0..<23]) + [hiddenM])
            let (eS, hiddenS) = eOne(Array(s[23..<31]))
            let (nS, shiftS) = normalize(Array(s[0..<23]) + [hiddenS])
            // Δ = max(e_m, 1) − shift_m − max(e_S, 1) + shift_S − 8, 11-bit two's complement.
            let w = 11
            let delta = n.add(n.add(n.zeroExtend(eM, to: w), n.zeroExtend(eS, to: w).map { n.not($0) }, carryIn: Netlist.one).sum,
                              n.add(n.zeroExtend(shiftS, to: w), n.zeroExtend(shiftM, to: w).map { n.not($0) }, carryIn: Netlist.one).sum).sum
            let deltaMinus8 = n.add(delta, n.constant(-8, width: w)).sum
            // 3. Restoring division: r starts at N_m (< D = 3·N_S); 7 quotient bits, MSB first.
            let d = n.add(n.zeroExtend(nS, to: 27), n.shiftLeft(n.zeroExtend(nS, to: 26), by: 1)).sum
            var r = n.zeroExtend(nM, to: 27)
            var q = [Node](repeating: Netlist.zero, count: 7)
            for bit in stride(from: 6, through: 0, by: -1) {
                let doubled = [Netlist.zero] + Array(r[0..<26])
                let (difference, fits) = n.add(doubled, d.map { n.not($0) }, carryIn: Netlist.one)
                r = n.mux(fits, doubled, difference)
                q[bit] = fits
            }
            let remainder = any(r)
            // 4. G = max(p + Δ + 6, 0), p − 4 ∈ {0, 1, 2} from Q's top bits.
            let pMinus4 = [n.and(q[5], n.not(q[6])), q[6]]
            let g = n.add(n.add(deltaMinus8, n.constant(10, width: w)).sum, n.zeroExtend(pMinus4, to: w)).sum  // p + Δ + 6
            let gNegative = g[w - 1]
            let gClamped = g.map { n.and($0, n.not(gNegative)) }
            // j − 1 = G − 10 − Δ: the shift that leaves the round bit at Q's bit 0.
            let jMinus1 = n.add(n.add(gClamped, n.constant(-10, width: w)).sum, deltaMinus8.map { n.not($0) }, carryIn: Netlist.one).sum
            let jMinus1Large = any(jMinus1[3...])  // ≥ 8 (never negative): R = 0
            var word = q, sticky = remainder
            for stage in 0..<3 {
                let k = 1 << stage, sel = jMinus1[stage]
                sticky = n.or(sticky, n.and(sel, any(word[0..<k])))
                word = (0..<7).map { i in i + k < 7 ? n.mux(sel, word[i], word[i + k]) : n.and(n.not(sel), word[i]) }
            }
            let round = word[0], floor = Array(word[1..<6])  // R ≤ 16: 5 bits
            let up = n.and(round, n.or(sticky, floor[0]))
            let rounded = n.add(floor, n.constant(0, width: 5), carryIn: up).sum.map { n.and($0, n.not(jMinus1Large)) }
            // code = 8·G + R, saturating at 0x7E.
            let raw = n.add(n.shiftLeft(gClamped, by: 3), n.zeroExtend(rounded, to: w + 3)).sum
            let saturate = n.or(any(raw[7...]), raw[0..<7].reduce(Netlist.one) { n.and($0, $1) })
            let saturated = (0..<7).map { i in n.mux(saturate, raw[i], i == 0 ? Netlist.zero : Netlist.one) }
            return (saturated + [Netlist.zero]).map { n.and($0, n.not(mZero)) }
        }
        // The stage register: the block's code, S's magnitude and the elements, so the element
        // stage works from settled values in the next cycle (the division's glitches stop here).
        let (code, sQ, xQ) = n.block("pipeline") { () -> (Bus, Bus, [Bus]) in
            (n.register("scale_q", blockCode), n.register("s_q", Array(s[0..<31])), x.enumerated().map { n.register("x_q\($0.offset)", $0.element) })
        }
        // 5. The element thresholds c · P, 33 bits.
        let (eS, hiddenS) = eOne(Array(sQ[23..<31]))
        let significandS = Array(sQ[0..<23]) + [hiddenS]
        let eB = code[3..<7], codeNonZero = any(code[0..<7])
        let (eBOne, hiddenB) = eOne(Array(eB))
        let thresholds = n.block("scale") { () -> [Bus] in
            let p = n.zeroExtend(n.multiplyUnsigned(Array(code[0..<3]) + [hiddenB], significandS), to: 33)
            let p3 = n.add(p, Array(n.shiftLeft(p, by: 1).prefix(33))).sum
            let p5 = n.add(p, Array(n.shiftLeft(p, by: 2).prefix(33))).sum
            let p7 = n.add(p3, Array(n.shiftLeft(p, by: 2).prefix(33))).sum
            let byMidpoint: [Int: Bus] = [1: p, 3: p3, 5: p5, 7: p7, 10: Array(n.shiftLeft(p5, by: 1).prefix(33)),
                                         14: Array(n.shiftLeft(p7, by: 1).prefix(33)), 20: Array(n.shiftLeft(p5, by: 2).prefix(33))]
            return Self.midpoints.map { byMidpoint[$0.m]! }
        }
        // K = max(e_S, 1) + max(e_b, 1) − 36, 11-bit two's complement.
        let k = n.block("scale") { n.add(n.add(n.zeroExtend(eS, to: 11), n.zeroExtend(eBOne, to: 11)).sum, n.constant(-36, width: 11)).sum }
        var outputs: [Bus] = []
        for i in 0..<b {
            outputs.append(n.block("element") { () -> Bus in
                let (eX, hiddenX) = eOne(Array(xQ[i][23..<31]))
                let significand = Array(xQ[i][0..<23]) + [hiddenX]
                // a = max(e_x, 1) − K: negative → ⌊L⌋ = 0; ≥ 64 → over.
                let a = n.add(n.zeroExtend(eX, to: 11), k.map { n.not($0) }, carryIn: Netlist.one).sum
                let negative = a[10], large = n.and(n.not(negative), any(a[6..<10]))
                // M_x · 2^a for a ∈ [0, 63] in a 57-bit field; bits pushed past it set `over`.
                var field = n.zeroExtend(significand, to: 57), over = Netlist.zero
                for stage in 0..<6 {
                    let shift = 1 << stage, sel = a[stage]
                    over = n.or(over, n.and(sel, any(field[(57 - shift)...])))
                    field = (0..<57).map { j in j >= shift ? n.mux(sel, field[j], field[j - shift]) : n.and(n.not(sel), field[j]) }
                }
                over = n.and(n.not(negative), n.or(over, n.and(large, any(significand))))
                let floor = Array(field[24..<57]).map { n.and($0, n.not(n.or(negative, large))) }
                let sticky = n.mux(n.or(negative, large), any(field[0..<24]), any(significand))
                // 2·⌊L⌋ + sticky against 2·T: ≥ for L ≥ T, > for L > T.
                let doubled = [sticky] + floor
                let t = zip(Self.midpoints, thresholds).map { mid, threshold -> Node in
                    let compare = atLeast(doubled, [Netlist.zero] + threshold, strictly: !mid.up)
                    return n.and(codeNonZero, n.or(over, compare))
                }
                return BlockQuantizerDatapath.magnitude(thermometer: t, n) + [xQ[i][31]]
            })
        }
        scale = n.block("pipeline") { n.register("scale", code) }
        codes = n.block("pipeline") { outputs.enumerated().map { n.register("c\($0.offset)", $0.element) } }
        n.name(scale, "scale")
        for (i, c) in codes.enumerated() { n.name(c, "c\(i)") }
    }

    /// The datapath's own ports after clk and rst: x [B·32], s [32], scale [8], c [B·4].
    public var verilogPorts: [VerilogPort] {
        [VerilogPort(name: "x", direction: .input, bits: inputs.flatMap { $0 }), VerilogPort(name: "s", direction: .input, bits: tensorScale),
         VerilogPort(name: "scale", direction: .output, bits: scale), VerilogPort(name: "c", direction: .output, bits: codes.flatMap { $0 })]
    }

    /// The netlist as Verilog with `nvfp4_quantizer.v`'s ports and parameter.
    public func verilog(module: String = "nvfp4_quantizer") -> String {
        netlist.verilog(module: module,
                        ports: [VerilogPort(name: "in_valid", direction: .input, width: 1), VerilogPort(name: "x", direction: .input, bits: inputs.flatMap { $0 }),
                                VerilogPort(name: "s", direction: .input, bits: tensorScale),
                                VerilogPort(name: "out_valid", direction: .output, width: 1), VerilogPort(name: "scale", direction: .output, bits: scale),
                                VerilogPort(name: "c", direction: .output, bits: codes.flatMap { $0 })],
                        parameters: [("B", blockSize)],
                        comment: "NVFP4 block quantizer, B = \(blockSize), decode tensor scale, exact quotient and elements, RNE, sign kept",
                        glue: BlockQuantizerDatapath.validGlue(latency: latency))
    }
}

/// Either hardware block quantizer, as the cost model drives and checks it: the MXFP4 unit under
/// its scale rule, or the NVFP4 unit fed the tensor scale the library derives from the values it
/// quantizes (S = fl32(M / 2688), M their largest magnitude).
public enum BlockQuantizerUnit {
    case mxfp4(BlockQuantizerDatapath)
    case nvfp4(NVFP4QuantizerDatapath)

    public var netlist: Netlist {
        switch self { case .mxfp4(let d): return d.netlist; case .nvfp4(let d): return d.netlist }
    }
    public var blockSize: Int {
        switch self { case .mxfp4(let d): return d.blockSize; case .nvfp4(let d): return d.blockSize }
    }
    public var latency: Int {
        switch self { case .mxfp4(let d): return d.latency; case .nvfp4(let d): return d.latency }
    }
    /// "mxfp4" or "nvfp4".
    public var format: String {
        switch self { case .mxfp4: return "mxfp4"; case .nvfp4: return "nvfp4" }
    }
    /// The block-scale rule: the MX scale rule, or NVFP4's (the library's default convention).
    public var scaleRule: String {
        switch self { case .mxfp4(let d): return d.scaleRule.rawValue; case .nvfp4: return NVFP4BlockScale.exactQuotient.rawValue }
    }

    /// The library quantizer whose outputs the unit reproduces, one block per row.
    public func libraryQuantizer() throws -> BlockFloatQuantizer {
        switch self {
        case .mxfp4(let d): return try BlockFloatQuantizer(.init(.mxfp4, mxScale: d.scaleRule), blockSize: d.blockSize)
        case .nvfp4(let d): return try BlockFloatQuantizer(.init(.nvfp4), blockSize: d.blockSize)
        }
    }

    /// The tensor scale the NVFP4 unit is fed for `values`: the library's S for their largest
    /// magnitude; nil for MXFP4 (no tensor scale).
    public func tensorScale(for values: [Float]) throws -> Float? {
        guard case .nvfp4 = self else { return nil }
        let q = try libraryQuantizer()
        return q.tensorScale(forMaxMagnitude: try q.maxMagnitude(values, firstIndex: 0))
    }

    /// The blocks of `values` (whole blocks, finite) through `sim` (a simulator of `netlist`), 64
    /// blocks per cycle: scale and element codes read after each edge, the unit-cycles simulated.
    public func drive<S: BitSlicedSimulation>(_ values: [Float], on sim: S) throws -> (scales: [UInt8], codes: [UInt8], simulatedUnitCycles: Int) {
        switch self {
        case .mxfp4(let d): return BlockQuantizerRun.drive(values, datapath: d, on: sim)
        case .nvfp4(let d):
            let s = try tensorScale(for: values)!
            return BlockQuantizerRun.drive(values, blockSize: d.blockSize, latency: d.latency, inputs: d.inputs, scale: d.scale, codes: d.codes, on: sim) { sim, active in
                sim.set(d.tensorScale, instances: [Int64](repeating: Int64(s.bitPattern), count: active))
            }
        }
    }
}
