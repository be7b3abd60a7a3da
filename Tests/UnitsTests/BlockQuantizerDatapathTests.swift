import Testing
import Circuits
import Formats
import Quantization
import Units
import Vectors
import PropertyChecking

/// The MXFP4 block-quantizer netlist under each MX scale rule against the library's
/// `BlockFloatQuantizer(.mxfp4)` with that rule (itself tested against the GMP oracle): 64 blocks
/// per simulation word, boundary and random blocks.
@Suite struct BlockQuantizerDatapathTests {
    /// Blocks that hit every rule: E2M1 midpoints and ties in every binade of the block's scale,
    /// saturation (m/X ∈ [6, 8)), zero and subnormal blocks, the scale clamp, negative zeros,
    /// elements far below the maximum, and random magnitudes.
    static func block(_ index: Int, size: Int, _ s: inout CounterStream) -> [Float] {
        let top = Float(sign: .plus, exponent: Generate.int(-130...127, &s), significand: 1)
        return (0..<size).map { i -> Float in
            let v: Float
            switch (index + i * 7) % 10 {
            case 0: v = 0
            case 1: v = Float(Generate.int(0...32, &s)) / 4 * top  // levels, midpoints, ties
            case 2: v = Float(Generate.int(0...16, &s)) / 8 * top
            case 3: v = Float(sign: .plus, exponent: -149 + Generate.int(0...30, &s), significand: 1)
            case 4: v = top * Float(Generate.int(1...7, &s)) * 1.75  // near and above the 6·X saturation
            case 5: v = Generate.float(exponents: -30...3, &s) * top
            case 6: v = -0.0
            case 7: // the scale rules' thresholds: significands 1, 1.5, 1.75 and their neighbours
                let f: [Float] = [1, Float(1).nextUp, 1.5, Float(1.5).nextUp, Float(1.75).nextDown, 1.75]
                v = f[Generate.int(0...5, &s)] * top * 2
            default: v = Generate.float(exponents: -3...3, &s) * top
            }
            let signed = Generate.bool(&s) ? -v : v
            return signed.isFinite ? signed : Float.greatestFiniteMagnitude
        }
    }

    static func read(_ sim: Simulator, _ bus: Bus, instance k: Int) -> UInt64 {
        bus.enumerated().reduce(0) { $0 | ((sim.word($1.element) >> UInt64(k)) & 1) << UInt64($1.offset) }
    }

    @Test(arguments: [1, 4, 32], MXScaleRule.deterministic)
    func everyCodeEqualsTheLibrary(blockSize: Int, rule: MXScaleRule) throws {
        let unit = BlockQuantizerDatapath(blockSize: blockSize, scaleRule: rule)
        let sim = Simulator(unit.netlist, countsToggles: false)
        let q = try BlockFloatQuantizer(.init(.mxfp4, mxScale: rule), blockSize: blockSize)
        var s = CounterStream(seed: UInt64(blockSize))
        var mismatches: [String] = []
        for round in 0..<40 {
            let blocks = (0..<64).map { Self.block(round * 64 + $0, size: blockSize, &s) }
            for i in 0..<blockSize { sim.set(unit.inputs[i], instances: blocks.map { Int64($0[i].bitPattern) }) }
            sim.evaluate()
            sim.clock()
            for (k, x) in blocks.enumerated() {
                let want = try q.quantize(x, rows: 1, columns: blockSize)
                let scale = Self.read(sim, unit.scale, instance: k)
                let codes = unit.codes.map { Self.read(sim, $0, instance: k) }
                if scale != UInt64(want.blockScales[0]) || codes != want.codes.map(UInt64.init) {
                    mismatches.append("\(x.map(\.bitPattern)): scale \(scale) vs \(want.blockScales[0]), codes \(codes) vs \(want.codes)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(rule): \(mismatches.count) blocks differ, first: \(mismatches.first ?? "")")
    }

    /// The netlist against the exact reference of the vector unit, on every level-1 case and 256
    /// random ones: the lines `rtl-reference/block_quantizer.v` is simulated against.
    @Test(arguments: BlockQuantizerVectors.blockSizes, MXScaleRule.deterministic)
    func theNetlistPassesItsVectors(blockSize: Int, rule: MXScaleRule) throws {
        let vectors = try BlockQuantizerVectors(blockSize: blockSize, scaleRule: rule)
        let unit = BlockQuantizerDatapath(blockSize: blockSize, scaleRule: rule)
        let sim = Simulator(unit.netlist, countsToggles: false)
        let cases = (0..<(vectors.levelOneCaseCount + 256)).map { vectors.makeCase($0, seed: 7) }
        var failed = 0
        for start in stride(from: 0, to: cases.count, by: 64) {
            let batch = Array(cases[start..<min(cases.count, start + 64)])
            for i in 0..<blockSize { sim.set(unit.inputs[i], instances: batch.map { Int64($0.lines[0][i]) }) }
            sim.evaluate()
            sim.clock()
            for (k, c) in batch.enumerated() {
                let expected = vectors.exact(c).outputs[0]
                let got = [Self.read(sim, unit.scale, instance: k)] + unit.codes.map { Self.read(sim, $0, instance: k) }
                if got != expected { failed += 1 }
            }
        }
        #expect(failed == 0, "\(rule): \(failed) of \(cases.count) blocks differ")
    }
}
