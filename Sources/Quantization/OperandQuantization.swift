import Formats

/// The one rule that turns float data into a MAC's operands (W4A8 / W8A8, docs/quantization.md):
/// weights symmetric max-scaled per output channel (one row = one dot product's weights) to the
/// unit's weight format, activations to INT8 symmetric per token (one row = one token), both
/// rounding to nearest even. Used by `report`, `bench`, the vector generator's LLM-like cases and
/// AQAS, so they all quantize alike.
public enum OperandQuantization {
    /// INT8 symmetric per token.
    public static let activations = try! SymmetricQuantizer(format: .int8Symmetric, granularity: .channel)

    /// Per output channel to `format` (INT8 units: `.int8Symmetric`, as quantizers produce them).
    public static func weights(_ format: LevelFormat) throws -> SymmetricQuantizer {
        try SymmetricQuantizer(format: format, granularity: .channel)
    }

    /// Quantized weights (codes, row-major) and activations (int8 values, row-major).
    public static func operands(weights w: [Float], weightRows: Int, activations x: [Float], activationRows: Int, length: Int,
                                weightFormat: LevelFormat) throws -> (codes: [UInt8], activations: [Int8]) {
        let codes = try weights(weightFormat).quantize(w, rows: weightRows, columns: length).codes
        let acts = try activations.quantize(x, rows: activationRows, columns: length).codes.map { Int8(bitPattern: $0) }
        return (codes, acts)
    }
}

extension OperandQuantization {
    /// A dot product's float value from its exact accumulator (docs/quantization.md,
    /// "Dequantized outputs"): y = acc · 2^unitLog2 · s_w · s_a, computed exactly (the integer
    /// acc times the two binary32 scales' significands, an exact 2^k) and rounded once to
    /// binary32, to nearest even, with subnormals and overflow to ±∞ as IEEE 754 does.
    /// `unitLog2` is the accumulator's unit: 0 for INT8 × INT8 (w·a), −1 for level formats
    /// (half-steps · a). Zero (or a zero scale) gives +0. Scales must be finite and ≥ 0.
    public static func dequantize(accumulator acc: Int64, unitLog2: Int, weightScale: Float, activationScale: Float) -> Float {
        precondition(weightScale.isFinite && activationScale.isFinite && weightScale >= 0 && activationScale >= 0)
        guard acc != 0, weightScale != 0, activationScale != 0 else { return 0 }
        // A finite positive binary32 is m · 2^e with m < 2^24 an integer.
        func split(_ s: Float) -> (UInt128, Int) {
            s.isNormal ? (UInt128(s.significandBitPattern | (1 << 23)), Int(s.exponent) - 23) : (UInt128(s.significandBitPattern), -149)
        }
        let (mw, ew) = split(weightScale), (ma, ea) = split(activationScale)
        return roundToBinary32(negative: acc < 0, magnitude: UInt128(acc.magnitude) * mw * ma, exponent: ew + ea + unitLog2)
    }

    /// magnitude · 2^exponent rounded once to binary32, to nearest even.
    static func roundToBinary32(negative: Bool, magnitude a: UInt128, exponent: Int) -> Float {
        guard a != 0 else { return negative ? -0.0 : 0 }
        let top = 127 - a.leadingZeroBitCount + exponent          // exponent of the leading bit
        let quantum = max(top - 23, -149)                           // exponent of the kept LSB
        let shift = quantum - exponent
        var kept: UInt128
        if shift <= 0 {
            kept = a << UInt128(-shift)
        } else if shift > 127 {
            kept = 0                                                // below half the smallest subnormal
        } else {
            kept = a >> UInt128(shift)
            let rest = a & ((1 << UInt128(shift)) - 1), half = UInt128(1) << UInt128(shift - 1)
            if rest > half || (rest == half && kept & 1 == 1) { kept += 1 }
        }
        // kept ≤ 2^24: exact in binary32; the scaling by 2^quantum is exact or overflows to ∞.
        return Float(sign: negative ? .minus : .plus, exponent: quantum, significand: Float(kept))
    }
}
