import Testing
import Formats
import Exact
import Quantization
import PropertyChecking

/// The sign of zero (docs/quantization.md, "Sign of zero"): under `keep` a value with its sign
/// bit set that lands on level 0 gets the format's negative-zero code, under `flush` +0; every
/// code of a per-channel quantization against the GMP oracle under both rules.
@Suite struct SignedZeroTests {
    @Test func negativeZeroCodesOfThePresets() {
        #expect(LevelFormat.fp4.negativeZeroCode == 0b1000)
        #expect(LevelFormat.dint4.negativeZeroCode == nil) // 1000 is reserved
        #expect(LevelFormat.int4.negativeZeroCode == nil && LevelFormat.int8.negativeZeroCode == nil)
    }

    @Test(arguments: [LevelFormat.fp4, .dint4, .int4], SignedZero.allCases)
    func everyCodeEqualsTheOracle(format: LevelFormat, signedZero: SignedZero) throws {
        let q = try SymmetricQuantizer(format: format, granularity: .channel, signedZero: signedZero)
        let report = checkProperty(seed: 0x5160 + UInt64(format.bitWidth), count: 40, generate: { s -> [Float] in
            // Small values of both signs (many land on 0), −0.0, and one large value per row.
            (0..<32).map { i in i == 0 ? 8 : i == 1 ? -0.0 : Generate.float(exponents: -12...1, &s) * (Generate.bool(&s) ? -1 : 1) }
        }) { x in
            guard let r = try? q.quantize(x, rows: 1, columns: x.count) else { return "threw" }
            for (i, v) in x.enumerated() {
                let d = Oracle.quantize(Double(v), scale: Double(r.scales[0]), format: format, rounding: .toNearestOrEven, signedZero: signedZero)
                if r.codes[i] != d.code { return "element \(i) = \(v): code \(r.codes[i]), oracle \(d.code)" }
            }
            return nil
        }
        #expect(report.passed, "\(report)")
    }

    @Test func keepAndFlushOnKnownValues() throws {
        // Scale 8/6 per row: −0.25 / (4/3) = −0.1875 steps rounds to 0; −0.0 stays 0.
        let x: [Float] = [8, -0.25, -0.0, 0, 0.25]
        let keep = try SymmetricQuantizer(format: .fp4, granularity: .tensor).quantize(x, rows: 1, columns: 5)
        let flush = try SymmetricQuantizer(format: .fp4, granularity: .tensor, signedZero: .flush).quantize(x, rows: 1, columns: 5)
        #expect(keep.codes == [0b0111, 0b1000, 0b1000, 0, 0])
        #expect(flush.codes == [0b0111, 0, 0, 0, 0])
        // The statistics do not depend on the rule: the values are equal.
        #expect(keep.statistics == flush.statistics)
        // dINT4 never produces its reserved 1000.
        let d = try SymmetricQuantizer(format: .dint4, granularity: .tensor).quantize(x, rows: 1, columns: 5)
        #expect(!d.codes.contains(0b1000))
    }

    @Test(arguments: BlockFloatScheme.allCases)
    func blockFormatsUnderFlushEqualTheOracle(scheme: BlockFloatScheme) throws {
        let q = try BlockFloatQuantizer(scheme: scheme, signedZero: .flush)
        var s = CounterStream(seed: 21)
        let x = BlockFloatQuantizerTests.tensor(&s, rows: 6, columns: 70, scheme: scheme)
        let r = try q.quantize(x, rows: 6, columns: 70)
        #expect(BlockFloatQuantizerTests.oracleMismatch(r, input: x, rule: .toNearestOrEven, signedZero: .flush) == nil)
        #expect(!r.codes.contains(0b1000))
        let kept = try BlockFloatQuantizer(scheme: scheme).quantize(x, rows: 6, columns: 70)
        #expect(kept.codes.contains(0b1000))
    }
}
