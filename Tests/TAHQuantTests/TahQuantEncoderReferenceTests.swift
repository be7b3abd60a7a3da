import Testing
import Formats
import TAHQuant
import Workloads

/// The library encoder (parallel over tokens and tiles, two-lane logarithms) against a plain,
/// serial transcription of docs/tahquant.md steps 1–5: every array must be identical.
@Suite struct TahQuantEncoderReferenceTests {
    static func reference(_ x: [Float], sequences: Int, tokensPerSequence s: Int, channels: Int, _ c: TahQuantConfiguration)
        -> (bits: [UInt8], flagged: [Bool], pivots: [UInt8], scales: [UInt16], zeros: [UInt16], codes: [UInt8]) {
        let g = c.tileSize, perToken = channels / g, tiles = x.count / g
        func entropy(_ start: Int, _ n: Int) -> Double {
            var total = 0.0
            for i in start..<(start + n) { total += abs(Double(x[i])) }
            if total == 0 { return 0 }
            var h = 0.0
            for i in start..<(start + n) where x[i] != 0 {
                let p = abs(Double(x[i])) / total
                h -= p * DeterministicMath.log(p)
            }
            return h
        }
        var bits = [UInt8](repeating: 3, count: tiles)
        for q in 0..<sequences {
            let runs = c.allocation == .token ? s : s * perToken
            let runLength = c.allocation == .token ? channels : g
            let first = q * runs
            let h = (0..<runs).map { entropy((first + $0) * runLength, runLength) }
            let n4 = min(runs, Int((c.int4Share * Double(runs)).rounded(.toNearestOrAwayFromZero)))
            for k in (0..<runs).sorted(by: { h[$0] != h[$1] ? h[$0] > h[$1] : $0 < $1 }).prefix(n4) {
                if c.allocation == .token { for j in 0..<perToken { bits[(first + k) * perToken + j] = 4 } } else { bits[first + k] = 4 }
            }
        }
        var flagged = [Bool](repeating: false, count: tiles), pivots = [UInt8](repeating: 0, count: tiles)
        var scales = [UInt16](repeating: 0, count: tiles), zeros = scales, codes = [UInt8](repeating: 0, count: x.count)
        for t in 0..<tiles {
            var v = (0..<g).map { Double(x[t * g + $0]) }
            let pivot = v.indices.max { abs(v[$0]) != abs(v[$1]) ? abs(v[$0]) < abs(v[$1]) : $0 > $1 }!
            let second = v.indices.filter { $0 != pivot }.map { abs(v[$0]) }.max() ?? 0
            if abs(v[pivot]) > 0 && abs(v[pivot]) >= c.tau * second {
                flagged[t] = true; pivots[t] = UInt8(pivot)
                v.swapAt(0, pivot)
                Hadamard.transform(&v)
                v = v.map { $0 * Hadamard.inverseSquareRoot(g) }
            }
            let levels = Double((1 << Int(bits[t])) - 1)
            let z16 = BinaryFloatFormat.fp16.encode(v.min()!)
            var s16 = BinaryFloatFormat.fp16.encode((v.max()! - v.min()!) / levels)
            if s16 == 0 { s16 = 1 }
            zeros[t] = UInt16(z16); scales[t] = UInt16(s16)
            let z = BinaryFloatFormat.fp16.decode(z16), sc = BinaryFloatFormat.fp16.decode(s16)
            for i in 0..<g { codes[t * g + i] = UInt8(min(max(((v[i] - z) / sc).rounded(.toNearestOrEven), 0), levels)) }
        }
        return (bits, flagged, pivots, scales, zeros, codes)
    }

    @Test(arguments: [TahQuantConfiguration(tileSize: 16), TahQuantConfiguration(tileSize: 64, int4Share: 0.5, allocation: .tile),
                      TahQuantConfiguration(tileSize: 8, int4Share: 0.25, tau: 1.5)])
    func parallelEncoderEqualsTheSerialSpec(configuration c: TahQuantConfiguration) throws {
        let (sequences, tokens, channels) = (3, 37, 256)
        let x = TahQuantTests.activations(tokens: sequences * tokens, channels: channels, g: c.tileSize, seed: 91)
        let t = try TahQuantEncoder.encode(x, sequences: sequences, tokensPerSequence: tokens, channels: channels, configuration: c)
        let r = Self.reference(x, sequences: sequences, tokensPerSequence: tokens, channels: channels, c)
        #expect(t.tileBits == r.bits)
        #expect(t.flagged == r.flagged)
        #expect(t.pivots == r.pivots)
        #expect(t.scales == r.scales)
        #expect(t.zeros == r.zeros)
        #expect(t.codes == r.codes)
    }

    /// With several out-of-range tiles, the error names the first one whatever the thread timing.
    @Test func theFirstFailingTileIsReported() {
        var x = [Float](repeating: 1, count: 64 * 16)
        // A flagged tile whose transformed element 0, (65504 − 15·30000)/4, is beyond FP16.
        for tile in [37, 5, 50] {
            for i in 0..<16 { x[tile * 16 + i] = i == 3 ? 65504 : -30000 }
        }
        #expect(throws: TahQuantError.invalid("tile 1 of token 1: scale or zero point beyond the FP16 range")) {
            try TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: 16, channels: 64, configuration: TahQuantConfiguration(tileSize: 16))
        }
    }
}
