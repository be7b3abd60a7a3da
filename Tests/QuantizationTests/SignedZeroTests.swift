import Testing
import Formats
import Exact
import Quantization
import PropertyChecking

/// The sign of zero (docs/quantization.md, "Sign of zero"): under `keep` a value with its sign
/// bit set that lands on level 0 gets the format's negative-zero code, under `flush` +0, under
/// `sign-of-value` the negative-zero code when the binary32 quotient is negative; every code of a
/// per-channel quantization against the GMP oracle under each rule.
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

    /// sign-of-value reads the binary32 quotient: −0.0 is zero, and so is a negative value whose
    /// quotient underflows binary32 (|x / scale| ≤ 2^−150); other negatives keep 1000.
    @Test func signOfValueOnKnownValues() throws {
        let x: [Float] = [0x1p30, -0.25, -0.0, 0, -0x1p-140, -1]
        let q = try SymmetricQuantizer(format: .fp4, granularity: .tensor, signedZero: .signOfValue)
        let r = try q.quantize(x, rows: 1, columns: x.count)
        #expect(r.codes == [0b0111, 0b1000, 0, 0, 0, 0b1000])
        #expect(try SymmetricQuantizer(format: .fp4, granularity: .tensor).quantize(x, rows: 1, columns: x.count).codes == [0b0111, 0b1000, 0b1000, 0, 0b1000, 0b1000])
        for (i, v) in x.enumerated() {
            #expect(r.codes[i] == Oracle.quantize(Double(v), scale: Double(r.scales[0]), format: .fp4, rounding: .toNearestOrEven, signedZero: .signOfValue).code)
        }
    }

    /// The block formats under sign-of-value against the oracles, with every element division, on
    /// blocks whose max is 2^100 beside negatives down to −2^−100 (their quotients underflow) and −0.0.
    @Test(arguments: ["mxfp4:sign-of-value", "nvfp4:sign-of-value", "nvfp4:reciprocal:sign-of-value", "nvfp4:quotient:sign-of-value",
                      "nvfp4:global-over-block:sign-of-value", "nvfp4:compressed-tensors", "mxfp4:compressed-tensors"])
    func blockFormatsUnderSignOfValueEqualTheOracle(name: String) throws {
        let v = try #require(try BlockFloatVariant(parsing: name))
        var s = CounterStream(seed: 77)
        let rows = 4, columns = 64
        var x = (0..<(rows * columns)).map { _ in Generate.float(exponents: -100...90, &s) * (Generate.bool(&s) ? -1 : 1) }
        for i in stride(from: 0, to: x.count, by: 16) { x[i] = 0x1p100 }
        x[5] = -0.0
        let r = try BlockFloatQuantizer(v).quantize(x, rows: rows, columns: columns)
        let failure = v.scheme == .mxfp4
            ? BlockFloatQuantizerTests.oracleMismatch(r, input: x, rule: .toNearestOrEven, mxScale: v.mxScale, signedZero: .signOfValue)
            : NVFP4ConventionTests.mismatch(r, input: x, variant: v, rule: .toNearestOrEven)
        #expect(failure == nil, "\(name): \(failure ?? "")")
        var kept = v
        kept.signedZero = .keep
        let keep = try BlockFloatQuantizer(kept).quantize(x, rows: rows, columns: columns)
        let differ = x.indices.filter { r.codes[$0] != keep.codes[$0] }
        #expect(differ.count > 1 && differ.allSatisfy { r.codes[$0] == 0 && keep.codes[$0] == 0b1000 }, "\(name): \(differ.count)")
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
