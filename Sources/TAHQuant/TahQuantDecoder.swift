import Dispatch
import Foundation
import Formats

/// The decode arithmetic of docs/tahquant.md, element by element: every value is the exact
/// rational of the spec rounded once (round to nearest even) to the output format.
public enum TahQuantDecoder {
    /// Decodes to the output format's bit patterns (row-major [tokens, channels]).
    public static func decodeBits(_ t: TahQuantTensor, output: BinaryFloatFormat = .fp32) -> [UInt32] {
        let g = t.configuration.tileSize
        var out = [UInt32](repeating: 0, count: t.codes.count)
        // Tiles are independent: decode them on all cores, each worker into its own tile buffer,
        // copied to the tile's own slots.
        let tiles = t.tileCount
        let workers = max(1, min(tiles, ProcessInfo.processInfo.activeProcessorCount * 4))
        out.withUnsafeMutableBufferPointer { buffer in
            let shared = Shared(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var scratch = [Int64](repeating: 0, count: g), one = [UInt32](repeating: 0, count: g)
                for index in stride(from: w, to: tiles, by: workers) {
                    let base = index * g
                    decodeTile(codes: t.codes[base..<(base + g)], flagged: t.flagged[index], pivot: Int(t.pivots[index]),
                               scale: t.scales[index], zero: t.zeros[index], output: output, into: &one, at: 0, scratch: &scratch)
                    for i in 0..<g { shared.value[base + i] = one[i] }
                }
            }
        }
        return out
    }

    /// One tile: G codes with their flag, pivot and FP16 scale/zero bit patterns → G output bit
    /// patterns written at `out[offset...]`. `scratch` holds G integers (reused across tiles).
    public static func decodeTile(codes: ArraySlice<UInt8>, flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16,
                                  output: BinaryFloatFormat, into out: inout [UInt32], at base: Int, scratch w: inout [Int64]) {
        let g = codes.count
        let s = BinaryFloatFormat.fp16.decode(UInt32(scale))
        let z = BinaryFloatFormat.fp16.decode(UInt32(zero))
        if !flagged {
            // s·q + z is exact in binary64 (both terms are multiples of 2^-24 below 2^21).
            for (i, q) in codes.enumerated() { out[base + i] = output.encode(s * Double(q) + z) }
            return
        }
        // Integer butterfly on the codes, then a_i = s·(Hq)_i + [i = 0]·G·z (exact in binary64:
        // multiples of 2^-24 below 2^27), then y_i = a_i · c_G rounded once.
        let c = Hadamard.inverseSquareRoot(g)
        if w.count != g { w = [Int64](repeating: 0, count: g) }
        for (i, q) in codes.enumerated() { w[i] = Int64(q) }
        Hadamard.transform(&w)
        for i in 0..<g {
            let a = s * Double(w[i]) + (i == 0 ? z * Double(g) : 0)
            out[base + i] = output.encode(productRoundedToOdd(a, c))
        }
        // Undo the pivot swap.
        out.swapAt(base, base + pivot)
    }

    /// Decoded values as Double (exact values of the output format).
    public static func decode(_ t: TahQuantTensor, output: BinaryFloatFormat = .fp32) -> [Double] {
        decodeBits(t, output: output).map(output.decode)
    }

    /// a·c rounded to binary64 with round-to-odd: the nearest-even product, moved one ulp toward
    /// the exact value (known from the FMA residual) when inexact and even. Rounding this once
    /// more to any format of ≤ 51 significand bits gives the correctly rounded a·c.
    static func productRoundedToOdd(_ a: Double, _ c: Double) -> Double {
        let p = a * c
        let residual = (-p).addingProduct(a, c)
        if residual != 0 && p.bitPattern & 1 == 0 { return residual > 0 ? p.nextUp : p.nextDown }
        return p
    }
}

/// The "naive" backward-pass quantizer: symmetric, one FP16 scale per channel (column),
/// b = 6 or 8 bits: s = fl16(max|x| / (2^(b−1) − 1)) (2^-24 if that is 0), q = clamp(rne(x / s)).
public enum NaiveBackwardQuantizer {
    public static func encode(_ x: [Float], tokens: Int, channels: Int, bits: Int) throws -> (codes: [Int8], scales: [UInt16]) {
        guard bits == 6 || bits == 8 else { throw TahQuantError.invalid("backward quantizer bits \(bits) must be 6 or 8") }
        guard x.count == tokens * channels else { throw TahQuantError.invalid("\(x.count) values do not form [\(tokens), \(channels)]") }
        if let i = x.firstIndex(where: { !$0.isFinite }) { throw TahQuantError.invalid("non-finite value at flat index \(i)") }
        let top = Double((1 << (bits - 1)) - 1)
        var scales = [UInt16](repeating: 0, count: channels), codes = [Int8](repeating: 0, count: x.count)
        for ch in 0..<channels {
            var m = 0.0
            for t in 0..<tokens { m = max(m, abs(Double(x[t * channels + ch]))) }
            var s16 = BinaryFloatFormat.fp16.encode(m / top)
            if s16 == 0 { s16 = 1 }
            guard !BinaryFloatFormat.fp16.isInfinite(s16) else { throw TahQuantError.invalid("channel \(ch): scale beyond the FP16 range") }
            scales[ch] = UInt16(s16)
            let s = BinaryFloatFormat.fp16.decode(s16)
            for t in 0..<tokens {
                let q = (Double(x[t * channels + ch]) / s).rounded(.toNearestOrEven)
                codes[t * channels + ch] = Int8(min(max(q, -top), top))
            }
        }
        return (codes, scales)
    }

    public static func decode(codes: [Int8], scales: [UInt16], tokens: Int, channels: Int) -> [Float] {
        (0..<(tokens * channels)).map { i in Float(Double(codes[i]) * BinaryFloatFormat.fp16.decode(UInt32(scales[i % channels]))) }
    }
}
