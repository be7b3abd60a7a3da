import Dispatch
import Foundation
import Formats

/// TAH-Quant parameters (arXiv 2506.01352 and its public code; our decisions in
/// docs/tahquant.md).
public struct TahQuantConfiguration: Sendable, Equatable {
    public enum Allocation: String, Sendable, CaseIterable {
        /// Per sequence, the highest-entropy share p of tokens get INT4, the rest INT3 (paper v1).
        case token
        /// Per sequence, the highest-entropy share p of tiles get INT4 (paper v2).
        case tile
    }

    /// Tile size G: channels per tile, a power of two in 8…128.
    public var tileSize: Int = 64
    /// Share of tokens (or tiles) given INT4.
    public var int4Share: Double = 0.8
    public var allocation: Allocation = .token
    /// Outlier threshold τ: a tile is flagged when its largest magnitude ≥ τ × the second largest.
    public var tau: Double = 2

    public init(tileSize: Int = 64, int4Share: Double = 0.8, allocation: Allocation = .token, tau: Double = 2) {
        self.tileSize = tileSize; self.int4Share = int4Share; self.allocation = allocation; self.tau = tau
    }

    public static let tileSizes = [8, 16, 32, 64, 128]

    public func validate(channels: Int) throws {
        guard Self.tileSizes.contains(tileSize) else { throw TahQuantError.invalid("tile size G = \(tileSize) must be one of \(Self.tileSizes)") }
        guard channels > 0, channels % tileSize == 0 else { throw TahQuantError.invalid("hidden size \(channels) is not a positive multiple of the tile size \(tileSize)") }
        guard int4Share.isFinite, (0...1).contains(int4Share) else { throw TahQuantError.invalid("INT4 share \(int4Share) is outside [0, 1]") }
        guard tau.isFinite, tau >= 1 else { throw TahQuantError.invalid("tau \(tau) must be finite and ≥ 1") }
    }
}

public enum TahQuantError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    /// A corrupt or unsupported stream: the byte offset where reading failed.
    case corrupt(offset: Int, String)
    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .corrupt(let offset, let s): return "corrupt stream at byte \(offset): \(s)"
        }
    }
}

/// An encoded activation tensor: everything the wire carries.
public struct TahQuantTensor: Sendable, Equatable {
    public var sequences: Int
    public var tokensPerSequence: Int
    public var channels: Int
    public var configuration: TahQuantConfiguration
    /// Per tile (token-major, tile index within token): 4 or 3 bits.
    public var tileBits: [UInt8]
    /// Per tile: outlier flag (pivot swap + Hadamard applied).
    public var flagged: [Bool]
    /// Per tile: pivot index (meaningful when flagged).
    public var pivots: [UInt8]
    /// Per tile: FP16 bit patterns of the scale and the zero point.
    public var scales: [UInt16]
    public var zeros: [UInt16]
    /// Codes, one per element, row-major [tokens, channels].
    public var codes: [UInt8]

    public var tokens: Int { sequences * tokensPerSequence }
    public var tilesPerToken: Int { channels / configuration.tileSize }
    public var tileCount: Int { tokens * tilesPerToken }
}

/// The encoder. Arithmetic is IEEE binary64 in the order stated in docs/tahquant.md, so the codes
/// are the same on every machine.
public enum TahQuantEncoder {
    /// Encodes `values` ([sequences × tokensPerSequence, channels] row-major, finite, |x| ≤ 65504).
    public static func encode(_ values: [Float], sequences: Int, tokensPerSequence: Int, channels: Int,
                              configuration c: TahQuantConfiguration) throws -> TahQuantTensor {
        try c.validate(channels: channels)
        let tokens = sequences * tokensPerSequence
        guard sequences > 0, tokensPerSequence > 0, values.count == tokens * channels else {
            throw TahQuantError.invalid("\(values.count) values do not form [\(sequences), \(tokensPerSequence), \(channels)]")
        }
        if let i = values.firstIndex(where: { !$0.isFinite || abs($0) > 65504 }) {
            throw TahQuantError.invalid("value \(values[i]) at token \(i / channels), channel \(i % channels) is not a finite FP16-range number")
        }
        let g = c.tileSize, tilesPerToken = channels / g
        var t = TahQuantTensor(sequences: sequences, tokensPerSequence: tokensPerSequence, channels: channels, configuration: c,
                               tileBits: [UInt8](repeating: 3, count: tokens * tilesPerToken), flagged: [Bool](repeating: false, count: tokens * tilesPerToken),
                               pivots: [UInt8](repeating: 0, count: tokens * tilesPerToken), scales: [UInt16](repeating: 0, count: tokens * tilesPerToken),
                               zeros: [UInt16](repeating: 0, count: tokens * tilesPerToken), codes: [UInt8](repeating: 0, count: values.count))
        // Entropy of every token (tile), on all cores: each is computed alone, in index order.
        let runLength = c.allocation == .token ? channels : g
        let runs = values.count / runLength
        var entropies = [Double](repeating: 0, count: runs)
        let workers = min(runs, ProcessInfo.processInfo.activeProcessorCount * 4)
        values.withUnsafeBufferPointer { x in
            entropies.withUnsafeMutableBufferPointer { h in
                let shared = Shared((x: x, entropies: h))
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    var scratch = [Double](repeating: 0, count: runLength)
                    for r in stride(from: w, to: runs, by: workers) {
                        shared.value.entropies[r] = entropy(shared.value.x, start: r * runLength, count: runLength, scratch: &scratch)
                    }
                }
            }
        }
        // Bit allocation by entropy, per sequence.
        for sequence in 0..<sequences {
            let firstToken = sequence * tokensPerSequence
            switch c.allocation {
            case .token:
                let share = topShare(Array(entropies[firstToken..<(firstToken + tokensPerSequence)]), share: c.int4Share)
                for (k, isInt4) in share.enumerated() where isInt4 {
                    for j in 0..<tilesPerToken { t.tileBits[(firstToken + k) * tilesPerToken + j] = 4 }
                }
            case .tile:
                let firstTile = firstToken * tilesPerToken, count = tokensPerSequence * tilesPerToken
                for (k, isInt4) in topShare(Array(entropies[firstTile..<(firstTile + count)]), share: c.int4Share).enumerated() where isInt4 {
                    t.tileBits[firstTile + k] = 4
                }
            }
        }
        // Tiles are independent: encode them on all cores, each writing only its own slots.
        let tileCount = t.tileCount
        let tileWorkers = min(tileCount, ProcessInfo.processInfo.activeProcessorCount * 4)
        let firstFailure = Locked(Int.max)
        values.withUnsafeBufferPointer { x in
        t.tileBits.withUnsafeBufferPointer { bits in
        t.flagged.withUnsafeMutableBufferPointer { flagged in
        t.pivots.withUnsafeMutableBufferPointer { pivots in
        t.scales.withUnsafeMutableBufferPointer { scales in
        t.zeros.withUnsafeMutableBufferPointer { zeros in
        t.codes.withUnsafeMutableBufferPointer { codes in
            let out = Shared(TileOutputs(x: x, bits: bits, flagged: flagged, pivots: pivots, scales: scales, zeros: zeros, codes: codes))
            DispatchQueue.concurrentPerform(iterations: tileWorkers) { w in
                var tile = [Double](repeating: 0, count: g)
                for index in stride(from: w, to: tileCount, by: tileWorkers) where !encodeTile(index, g: g, tau: c.tau, out.value, &tile) {
                    firstFailure.update { $0 = min($0, index) }
                    break
                }
            }
        }}}}}}}
        if firstFailure.value != Int.max {
            let index = firstFailure.value
            throw TahQuantError.invalid("tile \(index % tilesPerToken) of token \(index / tilesPerToken): scale or zero point beyond the FP16 range")
        }
        return t
    }

    /// The tile loop's buffers; every worker writes only the slots of its own tiles.
    struct TileOutputs {
        let x: UnsafeBufferPointer<Float>
        let bits: UnsafeBufferPointer<UInt8>
        let flagged: UnsafeMutableBufferPointer<Bool>
        let pivots: UnsafeMutableBufferPointer<UInt8>
        let scales: UnsafeMutableBufferPointer<UInt16>
        let zeros: UnsafeMutableBufferPointer<UInt16>
        let codes: UnsafeMutableBufferPointer<UInt8>
    }

    /// Steps 3–5 of docs/tahquant.md for one tile; false if its scale or zero point is not finite in FP16.
    static func encodeTile(_ index: Int, g: Int, tau: Double, _ out: TileOutputs, _ tile: inout [Double]) -> Bool {
        let base = index * g
        for i in 0..<g { tile[i] = Double(out.x[base + i]) }
        // Outlier: largest magnitude (first on ties) ≥ τ × second largest, and non-zero.
        var pivot = 0
        for i in 1..<g where abs(tile[i]) > abs(tile[pivot]) { pivot = i }
        var second = 0.0
        for i in 0..<g where i != pivot { second = max(second, abs(tile[i])) }
        let m1 = abs(tile[pivot])
        if m1 > 0 && m1 >= tau * second {
            out.flagged[index] = true
            out.pivots[index] = UInt8(pivot)
            tile.swapAt(0, pivot)
            Hadamard.transform(&tile)
            let inverseRoot = Hadamard.inverseSquareRoot(g)
            for i in 0..<g { tile[i] *= inverseRoot }
        }
        let levels = Double((1 << Int(out.bits[index])) - 1)
        var lo = tile[0], hi = tile[0]
        for i in 1..<g { lo = min(lo, tile[i]); hi = max(hi, tile[i]) }
        let zero16 = BinaryFloatFormat.fp16.encode(lo)
        var scale16 = BinaryFloatFormat.fp16.encode((hi - lo) / levels)
        if scale16 == 0 { scale16 = 1 } // clamped away from 0: the smallest positive FP16, 2^-24
        guard !BinaryFloatFormat.fp16.isInfinite(zero16), !BinaryFloatFormat.fp16.isInfinite(scale16) else { return false }
        out.zeros[index] = UInt16(zero16)
        out.scales[index] = UInt16(scale16)
        let z = BinaryFloatFormat.fp16.decode(zero16), s = BinaryFloatFormat.fp16.decode(scale16)
        for i in 0..<g {
            let q = ((tile[i] - z) / s).rounded(.toNearestOrEven)
            out.codes[base + i] = UInt8(min(max(q, 0), levels))
        }
        return true
    }

    /// H = −Σ pᵢ ln pᵢ with pᵢ = |xᵢ| / Σ|xⱼ| (binary64, DeterministicMath.log); 0 for an all-zero run.
    /// The logarithms are taken two at a time (bit-identical to one at a time); the sum stays in
    /// index order.
    static func entropy(_ x: UnsafeBufferPointer<Float>, start: Int, count: Int, scratch p: inout [Double]) -> Double {
        var total = 0.0
        for i in start..<(start + count) { total += abs(Double(x[i])) }
        if total == 0 { return 0 }
        var n = 0
        for i in start..<(start + count) where x[i] != 0 {
            p[n] = abs(Double(x[i])) / total
            n += 1
        }
        var h = 0.0
        var k = 0
        while k + 1 < n {
            let l = DeterministicMath.log(SIMD2(p[k], p[k + 1]))
            h -= p[k] * l[0]
            h -= p[k + 1] * l[1]
            k += 2
        }
        if k < n { h -= p[k] * DeterministicMath.log(p[k]) }
        return h
    }

    /// Marks the round(share × n) (half away from zero) highest entries; ties go to the lower index.
    static func topShare(_ entropies: [Double], share: Double) -> [Bool] {
        let n = entropies.count
        let count = min(n, Int((share * Double(n)).rounded(.toNearestOrAwayFromZero)))
        let order = entropies.indices.sorted { entropies[$0] != entropies[$1] ? entropies[$0] > entropies[$1] : $0 < $1 }
        var marks = [Bool](repeating: false, count: n)
        for i in order.prefix(count) { marks[i] = true }
        return marks
    }
}

/// The Sylvester–Hadamard transform H_G (unnormalised) by the in-place fast Walsh–Hadamard
/// butterfly: for h = 1, 2, 4, …: for each pair (i, i + h) in blocks of 2h: (a, b) → (a + b, a − b).
public enum Hadamard {
    /// In place; binary64 for the encoder, integers (exact, log2 G bits of growth) for the decoder.
    public static func transform<T: AdditiveArithmetic>(_ x: inout [T]) {
        var h = 1
        while h < x.count {
            for block in stride(from: 0, to: x.count, by: 2 * h) {
                for i in block..<(block + h) { (x[i], x[i + h]) = (x[i] + x[i + h], x[i] - x[i + h]) }
            }
            h *= 2
        }
    }

    /// R = 0x1.6a09e667f3bcdp-1, the binary64 nearest 1/√2: the one place the constant is written.
    public static let r: Double = 0x1.6a09e667f3bcdp-1

    /// The constant c_G standing for 1/√G: exactly 2^(−k) when G = 4^k; otherwise
    /// 2^(−k) × R with G = 2·4^k.
    public static func inverseSquareRoot(_ g: Int) -> Double {
        let log2G = g.trailingZeroBitCount
        let k = log2G / 2
        let power = Double(sign: .plus, exponent: -k, significand: 1)
        return log2G % 2 == 0 ? power : power * r
    }
}

