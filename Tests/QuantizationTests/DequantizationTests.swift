import Testing
import Exact
import Formats
import Quantization
import PropertyChecking

/// `OperandQuantization.dequantize` (simulate's dequantized outputs) is the exact
/// acc · 2^unit · s_w · s_a rounded once to binary32, as the GMP oracle rounds it.
@Suite struct DequantizationTests {
    static func oracle(_ acc: Int64, _ unitLog2: Int, _ sw: Float, _ sa: Float) -> UInt32 {
        let exact = Rational(Int(acc)).timesPowerOfTwo(unitLog2) * Rational(exactly: Double(sw))! * Rational(exactly: Double(sa))!
        return Oracle.encode(exact, as: .fp32)
    }

    @Test func equalsTheOracle() {
        let report = checkProperty(seed: 41, count: 20_000, generate: { s -> (Int64, Int, Float, Float) in
            // Accumulators from tiny to 62-bit, scales from subnormal to near the top (overflow to ∞ included).
            let bits = Generate.int(1...62, &s)
            let magnitude = Int64(bitPattern: s.next()) & ((Int64(1) << Int64(bits)) - 1)
            let acc = Generate.bool(&s) ? -magnitude : magnitude
            return (acc, Generate.bool(&s) ? 0 : -1, Generate.scale(exponents: -149...100, &s), Generate.scale(exponents: -149...100, &s))
        }) { (acc, unit, sw, sa) in
            let got = OperandQuantization.dequantize(accumulator: acc, unitLog2: unit, weightScale: sw, activationScale: sa)
            if acc == 0 { return got.bitPattern == 0 ? nil : "zero gave \(got)" }
            let want = Self.oracle(acc, unit, sw, sa)
            return got.bitPattern == want ? nil : "acc \(acc) unit \(unit) sw \(sw) sa \(sa): got \(String(got.bitPattern, radix: 16)), oracle \(String(want, radix: 16))"
        }
        #expect(report.passed, "\(report)")
    }

    /// Ties at the binary32 rounding point, where a product computed in binary64 first would
    /// round twice: odd 25-bit and 26-bit accumulators at scale 1.
    @Test func tiesAndEdges() {
        let accumulators: [Int64] = [(1 << 24) + 1, (1 << 24) + 3, (1 << 25) + 2, (1 << 25) + 6, -((1 << 24) + 1), Int64.max >> 1, (1 << 61) | 1, (1 << 60) + (1 << 36) + 1]
        for acc in accumulators {
            #expect(OperandQuantization.dequantize(accumulator: acc, unitLog2: 0, weightScale: 1, activationScale: 1).bitPattern == Self.oracle(acc, 0, 1, 1))
        }
        let tiny = Float.leastNonzeroMagnitude
        #expect(OperandQuantization.dequantize(accumulator: 1, unitLog2: -1, weightScale: tiny, activationScale: 1) == 0)          // a tie: to even (0)
        #expect(OperandQuantization.dequantize(accumulator: 3, unitLog2: -1, weightScale: tiny, activationScale: 1) == 2 * tiny)   // 1.5 → 2
        #expect(OperandQuantization.dequantize(accumulator: -1, unitLog2: 0, weightScale: tiny, activationScale: 0.25).sign == .minus) // −0
        #expect(OperandQuantization.dequantize(accumulator: 1 << 40, unitLog2: 0, weightScale: .greatestFiniteMagnitude, activationScale: 1) == .infinity)
        #expect(OperandQuantization.dequantize(accumulator: 5, unitLog2: 0, weightScale: 0, activationScale: 1).bitPattern == 0)
    }
}
