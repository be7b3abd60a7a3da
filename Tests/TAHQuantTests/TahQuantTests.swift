import Testing
import Exact
import Formats
import PropertyChecking
import TAHQuant
import TAHQuantExact
import Workloads

@Suite struct TahQuantTests {
    /// Activations with planted outliers, all-equal tiles, zero tiles and extreme values.
    static func activations(tokens: Int, channels: Int, g: Int, seed: UInt64) -> [Float] {
        var x = Distribution.gaussian.sample(rows: tokens, columns: channels, seed: seed)
        var s = CounterStream(seed: seed ^ 0x7A)
        for tile in 0..<(tokens * channels / g) {
            let base = tile * g
            switch Generate.int(0...9, &s) {
            case 0: x[base + Generate.int(0...(g - 1), &s)] = Float(Generate.int(5...60, &s)) * (Generate.bool(&s) ? -1 : 1) // outlier
            case 1: for i in 0..<g { x[base + i] = 1.25 }                                                          // zero range
            case 2: for i in 0..<g { x[base + i] = 0 }                                                             // zeros
            case 3: for i in 0..<g { x[base + i] = i % 2 == 0 ? 60000 : -60000 }                                   // extremes
            case 4: x[base] = 100; x[base + 1] = 50                                                                // exactly τ = 2: flagged
            default: break
            }
        }
        return x
    }

    @Test(arguments: TahQuantConfiguration.tileSizes, [BinaryFloatFormat.fp32, .bf16, .fp16])
    func decoderEqualsTheExactSpec(g: Int, output: BinaryFloatFormat) throws {
        let tokens = 24, channels = 4 * g
        let x = Self.activations(tokens: tokens, channels: channels, g: g, seed: UInt64(g))
        let t = try TahQuantEncoder.encode(x, sequences: 2, tokensPerSequence: 12, channels: channels, configuration: TahQuantConfiguration(tileSize: g))
        #expect(t.flagged.contains(true) && t.flagged.contains(false))
        #expect(t.codes.contains(15))
        let bits = TahQuantDecoder.decodeBits(t, output: output)
        var wrong = 0
        for index in 0..<t.tileCount {
            for (i, v) in TahQuantExactDecoder.tile(t, index: index).enumerated() where Oracle.encode(v, as: output) != bits[index * g + i] { wrong += 1 }
        }
        #expect(wrong == 0, "G \(g) \(output): \(wrong) elements differ from the exact evaluation")
    }

    @Test func integerButterflyIsTheSylvesterMatrix() {
        for g in TahQuantConfiguration.tileSizes {
            var s = CounterStream(seed: UInt64(g))
            let q = (0..<g).map { _ in Int64(Generate.int(0...15, &s)) }
            var w = q
            Hadamard.transform(&w)
            for i in 0..<g { #expect(w[i] == (0..<g).reduce(Int64(0)) { $0 + ((i & $1).nonzeroBitCount % 2 == 0 ? q[$1] : -q[$1]) }) }
            // H·H = G·I.
            var twice = w
            Hadamard.transform(&twice)
            #expect(twice == q.map { $0 * Int64(g) })
        }
        // c_G: 2^-k for powers of 4, the binary64 nearest 1/√2 times 2^-k otherwise.
        #expect(Hadamard.inverseSquareRoot(16) == 0.25 && Hadamard.inverseSquareRoot(64) == 0.125)
        #expect(Hadamard.inverseSquareRoot(8) == (0.5).squareRoot() / 2 && Hadamard.inverseSquareRoot(128) == (0.5).squareRoot() / 8)
    }

    /// Encode → decode error is within what each tile's scale allows: per element
    /// s/2 + |min − z| + L·|s − range/L| (+ an output ulp), and for flagged tiles the same bound on
    /// the L2 norm times √G (the transform is orthonormal).
    @Test(arguments: [8, 32, 64])
    func roundTripErrorIsBoundedByTheScale(g: Int) throws {
        let channels = 2 * g
        let x = Self.activations(tokens: 40, channels: channels, g: g, seed: 9)
        let t = try TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: 40, channels: channels, configuration: TahQuantConfiguration(tileSize: g))
        let y = TahQuantDecoder.decode(t)
        for index in 0..<t.tileCount {
            let base = index * g
            var tile = (0..<g).map { Double(x[base + $0]) }
            if t.flagged[index] {
                tile.swapAt(0, Int(t.pivots[index]))
                Hadamard.transform(&tile)
                tile = tile.map { $0 * Hadamard.inverseSquareRoot(g) }
            }
            let s = BinaryFloatFormat.fp16.decode(UInt32(t.scales[index])), z = BinaryFloatFormat.fp16.decode(UInt32(t.zeros[index]))
            let levels = Double((1 << Int(t.tileBits[index])) - 1)
            let bound = s / 2 + abs(tile.min()! - z) + levels * abs(s - (tile.max()! - tile.min()!) / levels)
            let errors = (0..<g).map { Double(x[base + $0]) - y[base + $0] }
            let maxAbs = (0..<g).map { abs(Double(x[base + $0])) }.max()!
            let slack = 4 * Double(Float(maxAbs).ulp) + 1e-12
            if t.flagged[index] {
                let norm = errors.reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(norm <= bound * Double(g).squareRoot() * (1 + 1e-9) + Double(g) * slack, "tile \(index)")
            } else {
                #expect(errors.allSatisfy { abs($0) <= bound + slack }, "tile \(index)")
            }
        }
    }

    @Test func wireRoundTripsAndCostsAbout4Point4BitsAtG64() throws {
        let x = Self.activations(tokens: 256, channels: 1024, g: 64, seed: 3)
        for allocation in TahQuantConfiguration.Allocation.allCases {
            let t = try TahQuantEncoder.encode(x, sequences: 2, tokensPerSequence: 128, channels: 1024,
                                               configuration: TahQuantConfiguration(tileSize: 64, int4Share: 0.8, allocation: allocation))
            let bytes = TahQuantWire.encode(t)
            #expect(try TahQuantWire.decode(bytes) == t)
            let bpe = TahQuantWire.bitsPerElement(t, streamBytes: bytes.count)
            #expect(bpe > 4.2 && bpe < 4.6, "\(allocation): \(bpe) bits/element")
            // The INT4 share per sequence is round(p · n) of its tokens (or of its tiles).
            let int4Tiles = t.tileBits.filter { $0 == 4 }.count
            #expect(int4Tiles == (allocation == .token ? 2 * Int((0.8 * 128).rounded()) * 16 : 2 * Int((0.8 * 128 * 16).rounded())))
        }
    }

    @Test func corruptStreamsAreRefusedWithAnOffset() throws {
        let x = Self.activations(tokens: 8, channels: 64, g: 16, seed: 4)
        let t = try TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: 8, channels: 64, configuration: TahQuantConfiguration(tileSize: 16))
        let good = TahQuantWire.encode(t)
        for length in 0..<good.count {
            #expect(throws: TahQuantError.self) { try TahQuantWire.decode(Array(good.prefix(length))) }
        }
        for position in stride(from: 0, to: good.count, by: 3) {
            var bad = good
            bad[position] ^= 0x5A
            do { _ = try TahQuantWire.decode(bad); Issue.record("flip at \(position) accepted") } catch let e as TahQuantError {
                guard case .corrupt(let offset, _) = e else { Issue.record("\(e)"); continue }
                #expect(offset >= 0 && offset <= good.count)
            }
        }
        var version = good
        version[4] = 9
        #expect(throws: TahQuantError.corrupt(offset: 4, "version 9 is not supported (this reader: 1)")) { try TahQuantWire.decode(version) }
        #expect(throws: TahQuantError.self) { try TahQuantWire.decode(good + [0]) }
    }

    @Test func badEncoderInputsAreRefused() {
        let c = TahQuantConfiguration(tileSize: 16)
        #expect(throws: TahQuantError.self) { try TahQuantEncoder.encode([Float](repeating: 1, count: 40), sequences: 1, tokensPerSequence: 2, channels: 20, configuration: c) }
        #expect(throws: TahQuantError.self) { try TahQuantEncoder.encode([Float](repeating: 1, count: 32), sequences: 1, tokensPerSequence: 2, channels: 16, configuration: TahQuantConfiguration(tileSize: 12)) }
        #expect(throws: TahQuantError.self) { try TahQuantEncoder.encode([.nan] + [Float](repeating: 1, count: 15), sequences: 1, tokensPerSequence: 1, channels: 16, configuration: c) }
        #expect(throws: TahQuantError.self) { try TahQuantEncoder.encode([70000] + [Float](repeating: 1, count: 15), sequences: 1, tokensPerSequence: 1, channels: 16, configuration: c) }
    }

    @Test(arguments: [6, 8])
    func naiveBackwardQuantizerIsWithinHalfAStep(bits: Int) throws {
        let x = Distribution.studentT.sample(rows: 32, columns: 48, seed: 2)
        let (codes, scales) = try NaiveBackwardQuantizer.encode(x, tokens: 32, channels: 48, bits: bits)
        let y = NaiveBackwardQuantizer.decode(codes: codes, scales: scales, tokens: 32, channels: 48)
        let top = (1 << (bits - 1)) - 1
        #expect(codes.allSatisfy { abs(Int($0)) <= top })
        for i in x.indices {
            let s = BinaryFloatFormat.fp16.decode(UInt32(scales[i % 48]))
            let maxAbs = (0..<32).map { abs(Double(x[$0 * 48 + i % 48])) }.max()!
            // Within half a step, unless clipped by the FP16 rounding of the scale.
            let clipped = abs(Double(x[i])) > Double(top) * s
            let err = abs(Double(x[i]) - Double(y[i]))
            #expect(err <= (clipped ? maxAbs - Double(top) * s + s / 2 : s / 2) + Double(Float(abs(x[i])).ulp))
        }
    }
}
