import Exact
import Formats
import TAHQuant
import TAHQuantExact
import Workloads

/// One line per tile: G codes (q0 is element 0), the outlier flag, the pivot, the FP16 scale and
/// zero bit patterns; expected G output bit patterns (FP32, BF16 or FP16) of the decode spec.
public struct DecoderVectors: VectorUnit {
    public let tileSize: Int
    public let output: BinaryFloatFormat

    public init(tileSize: Int, output: BinaryFloatFormat) throws {
        guard TahQuantConfiguration.tileSizes.contains(tileSize) else {
            throw VectorError.invalid("tile size \(tileSize) is not one of \(TahQuantConfiguration.tileSizes)")
        }
        self.tileSize = tileSize; self.output = output
    }

    public var unitName: String { "hadamard-decoder" }
    var pivotWidth: Int { tileSize.trailingZeroBitCount }
    public var layout: VectorLayout {
        VectorLayout([VectorField("q", width: 4, count: tileSize, role: .input), VectorField("flagged", width: 1, role: .input),
                      VectorField("pivot", width: pivotWidth, role: .input), VectorField("scale", width: 16, role: .input),
                      VectorField("zero", width: 16, role: .input), VectorField("y", width: output.bitWidth, count: tileSize, role: .output),
                      VectorField("flags", width: 8, role: .flags)])
    }
    public static let flags = ["inexact", "subnormal-output", "infinite-output", "zero-output", "times-r"]
    public var flagNames: [String] { Self.flags }
    public var configurationJSON: String { "{\"tile_size\": \(tileSize), \"output\": \"\(output.name)\"}" }
    public var verilogParameters: [(String, Int)] {
        [("G", tileSize), ("LOG2G", pivotWidth), ("OUT_FMT", output == .fp32 ? 0 : output == .bf16 ? 1 : 2), ("OUT_W", output.bitWidth)]
    }
    public var notes: [String] { [] }

    static let scales: [UInt16] = [0x0001, 0x03ff, 0x0400, 0x3c00, 0x2e66, 0x7bff]
    static let zeros: [UInt16] = [0x0000, 0x8000, 0x0001, 0xbc00, 0xfbff, 0x7bff, 0xd140]
    static let patterns = ["all-max", "alternating", "ramp", "spike", "int3-max"]
    var crossCount: Int { Self.scales.count * Self.zeros.count * Self.patterns.count * 2 }
    var pivotCount: Int { 2 * tileSize }
    /// The targeted level-1 tiles after the every-pivot ones (docs/vectors.md): two tiles of
    /// exact ties, a tile of values that round to zero in FP16, and where R takes part, one tile
    /// per constant misreading it must expose.
    var targeted: [String] {
        ["ties-positive", "ties-negative", "zero-rounding"] + (tileSize.trailingZeroBitCount % 2 == 1 ? ["r-16-bits", "r-20-bits"] + (output == .fp32 ? ["exact-inverse-sqrt2"] : []) : [])
    }
    public var levelOneCaseCount: Int { crossCount + pivotCount + targeted.count }

    func codes(pattern: String, pivot: Int) -> [UInt64] {
        (0..<tileSize).map { i in
            switch pattern {
            case "all-max": return 15
            case "alternating": return i % 2 == 0 ? 15 : 0
            case "ramp": return UInt64(i % 16)
            case "spike": return i == pivot ? 15 : 1
            default: return 7
            }
        }
    }

    func line(q: [UInt64], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16) -> [UInt64] {
        q + [flagged ? 1 : 0, UInt64(pivot), UInt64(scale), UInt64(zero)] + [UInt64](repeating: 0, count: tileSize + 1)
    }

    public func makeCase(_ index: Int, seed: UInt64) -> VectorCase {
        if index < crossCount {
            // Scale × zero × code pattern × flag, pivot varying with the index.
            var i = index
            let flagged = i % 2 == 1; i /= 2
            let pattern = Self.patterns[i % Self.patterns.count]; i /= Self.patterns.count
            let zero = Self.zeros[i % Self.zeros.count]; i /= Self.zeros.count
            let scale = Self.scales[i]
            let pivot = index % tileSize
            return VectorCase(index: index, category: "boundary", lines: [line(q: codes(pattern: pattern, pivot: pivot), flagged: flagged, pivot: pivot, scale: scale, zero: zero)])
        }
        if index >= crossCount + pivotCount && index < levelOneCaseCount {
            let name = targeted[index - crossCount - pivotCount]
            if name.hasPrefix("ties") {
                // Unflagged, s = 2^−p (p the output's significand bits), q_i = i mod 4, z = 1 or
                // −2: 1 + i·2^−p and −(2 − i·2^−p) are ties for odd i (1 + 2^−p and −(2 − 3·2^−p)
                // go to the even neighbour toward zero, 1 + 3·2^−p and −(2 − 2^−p) away from it).
                let p = output.fractionBits + 1
                let scale = p == 24 ? UInt16(0x0001) : UInt16((15 - p) << 10)
                return VectorCase(index: index, category: "ties", lines: [line(q: (0..<tileSize).map { UInt64($0 % 4) }, flagged: false, pivot: 0,
                                                                              scale: scale, zero: name == "ties-positive" ? 0x3c00 : 0xc000)])
            }
            if name == "zero-rounding" {
                // q = e₁ at the smallest scale: every element is ±2^−24·c_G, below half of FP16's
                // smallest subnormal, so FP16 outputs are zeros of both signs.
                var q = [UInt64](repeating: 0, count: tileSize); q[1] = 1
                return VectorCase(index: index, category: name, lines: [line(q: q, flagged: true, pivot: 0, scale: 0x0001, zero: 0)])
            }
            let found = name == "exact-inverse-sqrt2" ? RSensitiveTiles.exactInverseSqrt2(tileSize: tileSize, output: output)
                                                     : RSensitiveTiles.roundedR(bits: name == "r-16-bits" ? 16 : 20, tileSize: tileSize, output: output)
            // The searches find a tile for every G and format (all 15 measured; MutationScoreTests
            // checks G 8–32 and the committed sets); a tile of ones would stand in otherwise.
            let t = found ?? (q: [UInt64](repeating: 1, count: tileSize), scale: 0x3c00, zero: 0)
            return VectorCase(index: index, category: "r-sensitive", lines: [line(q: t.q, flagged: true, pivot: 0, scale: t.scale, zero: t.zero)])
        }
        if index < crossCount + pivotCount {
            // Every pivot position, with a spike there, at two scales.
            let k = index - crossCount, pivot = k % tileSize
            return VectorCase(index: index, category: "every-pivot",
                              lines: [line(q: codes(pattern: "spike", pivot: pivot), flagged: true, pivot: pivot, scale: k < tileSize ? 0x3c00 : 0x1c00, zero: 0xc100)])
        }
        var r = caseRandom(seed: seed, index: index)
        if index % 2 == 0 {
            // Random fields: codes 4- or 3-bit, any pivot, positive finite scale, finite zero.
            let bits = r.chance(1, in: 2) ? 4 : 3
            let q = (0..<tileSize).map { _ in UInt64(r.below(1 << bits)) }
            let scale = UInt16(1 + r.below(0x7bff)), zero = UInt16(r.below(0x7c00)) | (r.chance(1, in: 2) ? 0x8000 : 0)
            return VectorCase(index: index, category: "random-fields",
                              lines: [line(q: q, flagged: r.chance(1, in: 2), pivot: r.below(tileSize), scale: scale, zero: zero)])
        }
        // LLM-like: one token of outlier-channel activations through the encoder.
        let x = Distribution.outlierChannels.sample(rows: 1, columns: tileSize, seed: r.next()).map { $0 * Float(1 + r.below(8)) }
        let t = try! TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: 1, channels: tileSize,
                                            configuration: TahQuantConfiguration(tileSize: tileSize, int4Share: r.chance(1, in: 2) ? 1 : 0))
        return VectorCase(index: index, category: "llm-like",
                          lines: [line(q: t.codes.map(UInt64.init), flagged: t.flagged[0], pivot: Int(t.pivots[0]), scale: t.scales[0], zero: t.zeros[0])])
    }

    func tileInputs(_ v: [UInt64]) -> (q: [UInt8], flagged: Bool, pivot: Int, scale: UInt16, zero: UInt16) {
        (v[0..<tileSize].map { UInt8($0) }, v[tileSize] == 1, Int(v[tileSize + 1]), UInt16(v[tileSize + 2]), UInt16(v[tileSize + 3]))
    }

    public func fastOutputs(_ c: VectorCase) -> [[UInt64]] {
        var out = [UInt32](repeating: 0, count: tileSize), scratch = [Int64](repeating: 0, count: tileSize)
        return c.lines.map { v in
            let x = tileInputs(v)
            TahQuantDecoder.decodeTile(codes: x.q[...], flagged: x.flagged, pivot: x.pivot, scale: x.scale, zero: x.zero,
                                       output: output, into: &out, at: 0, scratch: &scratch)
            return out.map(UInt64.init)
        }
    }

    public func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64]) {
        var outputs = [[UInt64]](), flags = [UInt64]()
        for v in c.lines {
            let x = tileInputs(v)
            let (bits, f) = DecoderTile(tileSize: tileSize, output: output, codes: x.q, flagged: x.flagged, pivot: x.pivot, scale: x.scale, zero: x.zero).exact()
            outputs.append(bits.map(UInt64.init)); flags.append(UInt64(f))
        }
        return (outputs, flags)
    }
}
