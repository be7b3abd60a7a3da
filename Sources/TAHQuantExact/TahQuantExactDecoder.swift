import Exact
import Formats
import TAHQuant

/// The decode spec of docs/tahquant.md evaluated with GMP rationals, element by element — the
/// independent path the software decoder, the gate-level datapath and the golden vectors are
/// held to. H is taken from its parity definition, not from the butterfly.
public enum TahQuantExactDecoder {
    /// The exact value of every element of one tile (before rounding to an output format):
    /// unflagged s·qᵢ + z; flagged (s·Σⱼ H[i][j]·qⱼ + [i = 0]·G·z) × c_G with
    /// H[i][j] = (−1)^popcount(i & j), then elements 0 and pivot swapped.
    public static func tile(codes: [Int], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16) -> [Rational] {
        tile(codes: codes, flagged: flagged, pivot: pivot, scale: scale, zero: zero, variant: Variant())
    }

    /// Departures from the spec, for the decoder mutants of `vectors score` (the spec is the
    /// default value): another factor in place of c_G, the zero point entering elsewhere, the
    /// pivot swap not undone.
    public struct Variant: Sendable {
        public enum ZeroPoint: Sendable {
            /// G·z added to (Hq)₀ before the factor (the spec).
            case transformInput
            /// G·z·c_G added to output element 0 after the un-swap.
            case afterUnswap
            /// z added to every element after the transform.
            case afterTransform
        }
        public var factor: Rational? = nil
        public var zeroPoint: ZeroPoint = .transformInput
        public var unswap = true
        public init(factor: Rational? = nil, zeroPoint: ZeroPoint = .transformInput, unswap: Bool = true) {
            self.factor = factor; self.zeroPoint = zeroPoint; self.unswap = unswap
        }
    }

    public static func tile(codes: [Int], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16, variant v: Variant) -> [Rational] {
        let g = codes.count
        let s = Oracle.value(ofBits: UInt32(scale), format: .fp16)!
        let z = Oracle.value(ofBits: UInt32(zero), format: .fp16)!
        if !flagged { return codes.map { s * Rational($0) + z } }
        let c = v.factor ?? Rational(exactly: Hadamard.inverseSquareRoot(g))!
        var y = (0..<g).map { i -> Rational in
            let hq = (0..<g).reduce(0) { $0 + ((i & $1).nonzeroBitCount % 2 == 0 ? codes[$1] : -codes[$1]) }
            return (s * Rational(hq) + (i == 0 && v.zeroPoint == .transformInput ? z * Rational(g) : .zero)) * c
        }
        if v.unswap { y.swapAt(0, pivot) }
        switch v.zeroPoint {
        case .transformInput: break
        case .afterUnswap: y[0] = y[0] + z * Rational(g) * c
        case .afterTransform: y = y.map { $0 + z }
        }
        return y
    }

    /// Tile `index` of an encoded tensor.
    public static func tile(_ t: TahQuantTensor, index: Int) -> [Rational] {
        let g = t.configuration.tileSize
        return tile(codes: (0..<g).map { Int(t.codes[index * g + $0]) }, flagged: t.flagged[index], pivot: Int(t.pivots[index]),
                    scale: t.scales[index], zero: t.zeros[index])
    }
}
