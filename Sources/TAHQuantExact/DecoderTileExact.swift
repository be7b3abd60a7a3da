import Exact
import Formats
import TAHQuant

extension DecoderTile {
    /// The exact outputs' bit patterns (correctly rounded from the exact values) and the flags.
    public func exact() -> (bits: [UInt32], flags: UInt32) {
        let values = TahQuantExactDecoder.tile(codes: codes.map(Int.init), flagged: flagged, pivot: pivot, scale: scale, zero: zero)
        var f: UInt32 = 0
        let bits = values.map { value -> UInt32 in
            let b = Oracle.encode(value, as: output)
            if Oracle.value(ofBits: b, format: output) != value { f |= 1 }
            let magnitude = b & ~output.signMask
            if magnitude != 0 && magnitude & output.exponentMask == 0 { f |= 2 }
            if output.isInfinite(b) { f |= 4 }
            if magnitude == 0 { f |= 8 }
            return b
        }
        if flagged && tileSize.trailingZeroBitCount % 2 == 1 { f |= 16 }
        return (bits, f)
    }

    public func flags() -> UInt32 { exact().flags }
}
