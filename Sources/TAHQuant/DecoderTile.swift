import Formats

/// One tile through the decode spec (docs/hadamard-decode.md): the output bit patterns by the
/// fast decoder, and on request the flags of the decoder vectors (docs/vectors.md) from the exact
/// decoder (`exact()`, in `TAHQuantExact`): bit 0 `inexact` (an output is not the exact value), 1 `subnormal-output`,
/// 2 `infinite-output`, 3 `zero-output`, 4 `times-r` (a flagged tile whose G is an odd power of
/// two, so the constant R takes part).
public struct DecoderTile: Sendable {
    public static let flagNames = ["inexact", "subnormal-output", "infinite-output", "zero-output", "times-r"]
    public let tileSize: Int
    public let output: BinaryFloatFormat
    public let codes: [UInt8]
    public let flagged: Bool
    public let pivot: Int
    public let scale: UInt16
    public let zero: UInt16
    /// The G output bit patterns, element 0 first.
    public let bits: [UInt32]

    /// `codes`: G 4-bit codes; `pivot` in 0..<G; G one of `TahQuantConfiguration.tileSizes`.
    public init(tileSize: Int, output: BinaryFloatFormat, codes: [UInt8], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16) {
        self.tileSize = tileSize; self.output = output; self.codes = codes
        self.flagged = flagged; self.pivot = pivot; self.scale = scale; self.zero = zero
        var out = [UInt32](repeating: 0, count: tileSize), scratch = [Int64](repeating: 0, count: tileSize)
        TahQuantDecoder.decodeTile(codes: codes[...], flagged: flagged, pivot: pivot, scale: scale, zero: zero,
                                   output: output, into: &out, at: 0, scratch: &scratch)
        bits = out
    }
}
