import Formats
import TAHQuant

/// Level-1 decoder tiles on which the spec's constant R = fl64(1/√2) gives a different output
/// than R rounded to fewer bits, or than the exact 1/√2 (docs/vectors.md, "Decoder level 1"):
/// without them no set tells those misreadings apart. Each tile is found by a deterministic
/// search over flagged tiles with pivot 0 whose element 0 carries the sensitivity; the search
/// order is part of the specification, so an independent tool finds the same tile.
enum RSensitiveTiles {
    /// R as the integer R·2^53 (odd, 53 bits).
    static let r53 = UInt128(Hadamard.r.significandBitPattern | 1 << 52)

    /// Codes whose sum is W: 15s from element 0 on, the rest in the next element.
    static func codes(sum w: Int, tileSize g: Int) -> [UInt64] {
        var left = w
        return (0..<g).map { _ in let q = min(15, left); left -= q; return UInt64(q) }
    }

    /// The FP16 bit pattern of Ms·2^(E−10) (Ms in 1024…2047, E in −14…15).
    static func fp16(significand ms: Int, exponent e: Int) -> UInt16 { UInt16((e + 15) << 10 | (ms - 1024)) }

    /// N rounded to p significant bits, nearest even: (significand, shift) with N ≈ sig·2^shift.
    static func rounded(_ n: UInt128, bits p: Int) -> (UInt128, Int) {
        let length = 128 - n.leadingZeroBitCount
        guard length > p else { return (n, 0) }
        let shift = length - p
        var q = n >> UInt128(shift)
        let rem = n & ((UInt128(1) << UInt128(shift)) - 1), half = UInt128(1) << UInt128(shift - 1)
        if rem > half || (rem == half && q & 1 == 1) { q += 1 }
        return q >> UInt128(p) == 1 ? (q >> 1, shift + 1) : (q, shift)
    }

    /// R rounded to `k` bits: a tile whose element 0, s·W·c_G (zero point 0), rounds differently
    /// with R_k = rne(R·2^k)·2^−k. Search: s = Ms·2^0 for Ms = 1024…2047, then W = 1…15G; the
    /// first (Ms, W) where the two products A·R and A·R_k (A = Ms·W) round to different
    /// p-bit significands, confirmed by the exact mutant.
    static func roundedR(bits k: Int, tileSize g: Int, output: BinaryFloatFormat) -> (q: [UInt64], scale: UInt16, zero: UInt16)? {
        let mutant: DecoderMutant = k == 16 ? .r16 : .r20
        let rk = UInt128((Hadamard.r * Double(sign: .plus, exponent: k, significand: 1)).rounded(.toNearestOrEven)) << UInt128(53 - k)
        let p = output.fractionBits + 1
        for ms in 1024...2047 {
            for w in 1...(15 * g) {
                let a = UInt128(ms * w)
                guard rounded(a * r53, bits: p) != rounded(a * rk, bits: p) else { continue }
                let tile = (q: codes(sum: w, tileSize: g), scale: fp16(significand: ms, exponent: 0), zero: UInt16(0))
                if confirms(mutant, tile, output) { return tile }
            }
        }
        return nil
    }

    /// A tile found by `exactInverseSqrt2Search`, by its search coordinates.
    struct Found: Sendable, Equatable {
        let e: Int, ms: Int, w: Int, zeroBits: UInt16
    }

    /// The search's first hits for G = 8, 32, 128 (FP32): about 2^23 candidates each, seconds of
    /// optimised code, so they are kept here; `VectorsTests` confirms each against the exact
    /// mutant, and `exactInverseSqrt2Search` reproduces them.
    static let exactInverseSqrt2Table: [Int: Found] = [
        8: Found(e: 1, ms: 1509, w: 117, zeroBits: 0x86e1),
        32: Found(e: 14, ms: 1397, w: 165, zeroBits: 0x8769),
        128: Found(e: 13, ms: 1991, w: 1159, zeroBits: 0x82a4),
    ]

    /// The exact 1/√2 (FP32 outputs): the table's tile, or the search's when G is not in it.
    static func exactInverseSqrt2(tileSize g: Int, output: BinaryFloatFormat) -> (q: [UInt64], scale: UInt16, zero: UInt16)? {
        guard let f = exactInverseSqrt2Table[g] ?? exactInverseSqrt2Search(tileSize: g, output: output) else { return nil }
        return (codes(sum: f.w, tileSize: g), fp16(significand: f.ms, exponent: f.e), f.zeroBits)
    }

    /// Element 0 = (s·W + G·z)·c_G with s = Ms·2^(E−10) and z = ±Mz·2^(t−25) (the FP16 pattern
    /// t·2^10 | Mz mod 2^10: t = 0 a subnormal, Mz in 1…1023; t ≥ 1 normal, Mz in 1024…2047).
    /// Order: t = 0, 1, …, 20; E = 15 down to 1; Ms = 1024…2047; W = 15G down to 1; + before
    /// −; then Mz ascending. With A = (s·W + G·z)·2^24 = Ms·W·2^(E+14) ± G·Mz·2^max(t−1, 0),
    /// the exact product A·2^53/√2 lies 0.4354·A below N = A·R·2^53 (R > 1/√2), so the two
    /// round apart only when one of N's p-bit rounding midpoints lies in [N − 0.44·A, N]. N moves
    /// by G·R·2^53·2^max(t−1, 0) per step of Mz, so the Mz putting a midpoint in that window are
    /// solved for directly, one per wrap of N's residue; each is confirmed by the exact mutant.
    static func exactInverseSqrt2Search(tileSize g: Int, output: BinaryFloatFormat) -> Found? {
        let p = UInt128(output.fractionBits + 1)
        for t in 0...20 {
            let lo = UInt128(t == 0 ? 1 : 1024), hi = UInt128(t == 0 ? 1023 : 2047)
            let step = (UInt128(g) * r53) << UInt128(max(t - 1, 0))
            for e in stride(from: 15, through: 1, by: -1) {
                for ms in 1024...2047 {
                    for w in stride(from: 15 * g, through: 1, by: -1) {
                        let x = UInt128(ms * w) << UInt128(e + 14), n = x * r53
                        let modulus = UInt128(1) << (UInt128(128 - n.leadingZeroBitCount) - p), half = modulus >> 1
                        let b = n & (modulus - 1), window = x * 44 / 100
                        for negative in [false, true] {
                            // N ± Mz·step ≡ half + d (mod modulus), 0 ≤ d ≤ window.
                            let base = negative ? (b >= half ? b - half : b + modulus - half) : (half >= b ? half - b : half + modulus - b)
                            var k = lo * step / modulus
                            while true {
                                let target = base + k * modulus
                                let mz = negative ? target / step : (target + step - 1) / step
                                if mz > hi { break }
                                k += 1
                                guard mz >= lo, (negative ? target - mz * step : mz * step - target) <= window else { continue }
                                let found = Found(e: e, ms: ms, w: w, zeroBits: UInt16(t << 10) | UInt16(mz & 0x3ff) | (negative ? 0x8000 : 0))
                                if confirms(.exactInverseSqrt2, (codes(sum: w, tileSize: g), fp16(significand: ms, exponent: e), found.zeroBits), output) {
                                    return found
                                }
                            }
                        }
                    }
                }
            }
        }
        return nil
    }

    static func confirms(_ m: DecoderMutant, _ t: (q: [UInt64], scale: UInt16, zero: UInt16), _ f: BinaryFloatFormat) -> Bool {
        let q = t.q.map { UInt8($0) }
        let spec = DecoderMutant.decode(nil, codes: q, flagged: true, pivot: 0, scale: t.scale, zero: t.zero, output: f)
        return m.decode(codes: q, flagged: true, pivot: 0, scale: t.scale, zero: t.zero, output: f) != spec
    }
}
