import Circuits
import Formats

/// The gate-level netlist of a MAC unit / PE, with its ports.
///
/// Ports: `w0…w{N−1}` weight codes, `a0…a{N−1}` INT8 activations, `valid_in`, `clear` (the
/// transaction starts a new accumulation: acc ← 0 + its products); outputs `acc` (W bits) and
/// `valid_out` (high in the cycle in which `acc` first shows a transaction's update).
/// Blocks (for cost): decode, multiplier, denormal, negate, adder tree, accumulator, pipeline.
public final class MacCircuit {
    public let configuration: MacConfiguration
    public let netlist: Netlist
    public let weights: [Bus]
    public let activations: [Bus]
    public let validIn: Node
    public let clear: Node
    public let accumulator: Bus
    public let validOut: Node

    public init(_ configuration: MacConfiguration) {
        self.configuration = configuration
        let c = configuration
        let n = Netlist()
        netlist = n
        var w = (0..<c.lanes).map { n.input("w\($0)", width: c.weightWidth) }
        var a = (0..<c.lanes).map { n.input("a\($0)", width: 8) }
        var valid = n.input("valid_in", width: 1)[0]
        var clr = n.input("clear", width: 1)[0]
        weights = w
        activations = a
        validIn = valid
        clear = clr

        if c.pipelineDepth >= 3 {
            n.block("pipeline") {
                w = w.enumerated().map { n.register("in_w\($0.offset)", $0.element) }
                a = a.enumerated().map { n.register("in_a\($0.offset)", $0.element) }
                valid = n.register("in_valid", [valid])[0]
                clr = n.register("in_clear", [clr])[0]
            }
        }

        // Multiply stage: one product per lane, plus a carry-in bit per lane (dINT's negation
        // is a one's complement here and +1 at an adder's carry-in downstream).
        var products: [Bus] = []
        var carryIns: [Node] = []
        for lane in 0..<c.lanes {
            let (p, cin) = Self.lane(n, c, code: w[lane], activation: a[lane])
            products.append(p)
            carryIns.append(cin)
        }

        if c.pipelineDepth >= 2 {
            n.block("pipeline") {
                products = products.enumerated().map { n.register("mul_p\($0.offset)", $0.element) }
                carryIns = carryIns.enumerated().map { $0.element == Netlist.zero ? Netlist.zero : n.register("mul_s\($0.offset)", [$0.element])[0] }
                valid = n.register("mul_valid", [valid])[0]
                clr = n.register("mul_clear", [clr])[0]
            }
        }

        // Adder tree: balanced pairwise, one bit of growth per level; lane i ≥ 1 brings its
        // carry-in to the (i−1)-th adder, lane 0 to the accumulator adder.
        var level = products
        var pendingCarries = Array(carryIns.dropFirst())
        n.block("adder tree") {
            while level.count > 1 {
                var next: [Bus] = []
                for pair in stride(from: 0, to: level.count, by: 2) {
                    if pair + 1 < level.count {
                        let cin = pendingCarries.isEmpty ? Netlist.zero : pendingCarries.removeFirst()
                        next.append(n.addSigned(level[pair], level[pair + 1], carryIn: cin, architecture: c.adder))
                    } else {
                        next.append(level[pair])
                    }
                }
                level = next
            }
        }
        let treeSum = n.signExtend(level[0], to: c.accumulatorWidth)
        n.name(level[0], "tree_sum")

        let width = c.accumulatorWidth
        let accRegister = n.block("accumulator") { n.makeRegister("acc", width: width) }
        let accNext: Bus = n.block("accumulator") {
            let keep = n.not(clr)
            let base = accRegister.q.map { n.and($0, keep) }
            switch c.overflow {
            case .wrap:
                return n.add(base, treeSum, carryIn: carryIns[0], architecture: c.adder).sum
            case .saturate:
                let s = n.add(n.signExtend(base, to: width + 1), n.signExtend(treeSum, to: width + 1),
                              carryIn: carryIns[0], architecture: c.adder).sum
                let sign = s[width]
                let overflow = n.xor(s[width], s[width - 1])
                let notSign = n.not(sign)
                return (0..<width).map { i in n.mux(overflow, s[i], i == width - 1 ? sign : notSign) }
            }
        }
        n.block("accumulator") {
            n.connect(accRegister, d: zip(accNext, accRegister.q).map { n.mux(valid, $0.1, $0.0) })
        }
        let validOutBus = n.block("accumulator") { n.register("valid_out", [valid]) }
        accumulator = accRegister.q
        validOut = validOutBus[0]
    }

    /// One lane's product and carry-in.
    static func lane(_ n: Netlist, _ c: MacConfiguration, code: Bus, activation a: Bus) -> (Bus, Node) {
        switch c.kind {
        case .int8:
            return (n.block("multiplier") { n.multiplySigned(code, a, architecture: c.multiplier) }, Netlist.zero)
        case .dint:
            // code = s m2 m1 m0. m = 7 is the denormal ½ step.
            let m = Array(code.prefix(3)), s = code[3]
            let denormal = n.block("decode") { n.and(n.and(m[0], m[1]), m[2]) }
            // m (unsigned, as a 4-bit two's complement with MSB 0) × a: 12 bits, |m·a| < 2^10.
            let magnitudeProduct = n.block("multiplier") {
                n.multiplySigned(a, m + [Netlist.zero], architecture: c.multiplier)
            }
            // 2·m·a (shift: wiring) or, for the denormal code, a itself (½ step × 2).
            let shifted = n.shiftLeft(Array(magnitudeProduct.prefix(11)), by: 1)
            let product = n.block("denormal") { n.mux(denormal, shifted, n.signExtend(a, to: 12)) }
            // Conditional negate: one's complement here, the +1 at a downstream carry-in.
            return (n.block("negate") { n.xor(product, s) }, s)
        case .fp4:
            // code = s e1 e0 m; value = (e = 0 ? m/2 : (1 + m/2)·2^(e−1)), so in half-units
            // 2|w| = {hidden, m} << max(e − 1, 0) with hidden = e1 | e0.
            let m = code[0], e0 = code[1], e1 = code[2], s = code[3]
            let hidden = n.block("decode") { n.or(e0, e1) }
            // {hidden, m} (unsigned, as a 3-bit two's complement with MSB 0) × a: |·| ≤ 384, 10 bits.
            let significandProduct = n.block("multiplier") {
                Array(n.multiplySigned(a, [m, hidden, Netlist.zero], architecture: c.multiplier).prefix(10))
            }
            // Exponent shift: one place when e1 (e = 2, 3), a second when e1 & e0 (e = 3).
            let shifted = n.block("exponent shift") { () -> Bus in
                let once = n.mux(e1, n.signExtend(significandProduct, to: 11), n.shiftLeft(significandProduct, by: 1))
                return n.mux(n.and(e1, e0), n.signExtend(once, to: 12), n.shiftLeft(once, by: 1))
            }
            // Conditional negate as for dINT: one's complement here, +1 at a downstream carry-in.
            return (n.block("negate") { n.xor(shifted, s) }, s)
        case .codeBook(let f):
            let level = n.block("decode") { lookUp(n, f, code: code, width: c.levelWidth) }
            return (n.block("multiplier") { n.multiplySigned(a, level, architecture: c.multiplier) }, Netlist.zero)
        }
    }

    /// code → level (half-steps, two's complement `width` bits) as a mux tree over constants,
    /// which constant folding reduces to the logic each output bit needs.
    static func lookUp(_ n: Netlist, _ f: LevelFormat, code: Bus, width: Int) -> Bus {
        (0..<width).map { bit in
            var layer: [Node] = (0..<f.codeCount).map { (f.halfSteps[$0] >> bit) & 1 == 1 ? Netlist.one : Netlist.zero }
            for select in code {
                layer = stride(from: 0, to: layer.count, by: 2).map { n.mux(select, layer[$0], layer[$0 + 1]) }
            }
            return layer[0]
        }
    }
}

extension MacCircuit {
    /// The ports of `rtl-reference/mac.v` in its order after clk and rst (which the writers
    /// add): valid, clear, w [LANES·WW], a [LANES·8], acc, valid_out.
    public var verilogPorts: [VerilogPort] {
        [VerilogPort(name: "valid", direction: .input, bits: [validIn]),
         VerilogPort(name: "clear", direction: .input, bits: [clear]),
         VerilogPort(name: "w", direction: .input, bits: weights.flatMap { $0 }),
         VerilogPort(name: "a", direction: .input, bits: activations.flatMap { $0 }),
         VerilogPort(name: "acc", direction: .output, bits: accumulator),
         VerilogPort(name: "valid_out", direction: .output, bits: [validOut])]
    }

    /// The netlist as structural Verilog with mac.v's ports and parameters (docs/export.md).
    public func verilog(module: String = "mac") -> String {
        let c = configuration
        return netlist.verilog(module: module, ports: verilogPorts, parameters: c.verilogParameters ?? [],
                               comment: "\(c.kind) lanes \(c.lanes) pipeline \(c.pipelineDepth) acc-width \(c.accumulatorWidth) \(c.overflow.rawValue) \(c.multiplier.rawValue) \(c.adder.rawValue)")
    }
}
