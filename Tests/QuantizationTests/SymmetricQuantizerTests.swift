import Testing
import Exact
import Formats
import Quantization
import TensorIO
import Workloads
import PropertyChecking

@Suite struct SymmetricQuantizerTests {
    /// Every code and scale of a whole-tensor call equals the oracle's: scale = correctly rounded
    /// binary32 of max|x| / top, level of the exact x / scale. Statistics are recounted exactly.
    func checkAgainstOracle(_ values: [Float], rows: Int, columns: Int, format: LevelFormat,
                            granularity: Granularity, rule: RoundingRule, seed: UInt64 = 0) throws {
        let q = try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule, seed: seed)
        let result = try q.quantize(values, rows: rows, columns: columns)
        var groupOf = [Int](repeating: 0, count: values.count)
        switch granularity {
        case .tensor: break
        case .channel: for i in values.indices { groupOf[i] = i / columns }
        case .group(let g):
            let perRow = (columns + g - 1) / g
            for i in values.indices { groupOf[i] = (i / columns) * perRow + (i % columns) / g }
        }
        #expect(result.scales.count == result.scaleShape.reduce(1, *))
        var maxAbs = [Float](repeating: 0, count: result.scales.count)
        for i in values.indices { maxAbs[groupOf[i]] = max(maxAbs[groupOf[i]], abs(values[i])) }
        let top = Rational(format.maxHalfSteps, 2)
        for (g, m) in maxAbs.enumerated() {
            let expected = m == 0 ? 0 : Float(bitPattern: Oracle.encode(Rational(exactly: Double(m))! / top, as: .fp32))
            #expect(result.scales[g] == expected, "scale of group \(g)")
        }
        var underflow = 0, nonzero = 0, mismatches = 0
        let random = CounterRandom(seed: seed)
        for i in values.indices {
            let s = result.scales[groupOf[i]]
            let code: UInt8
            if s == 0 { code = format.zeroCode } else {
                code = Oracle.quantize(Double(values[i]), scale: Double(s), format: format, rounding: rule,
                                       draw: rule == .stochastic ? random.stochasticDraw(UInt64(i)) : 0).code
            }
            if code != result.codes[i] { mismatches += 1 }
            if values[i] != 0 { nonzero += 1; if format.decodeHalfSteps(code) == 0 { underflow += 1 } }
        }
        #expect(mismatches == 0, "\(mismatches) codes differ from the oracle")
        #expect(result.statistics.underflowCount == underflow && result.statistics.nonzeroCount == nonzero)
        #expect(result.statistics.elementCount == values.count)
    }

    @Test(arguments: [Granularity.tensor, .channel, .group(32), .group(48)], RoundingRule.allCases)
    func matchesOracleOnSyntheticWeights(granularity: Granularity, rule: RoundingRule) throws {
        for (i, format) in [LevelFormat.dint4, .int4, .int4Symmetric, .int8Symmetric].enumerated() {
            let d = Distribution.allCases[i % Distribution.allCases.count]
            try checkAgainstOracle(d.sample(rows: 8, columns: 100, seed: UInt64(i)), rows: 8, columns: 100,
                                   format: format, granularity: granularity, rule: rule, seed: 99)
        }
    }

    @Test func matchesOracleOnMiniLMWeightsAndActivations() throws {
        for (file, format) in [("minilm-l1-key-weight.npy", LevelFormat.dint4), ("minilm-l2-ffn-input-acts.npy", .int8Symmetric)] {
            let a = try Files.readNpy(Fixtures.path(file))
            let (r, c) = try a.matrixShape()
            try checkAgainstOracle(try a.floatValues(), rows: r, columns: c, format: format, granularity: .channel, rule: .toNearestOrEven)
        }
    }

    /// dINT4 exists to underflow less: on real weights and on every synthetic distribution.
    @Test func dint4UnderflowsLessThanInt4() throws {
        let a = try Files.readNpy(Fixtures.path("minilm-l1-key-weight.npy"))
        let (r, c) = try a.matrixShape()
        var tensors = [(try a.floatValues(), r, c)]
        for d in Distribution.allCases { tensors.append((d.sample(rows: 64, columns: 256, seed: 1), 64, 256)) }
        for (v, r, c) in tensors {
            let dint = try SymmetricQuantizer(format: .dint4, granularity: .channel).quantize(v, rows: r, columns: c).statistics
            let int4 = try SymmetricQuantizer(format: .int4Symmetric, granularity: .channel).quantize(v, rows: r, columns: c).statistics
            #expect(dint.underflowRate < int4.underflowRate)
        }
    }

    /// Groups never straddle rows: changing one element changes only its own group's scale and codes.
    @Test func groupsStayInsideRows() throws {
        let rows = 6, columns = 50
        var v = Distribution.gaussian.sample(rows: rows, columns: columns, seed: 4)
        let q = try SymmetricQuantizer(format: .dint4, granularity: .group(16))
        let before = try q.quantize(v, rows: rows, columns: columns)
        #expect(before.scaleShape == [6, 4])
        v[2 * columns + 49] = 1000 // last, short group of row 2
        let after = try q.quantize(v, rows: rows, columns: columns)
        for g in 0..<24 { #expect((before.scales[g] != after.scales[g]) == (g == 2 * 4 + 3), "group \(g)") }
        for i in 0..<(rows * columns) where i / columns != 2 || i % columns < 48 {
            #expect(before.codes[i] == after.codes[i])
        }
    }

    @Test func zeroTensorAndNonFinitePolicies() throws {
        let q = try SymmetricQuantizer(format: .dint4, granularity: .channel)
        let zeros = try q.quantize([0, 0, 0, 0], rows: 2, columns: 2)
        #expect(zeros.scales == [0, 0] && zeros.codes == [0, 0, 0, 0] && zeros.statistics.underflowCount == 0)
        #expect(throws: QuantizationError.nonFinite(index: 1, value: .infinity)) { try q.quantize([1, .infinity], rows: 1, columns: 2) }
        #expect(throws: QuantizationError.self) { try q.quantize([1, .nan], rows: 1, columns: 2) }
        #expect(throws: QuantizationError.self) { try q.quantize([1, 2, 3], rows: 2, columns: 2) }
        let zeroed = try SymmetricQuantizer(format: .dint4, granularity: .tensor, nonFinite: .zero).quantize([3, .nan, -.infinity, -6], rows: 1, columns: 4)
        #expect(zeroed.scales == [1] && zeroed.codes == [3, 0, 0, 14])
        let saturated = try SymmetricQuantizer(format: .dint4, granularity: .tensor, nonFinite: .saturate).quantize([3, .nan, -.infinity, 6], rows: 1, columns: 4)
        #expect(saturated.scales == [1] && saturated.codes == [3, 0, 14, 6] && saturated.statistics.clipCount == 1)
        #expect(throws: QuantizationError.self) { try SymmetricQuantizer(format: .uint4, granularity: .tensor) }
        // A max so small that max / top underflows binary32: the scale is raised to 2^-149.
        let tiny = try q.quantize([Float.leastNonzeroMagnitude, 0], rows: 1, columns: 2)
        #expect(tiny.scales == [.leastNonzeroMagnitude] && tiny.codes[0] == 1) // x / s = 1 step
    }

    /// Stochastic rounding: the same seed gives the same codes; another seed differs; and the
    /// fraction of round-ups of a value at fractional position f between two levels is within
    /// 5σ of its exact probability ⌈2^16·f⌉ / 2^16 (σ = √(p(1−p)/n)).
    @Test func stochasticRoundingIsReproducibleAndUnbiased() throws {
        let n = 100_000
        let scale: Float = 1
        for (position, format) in [(Float(2.3), LevelFormat.dint4), (0.3, .dint4), (0.125, .int4Symmetric), (-4.75, .int8Symmetric)] {
            // The tensor's max must make the scale 1: put the top level in the first element.
            var v = [Float](repeating: position * scale, count: n)
            v[0] = Float(format.maxHalfSteps) / 2
            let q1 = try SymmetricQuantizer(format: format, granularity: .tensor, rounding: .stochastic, seed: 5)
            let a = try q1.quantize(v, rows: 1, columns: n), b = try q1.quantize(v, rows: 1, columns: n)
            #expect(a.codes == b.codes && a.scales == [1])
            let c = try SymmetricQuantizer(format: format, granularity: .tensor, rounding: .stochastic, seed: 6).quantize(v, rows: 1, columns: n)
            #expect(a.codes != c.codes)
            let steps = Rational(exactly: Double(position))!.timesPowerOfTwo(1)
            let lo = format.sortedLevels.last { Rational($0) <= steps }!, hi = format.sortedLevels.first { Rational($0) > steps }!
            let f = (steps - Rational(lo)) / Rational(hi - lo)
            let p = (f.timesPowerOfTwo(16).floorAndFraction.floor.intValue! + (f.timesPowerOfTwo(16).isInteger ? 0 : 1))
            let exactP = Double(p) / 65536
            let ups = a.codes.dropFirst().filter { format.decodeHalfSteps($0) == hi }.count
            let downs = a.codes.dropFirst().filter { format.decodeHalfSteps($0) == lo }.count
            #expect(ups + downs == n - 1)
            let sigma = (exactP * (1 - exactP) / Double(n - 1)).squareRoot()
            #expect(abs(Double(ups) / Double(n - 1) - exactP) < 5 * sigma, "\(format) at \(position): \(ups) ups")
            // Hence the mean quantization error is within 5σ·gap + 2^-16·gap of zero.
            let meanError = (Double(ups) * Double(hi) + Double(downs) * Double(lo)) / 2 / Double(n - 1) - Double(position)
            #expect(abs(meanError) < (5 * sigma + 1.0 / 65536) * Double(hi - lo) / 2)
        }
    }
}

enum Fixtures {
    /// fixtures/ at the repository root, found from this source file's path.
    static func path(_ name: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("fixtures/minilm/\(name)").path
    }
}

import Foundation
