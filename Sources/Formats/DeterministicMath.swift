/// Elementary functions computed with only IEEE-754 +, −, ×, ÷ (each correctly rounded, so the
/// same on every machine), unlike the platform libm whose last bits differ between systems.
/// Used wherever a result is written to a file or hashed (synthetic data, reported dB figures).
/// Accuracy is a few ulp, which is all these uses need; exactness is not claimed.
public enum DeterministicMath {
    static let ln2 = 0.693_147_180_559_945_3

    /// Natural logarithm of a positive finite x.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log of a non-positive or non-finite value")
        // x = m · 2^e with m ∈ [√½, √2).
        var m = x.significand
        var e = Int(x.exponent)
        if m > 1.414_213_562_373_095_1 { m /= 2; e += 1 }
        // ln m = 2·atanh(t), t = (m − 1)/(m + 1), |t| < 0.172: 2·(t + t³/3 + t⁵/5 + …).
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var k = 1.0
        for _ in 0..<16 {
            sum += term / k
            term *= t2
            k += 2
        }
        return Double(e) * ln2 + 2 * sum
    }

    /// Two logarithms at once: lane for lane the same IEEE operations as `log`, so the results
    /// are bit-identical to it (tested); SIMD halves the cost of its 16 divisions.
    public static func log(_ x: SIMD2<Double>) -> SIMD2<Double> {
        precondition(x[0] > 0 && x[0].isFinite && x[1] > 0 && x[1].isFinite, "log of a non-positive or non-finite value")
        var m = SIMD2(x[0].significand, x[1].significand)
        var e = SIMD2(Double(Int(x[0].exponent)), Double(Int(x[1].exponent)))
        let big = m .> 1.414_213_562_373_095_1
        m.replace(with: m / 2, where: big)
        e.replace(with: e + 1, where: big)
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t
        var sum = SIMD2<Double>(repeating: 0)
        var k = SIMD2<Double>(repeating: 1)
        for _ in 0..<16 {
            sum += term / k
            term *= t2
            k += 2
        }
        return e * ln2 + 2 * sum
    }

    public static func log10(_ x: Double) -> Double { log(x) / 2.302_585_092_994_045_7 }
}

