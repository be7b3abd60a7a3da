import Testing
import Circuits
import Formats
import Quantization
import Units
import Vectors
import PropertyChecking

/// The NVFP4 block-quantizer netlist against the library's `BlockFloatQuantizer(.nvfp4)` (default
/// convention, itself tested against the GMP oracle) given the same tensor scale S, and against the
/// vector unit's exact reference: 64 blocks per simulation word.
@Suite struct NVFP4QuantizerDatapathTests {
    /// A tensor scale: as a tensor's max gives it, a power of two or 1.5 of one (so element ties
    /// are representable), a full significand, subnormal, the smallest and large ones.
    static func tensorScale(_ s: inout CounterStream) -> Float {
        switch Generate.int(0...6, &s) {
        case 0: return Generate.float(exponents: -120...120, &s).magnitude / 2688
        case 1: return Float(sign: .plus, exponent: Generate.int(-149...120, &s), significand: 1)
        case 2: return Float(sign: .plus, exponent: Generate.int(-148...120, &s), significand: 1.5)
        case 3: return Float(bitPattern: UInt32(Generate.int(1...0x7F_FFFF, &s)))
        case 4: return Float.leastNonzeroMagnitude
        default: return Generate.float(exponents: -40...40, &s).magnitude.nextUp
        }
    }

    /// A block around a target block scale b (an E4M3 value) under S: elements on E2M1 levels and
    /// midpoints of b·S and their neighbours, maxima on E4M3 midpoints of q = m / (6·S) and their
    /// neighbours, saturating elements and scales, zeros, −0.0, subnormals, random values. Every
    /// other block is anchored: its first element is 6·b·S and none is larger, so b is the block's
    /// scale and the level and midpoint elements are its ties.
    static func block(_ index: Int, size: Int, scale: Float, _ s: inout CounterStream) -> [Float] {
        let b = BinaryFloatFormat.e4m3.decode(UInt32(Generate.int(0...0x7E, &s)))
        let unit = Double(scale) * b, anchored = index % 2 == 0 && Float(6 * unit).isNormal
        return (0..<size).map { i -> Float in
            if anchored && i == 0 { return Generate.bool(&s) ? Float(-6 * unit) : Float(6 * unit) }
            let v: Float
            switch (index + i * 7) % 11 {
            case 0: v = 0
            case 1: v = Float(Double(Generate.int(0...26, &s)) / 4 * unit)  // levels and midpoints (quarter half-steps / 2)
            case 2: v = Float(Double(Generate.int(0...26, &s)) / 4 * unit).nextUp
            case 3: v = Float(Double(Generate.int(0...26, &s)) / 4 * unit).nextDown.magnitude
            case 4: // the block scale's own boundaries: 6·S times an E4M3 midpoint, ± 1 ulp
                let c = Generate.int(0...0x7E, &s), e4m3 = BinaryFloatFormat.e4m3
                let mid = (e4m3.decode(UInt32(c)) + e4m3.decode(UInt32(min(c + 1, 0x7F)))) / 2
                let t = Float(6 * Double(scale) * mid)
                v = [t, t.nextUp, t.nextDown][Generate.int(0...2, &s)]
            case 5: v = Float(sign: .plus, exponent: -149 + Generate.int(0...30, &s), significand: 1)
            case 6: v = -0.0
            case 7: v = Float(unit * 6 * Double(Generate.int(1...9, &s)))  // saturating
            case 8: v = Generate.float(exponents: -149...127, &s)
            default: v = Float(Double(Generate.float(exponents: -4...3, &s)) * unit)
            }
            let capped = anchored ? min(v, Float(6 * unit)) : v
            let signed = Generate.bool(&s) ? -capped : capped
            return signed.isFinite ? signed : Float.greatestFiniteMagnitude
        }
    }

    static func read(_ sim: Simulator, _ bus: Bus, instance k: Int) -> UInt64 {
        bus.enumerated().reduce(0) { $0 | ((sim.word($1.element) >> UInt64(k)) & 1) << UInt64($1.offset) }
    }

    /// Simulates 64 (x, S) blocks at a time; the scale and element codes of each.
    static func simulate(_ unit: NVFP4QuantizerDatapath, _ sim: Simulator, _ blocks: [(x: [Float], s: Float)]) -> [[UInt64]] {
        var out: [[UInt64]] = []
        for start in stride(from: 0, to: blocks.count, by: 64) {
            let batch = Array(blocks[start..<min(blocks.count, start + 64)])
            for i in 0..<unit.blockSize { sim.set(unit.inputs[i], instances: batch.map { Int64($0.x[i].bitPattern) }) }
            sim.set(unit.tensorScale, instances: batch.map { Int64($0.s.bitPattern) })
            for _ in 0..<unit.latency {
                sim.evaluate()
                sim.clock()
            }
            for k in batch.indices { out.append([read(sim, unit.scale, instance: k)] + unit.codes.map { read(sim, $0, instance: k) }) }
        }
        return out
    }

    @Test(arguments: [1, 4, 16])
    func everyCodeEqualsTheLibrary(blockSize: Int) throws {
        let unit = NVFP4QuantizerDatapath(blockSize: blockSize)
        let sim = Simulator(unit.netlist, countsToggles: false)
        let q = try BlockFloatQuantizer(.init(.nvfp4), blockSize: blockSize)
        var s = CounterStream(seed: UInt64(100 + blockSize))
        let blocks = (0..<2_560).map { i -> (x: [Float], s: Float) in
            let scale = Self.tensorScale(&s)
            return (Self.block(i, size: blockSize, scale: scale, &s), scale)
        }
        let got = Self.simulate(unit, sim, blocks)
        var mismatches: [String] = []
        for (block, codes) in zip(blocks, got) {
            var statistics = QuantizationStatistics()
            let want = try q.quantizeRows(block.x, rows: 1, columns: blockSize, firstRow: 0, tensorScale: block.s, statistics: &statistics)
            let expected = [UInt64(want.blockScales[0])] + want.codes.map(UInt64.init)
            if codes != expected { mismatches.append("S \(block.s.bitPattern) x \(block.x.map(\.bitPattern)): \(codes) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(blocks.count) blocks differ, first: \(mismatches.first ?? "")")
    }

    /// The netlist against the exact reference of the vector unit (GMP), on every level-1 case and
    /// 256 random ones: the lines `rtl-reference/nvfp4_quantizer.v` is simulated against.
    @Test(arguments: NVFP4QuantizerVectors.blockSizes)
    func theNetlistPassesItsVectors(blockSize: Int) throws {
        let vectors = try NVFP4QuantizerVectors(blockSize: blockSize)
        let unit = NVFP4QuantizerDatapath(blockSize: blockSize)
        let sim = Simulator(unit.netlist, countsToggles: false)
        let cases = (0..<(vectors.levelOneCaseCount + 256)).map { vectors.makeCase($0, seed: 7) }
        let blocks = cases.map { c in (x: c.lines[0][0..<blockSize].map { Float(bitPattern: UInt32($0)) }, s: Float(bitPattern: UInt32(c.lines[0][blockSize]))) }
        let got = Self.simulate(unit, sim, blocks)
        let failed = zip(cases, got).filter { vectors.exact($0.0).outputs[0] != $0.1 }.count
        #expect(failed == 0, "\(failed) of \(cases.count) blocks differ")
    }
}
