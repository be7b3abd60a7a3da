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
