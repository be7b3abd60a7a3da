import Circuits

/// The stage that applies two block scales to an FP4 block partial sum (docs/block-quantizer.md,
/// "Applying block scales"): once per block of B products, an FP4 MAC's W-bit integer partial sum
/// P (two's complement, in units of ¼: E2M1 values are half-steps / 2) becomes the exact value
/// P · ¼ · X_a · X_b as sign, biased exponent and normalized significand, ready for a
/// floating-point accumulator.
/// - `mx`: X = 2^(k − 127) from UE8M0 codes k_a, k_b: an exponent adder, no multiplier.
/// - `nvfp4`: X = the E4M3 values of the codes (tensor scales are applied once per output, not
///   here): the two 4-bit significands multiplied (8 bits) and the partial sum times that product.
/// Then a leading-zero normalizer (stages of 16, 8, 4, 2, 1 bits) and the exponent adjusted by the
/// shift. Combinational; the exactness of every output is tested against rationals.
public final class BlockScaleStage {
    public enum Kind: String, CaseIterable, Sendable { case mx, nvfp4 }

    public let kind: Kind
    public let partialWidth: Int
    public let netlist: Netlist
    public let partial: Bus, scaleA: Bus, scaleB: Bus
    public let sign: Node
    /// Normalized magnitude: bit (count − 1) is the leading one (all zero for P = 0).
    public let significand: Bus
    /// exponent E (10-bit two's complement): the value is (−1)^sign · significand · 2^(E − exponentBias),
    /// the significand read as an unsigned integer.
    public let exponent: Bus
    /// The constant the exponent is offset by (`value = ± significand · 2^(exponent − exponentBias)`).
    public let exponentBias: Int

    public init(kind: Kind, partialWidth w: Int) {
        precondition(w >= 4 && w <= 40)
        self.kind = kind
        partialWidth = w
        let n = Netlist()
        netlist = n
        let partial = n.input("partial", width: w), scaleA = n.input("scale_a", width: 8), scaleB = n.input("scale_b", width: 8)
        self.partial = partial; self.scaleA = scaleA; self.scaleB = scaleB
        let s = partial[w - 1]
        // |P|, W bits (2^(W−1) fits unsigned).
        let magnitude = n.block("magnitude") { n.add(n.xor(partial, s), n.constant(0, width: w), carryIn: s).sum }
        var word: Bus, exponentSum: Bus
        switch kind {
        case .mx:
            word = magnitude
            // value = |P| · 2^−2 · 2^(ka + kb − 254).
            exponentSum = n.block("exponent") { n.add(n.zeroExtend(scaleA, to: 10), n.zeroExtend(scaleB, to: 10)).sum }
            exponentBias = 254 + 2
        case .nvfp4:
            // E4M3 code: e (bits 3–6), m (bits 0–2); significand (e ≠ 0).m, exponent max(e, 1) − 7 − 3.
            func fields(_ c: Bus) -> (significand: Bus, exponent: Bus) {
                let e = Array(c[3..<7]), hidden = e.dropFirst().reduce(e[0]) { n.or($0, $1) }
                var eOne = e
                eOne[0] = n.or(e[0], n.not(hidden))
                return (Array(c[0..<3]) + [hidden], eOne)
            }
            let a = fields(scaleA), b = fields(scaleB)
            let product = n.block("scale-product") { n.multiplyUnsigned(a.significand, b.significand) }
            word = n.block("scale-multiply") { n.multiplyUnsigned(magnitude, product) }
            exponentSum = n.block("exponent") { n.add(n.zeroExtend(a.exponent, to: 10), n.zeroExtend(b.exponent, to: 10)).sum }
            // value = |P| · 2^−2 · (sa · 2^(ea − 10)) · (sb · 2^(eb − 10)).
            exponentBias = 20 + 2
        }
        // Leading-zero normalizer: shift left by each power of two below the width, largest
        // first, where that many top bits are zero.
        let width = word.count
        let stages = (0..<6).map { 1 << $0 }.filter { $0 < width }.reversed()
        var shift: [Node] = []
        n.block("normalize") {
            for k in stages {
                let top = Array(word[(width - k)...])
                let zero = n.not(top.dropFirst().reduce(top[0]) { n.or($0, $1) })
                word = (0..<width).map { j in j >= k ? n.mux(zero, word[j], word[j - k]) : n.and(n.not(zero), word[j]) }
                shift.append(zero)
            }
        }
        // |P| = significand · 2^−shift, so the exponent is exponentSum − shift (10-bit two's
        // complement: at least −63, at most 508).
        let shiftValue = Array(shift.reversed())  // LSB first: 1, 2, 4, …
        let e = n.block("exponent") { n.add(exponentSum, n.zeroExtend(shiftValue, to: 10).map { n.not($0) }, carryIn: Netlist.one).sum }
        sign = s
        significand = word
        exponent = e
        n.name([s], "sign"); n.name(word, "significand"); n.name(e, "exponent")
    }

    /// Bits of the normalized significand.
    public var significandWidth: Int { significand.count }
}
