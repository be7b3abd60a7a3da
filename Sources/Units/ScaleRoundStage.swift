import Circuits

/// The final stage of the TAH-Quant decode path, for one element, as gates: from the integer
/// w (the butterfly output or the bypassed code), the tile's FP16 scale s and zero z, to
/// round_F((s·w + k·z) · c) with one round to nearest even (docs/tahquant.md):
/// k = 1 for unflagged tiles, k = G at the pivot position of a flagged tile, 0 elsewhere;
/// c = c_G for flagged tiles, 1 otherwise. Output formats: FP32 and BF16 (their exponent range
/// holds every result: no subnormal or overflow logic) and FP16 (normalisation clamped at the
/// smallest normal exponent, which rounds subnormals at the right place, and overflow to ∞).
///
/// Structure: A = (s·w + k·z)·2^24 as an exact 53-bit two's complement integer (11 × 11-bit
/// multiply, barrel shifts by the FP16 exponents, two conditional negations, one adder); its
/// magnitude times the 53-bit constant R (G = 8, 32, 128) or not; normalisation by halving
/// shift stages (which also count the leading zeros); round to nearest even; exponent arithmetic.
public final class ScaleRoundStage {
    public enum Output: String, Sendable, CaseIterable { case fp32, bf16, fp16 }
    public let netlist: Netlist
    public let w: Bus
    public let scale: Bus
    public let zero: Bus
    /// Add z (k = 1), add G·z (k = G): at most one is set.
    public let addZero: Node
    public let addZeroTimesG: Node
    /// Multiply by c_G (flagged tile).
    public let applyC: Node
    public let result: Bus

    /// R = the binary64 nearest 1/√2, as the 53-bit integer R·2^53.
    static let rootHalf: Int64 = 0x16A0_9E66_7F3B_CD

    public init(tileSize g: Int, output: Output, netlist n: Netlist = Netlist()) {
        netlist = n
        let width = 5 + g.trailingZeroBitCount
        let wIn = n.input("w", width: width), sIn = n.input("scale", width: 16), zIn = n.input("zero", width: 16)
        let kOne = n.input("add_zero", width: 1)[0], kG = n.input("add_zero_times_g", width: 1)[0], cIn = n.input("apply_c", width: 1)[0]
        w = wIn; scale = sIn; zero = zIn; addZero = kOne; addZeroTimesG = kG; applyC = cIn
        result = Self.build(n, tileSize: g, output: output, w: wIn, scale: sIn, zero: zIn, addZero: kOne, addZeroTimesG: kG, applyC: cIn)
        n.name(result, "y")
    }

    /// Adds the stage's gates to `n` and returns the result bus (32 bits FP32, 16 bits BF16).
    public static func build(_ n: Netlist, tileSize g: Int, output: Output, w wIn: Bus, scale sIn: Bus, zero zIn: Bus,
                             addZero kOne: Node, addZeroTimesG kG: Node, applyC cIn: Node) -> Bus {
        let log2G = g.trailingZeroBitCount
        let width = wIn.count
        let fixedWidth = 53
        // FP16 field decode: M = (normal ? 1.f : 0.f)·2^10, shift = max(e, 1) − 1.
        func fp16(_ bits: Bus) -> (magnitude: Bus, shift: Bus) {
            let e = Array(bits[10..<15])
            let normal = e.dropFirst().reduce(e[0]) { n.or($0, $1) }
            let magnitude = Array(bits[0..<10]) + [normal]
            let decremented = n.add(e, n.constant(-1, width: 5)).sum // e − 1 (mod 32)
            return (magnitude, decremented.map { n.and($0, normal) })
        }
        func barrelShiftLeft(_ x: Bus, by amount: Bus, width: Int) -> Bus {
            var v = n.zeroExtend(x, to: width)
            for (k, bit) in amount.enumerated() {
                let shifted = n.zeroExtend(n.shiftLeft(v, by: 1 << k), to: width)
                v = n.mux(bit, v, shifted)
            }
            return v
        }
        let fixed: Bus = n.block("fixed point") {
            let (ms, shiftS) = fp16(sIn)
            let wSign = wIn[width - 1]
            let wMagnitude = Array(n.negate(wIn, if: wSign).prefix(width - 1))
            let product = n.multiplyUnsigned(ms, wMagnitude)
            let sw = n.negate(barrelShiftLeft(product, by: shiftS, width: fixedWidth - 1), if: wSign)
            let (mz, shiftZ) = fp16(zIn)
            // k = G adds log2 G to the shift; k = 0 gates the term off.
            let shiftZTotal = n.add(n.zeroExtend(shiftZ, to: 6), n.mux(kG, n.constant(0, width: 6), n.constant(Int64(log2G), width: 6))).sum
            let gate = n.or(kOne, kG)
            let zMagnitude = barrelShiftLeft(mz.map { n.and($0, gate) }, by: shiftZTotal, width: fixedWidth - 1)
            let zTerm = n.negate(zMagnitude, if: zIn[15])
            return n.addSigned(sw, zTerm) // 54 bits, |A| < 2^51
        }
        let sign = fixed[fixed.count - 1]
        let magnitude = Array(n.block("fixed point") { n.negate(fixed, if: sign) }.prefix(fixedWidth - 1))
        // × R for G = 2·4^k flagged tiles; exponent offset −24 − 53·[×R] − k·[flagged].
        let byR = log2G % 2 == 1
        var m: Bus = magnitude
        if byR {
            let product = n.block("constant multiplier") { n.multiplyUnsigned(magnitude, n.constant(rootHalf, width: 53)) }
            m = n.block("constant multiplier") { n.mux(cIn, n.shiftLeft(magnitude, by: 53), product) }
        }
        let mWidth = m.count
        let k = byR ? (log2G - 1) / 2 : log2G / 2
        // The value is M · 2^−offset, offset = 24 + 53·[×R path] + k·[flagged].
        let plainOffset = 24 + (byR ? 53 : 0)
        if output == .fp16 {
            return fp16Result(n, m: m, sign: sign, cIn: cIn, plainOffset: plainOffset, k: k)
        }
        let (v, leadingZeros) = normalise(n, m)
        let isZero = n.not(v[mWidth - 1])
        let p = output == .fp32 ? 24 : 8
        let mantissa = Array(v[(mWidth - p)...])
        let roundBit = v[mWidth - p - 1]
        let rest = Array(v[0..<(mWidth - p - 1)])
        let (rounded, carry): (Bus, Node) = n.block("round") {
            let sticky = rest.dropFirst().reduce(rest[0]) { n.or($0, $1) }
            let increment = n.and(roundBit, n.or(sticky, mantissa[0]))
            var c = increment
            var out: Bus = []
            for bit in mantissa { let r = n.halfAdd(bit, c); out.append(r.sum); c = r.carry }
            return (out, c)
        }
        // After a carry the mantissa is 1000…0 (already, since the sum wrapped to zero with the
        // carry standing for the leading one): keep the top p − 1 fraction bits either way.
        let fraction = n.block("round") { n.mux(carry, Array(rounded[0..<(p - 1)]), Array(repeating: Netlist.zero, count: p - 1)) }
        // Biased exponent = (mWidth − 1 − lz) − 24 − 53·[×R] − k·[flagged] + 127 + carry.
        let exponent: Bus = n.block("exponent") {
            let plain = Int64(mWidth - 1 - 24 + 127)
            let base = byR ? n.mux(cIn, n.constant(plain - 53, width: 10), n.constant(plain - 53 - Int64(k), width: 10))
                           : n.mux(cIn, n.constant(plain, width: 10), n.constant(plain - Int64(k), width: 10))
            let lz = n.zeroExtend(leadingZeros, to: 10)
            let difference = n.add(base, lz.map { n.not($0) }, carryIn: Netlist.one).sum // base − lz
            return n.add(difference, n.zeroExtend([carry], to: 10)).sum
        }
        let exponentBits = Array(exponent.prefix(8)).map { n.and($0, n.not(isZero)) }
        let signBit = n.and(sign, n.not(isZero))
        return n.block("pack") { fraction.map { n.and($0, n.not(isZero)) } + exponentBits + [signBit] }
    }

    /// Halving stages shift left while the top bits are zero (64, 32, …, 1): the normalised
    /// value and, from the stage decisions, the leading-zero count (LSB first).
    static func normalise(_ n: Netlist, _ m: Bus) -> (value: Bus, leadingZeros: [Node]) {
        let width = m.count
        var steps: [Int] = []
        var step = 1
        while step < width { steps.append(step); step *= 2 }
        var v = m
        var leadingZeros: [Node] = []
        n.block("normalise") {
            for s in steps.reversed() {
                let top = Array(v[(width - s)...])
                let allZero = n.not(top.dropFirst().reduce(top[0]) { n.or($0, $1) })
                v = n.mux(allZero, v, n.zeroExtend(n.shiftLeft(v, by: s), to: width))
                leadingZeros.insert(allZero, at: 0)
            }
        }
        return (v, leadingZeros)
    }

    /// FP16 rounding: shift left by min(leading zeros, the shift that reaches exponent −14), round
    /// the top 11 bits to nearest even, then bits = ((E + 14) << 10) + rounded mantissa, where the
    /// mantissa's leading one (or a rounding carry) lands on the exponent field — subnormals and the
    /// carry into the next binade fall out of the addition; ≥ 0x7C00 becomes ∞.
    static func fp16Result(_ n: Netlist, m: Bus, sign: Node, cIn: Node, plainOffset: Int, k: Int) -> Bus {
        let mWidth = m.count
        let lzWidth = 8
        // Leading zeros as for FP32, then the clamp.
        let lzBits = normalise(n, m).leadingZeros
        // E(shift) = mWidth − 1 − shift − offset ≥ −14 ⟺ shift ≤ mWidth − 1 − offset + 14.
        let limitPlain = mWidth - 1 - plainOffset + 14
        let (shift, exponentBase): (Bus, Bus) = n.block("normalise") {
            let lz = n.zeroExtend(lzBits, to: lzWidth)
            let limit = n.mux(cIn, n.constant(Int64(limitPlain), width: lzWidth), n.constant(Int64(limitPlain - k), width: lzWidth))
            let difference = n.add(lz, limit.map { n.not($0) }, carryIn: Netlist.one) // lz − limit
            let beyond = n.and(difference.carryOut, n.or(difference.sum.dropFirst().reduce(difference.sum[0]) { n.or($0, $1) }, Netlist.zero)) // lz > limit
            let chosen = n.mux(beyond, lz, limit)
            // E + 14 = mWidth − 1 − offset + 14 − shift = limit − shift.
            let base = n.add(n.zeroExtend(limit, to: 10), n.zeroExtend(chosen, to: 10).map { n.not($0) }, carryIn: Netlist.one).sum
            return (chosen, base)
        }
        // Shift the original value by the clamped amount.
        var u = m
        n.block("normalise") {
            for (bitIndex, bit) in shift.enumerated() where (1 << bitIndex) < 2 * mWidth {
                u = n.mux(bit, u, n.zeroExtend(n.shiftLeft(u, by: 1 << bitIndex), to: mWidth))
            }
        }
        let p = 11
        let mantissa = Array(u[(mWidth - p)...])
        let roundBit = u[mWidth - p - 1]
        let rest = Array(u[0..<(mWidth - p - 1)])
        let bits: Bus = n.block("round") {
            let sticky = rest.dropFirst().reduce(rest[0]) { n.or($0, $1) }
            let increment = n.and(roundBit, n.or(sticky, mantissa[0]))
            let rounded = n.add(n.zeroExtend(mantissa, to: 16), n.zeroExtend([increment], to: 16)).sum
            // (E + 14) << 10 plus the rounded mantissa (its leading one adds the last 1).
            return n.add(rounded, n.shiftLeft(Array(exponentBase.prefix(6)), by: 10).prefix(16).map { $0 }).sum
        }
        // Overflow: bits ≥ 0x7C00 (exponent field all ones) → ∞.
        let overflow = n.block("round") { n.or(n.and(n.and(bits[10], bits[11]), n.and(n.and(bits[12], bits[13]), bits[14])), bits[15]) }
        let infinity = n.constant(0x7C00, width: 15)
        let magnitude = n.block("pack") { n.mux(overflow, Array(bits.prefix(15)), infinity) }
        // The sign is A's: a non-zero value that rounds to zero keeps it (−0), and A = 0 has
        // sign 0 (+0) — the decode spec's rule (docs/hadamard-decode.md, "Sign of zero").
        return n.block("pack") { magnitude + [sign] }
    }
}
