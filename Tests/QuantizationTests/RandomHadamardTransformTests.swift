import Testing
import Formats
import Exact
import Quantization
import TensorIO
import PropertyChecking

/// The 16-point random Hadamard transform (docs/quantization.md, "Random Hadamard transform"):
/// every binary32 step against the GMP oracle, the matrix it computes, its inverse, the sign
/// generators, and the block quantizers that apply it.
@Suite struct RandomHadamardTransformTests {
    static func fl32(_ v: Rational) -> Rational { Oracle.value(ofBits: Oracle.encode(v, as: .fp32), format: .fp32)! }
    static func h16(_ i: Int, _ j: Int) -> Int { (i & j).nonzeroBitCount % 2 == 0 ? 1 : -1 }

    /// The spec's steps on rationals, each rounding named: u = s·x, four butterfly stages rounded
    /// to binary32, ×¼ rounded to binary32, then BF16 if asked.
    static func oracle(_ x: [Float], _ t: RandomHadamardTransform) -> [Rational] {
        var u = (0..<16).map { Rational(exactly: Double(x[$0]))! * Rational(Int(t.signVector[$0])) }
        var h = 1
        while h < 16 {
            for i in 0..<16 where i & h == 0 {
                let a = u[i], b = u[i + h]
                u[i] = fl32(a + b)
                u[i + h] = fl32(a - b)
            }
            h <<= 1
        }
        return u.map { z in
            let y = fl32(z * Rational(1, 4))
            return t.output == .bf16 ? Oracle.value(ofBits: Oracle.encode(y, as: .bf16), format: .bf16)! : y
        }
    }

    @Test(arguments: RandomHadamardTransform.Output.allCases)
    func everyTransformedValueEqualsTheOracle(output: RandomHadamardTransform.Output) throws {
        for signs in [RandomHadamardTransform.Signs.seeded(0), .seeded(41), .transformerEngine] {
            let t = try RandomHadamardTransform(signs: signs, output: output)
            let report = checkProperty(seed: 0x2A7 + UInt64(output == .bf16 ? 1 : 0), count: 400, generate: { s -> [Float] in
                // Mixed magnitudes (cancellation, rounding at every stage), zeros and subnormals.
                (0..<16).map { _ in
                    switch Generate.int(0...5, &s) {
                    case 0: return 0
                    case 1: return Float(sign: .plus, exponent: -140, significand: 1) * Float(Generate.int(-7...7, &s))
                    default: return Generate.float(exponents: -20...20, &s) * (Generate.bool(&s) ? -1 : 1)
                    }
                }
            }) { x in
                let y = try! t.forward(x, columns: 16)
                let want = Self.oracle(x, t)
                for j in 0..<16 where Rational(exactly: Double(y[j]))! != want[j] { return "y[\(j)] = \(y[j]) vs \(want[j])" }
                return nil
            }
            #expect(report.passed, "\(t): \(report)")
        }
    }

    /// On small integers nothing rounds: the butterflies give exactly x · diag(s) · H16 / 4, the
    /// matrix TransformerEngine builds (diag(s) @ H / √16), and the inverse returns x; ‖y‖ = ‖x‖.
    @Test func theButterfliesComputeTheMatrixAndTheInverseUndoesThem() throws {
        var s = CounterStream(seed: 16)
        for signs in [RandomHadamardTransform.Signs.seeded(3), .transformerEngine, .explicit([1, -1, 1, 1, -1, -1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1])] {
            let t = try RandomHadamardTransform(signs: signs)
            for _ in 0..<50 {
                let x = (0..<32).map { _ in Float(Generate.int(-1000...1000, &s)) }
                let y = try t.forward(x, columns: 16)
                for g in [0, 16] {
                    for j in 0..<16 {
                        var product = 0.0
                        for i in 0..<16 { product += Double(x[g + i]) * Double(t.signVector[i]) * Double(Self.h16(i, j)) }
                        #expect(Double(y[g + j]) == product / 4)
                    }
                    let back = t.inverse((0..<16).map { Double(y[g + $0]) })
                    #expect(back == (0..<16).map { Double(x[g + $0]) })
                    var energyY = 0.0, energyX = 0.0
                    for k in 0..<16 { energyY += Double(y[g + k]) * Double(y[g + k]); energyX += Double(x[g + k]) * Double(x[g + k]) }
                    #expect(energyY == energyX)
                }
            }
        }
    }

    @Test func signVectorsAreTheDocumentedOnes() throws {
        let seeded = try RandomHadamardTransform(signs: .seeded(9))
        #expect(seeded.signVector == (0..<16).map { CounterRandom(seed: 9).bits(UInt64($0)) >> 63 == 1 ? -1 : 1 })
        #expect(try RandomHadamardTransform(signs: .transformerEngine).signVector == [1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1, -1, -1])
        #expect(try RandomHadamardTransform.signs(parsing: "+1, -1\n1 1 -1 -1 1 1\t1 1 -1 1 -1 1 1 -1", source: "f") == [1, -1, 1, 1, -1, -1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1])
        #expect(throws: QuantizationError.self) { try RandomHadamardTransform.signs(parsing: "1 2", source: "f") }
        #expect(throws: QuantizationError.self) { try RandomHadamardTransform.signs(parsing: "1 -1", source: "f") }
        #expect(throws: QuantizationError.self) { try RandomHadamardTransform(parsing: "32") }
        #expect(throws: QuantizationError.self) { try RandomHadamardTransform(parsing: "16:x") }
        #expect(try RandomHadamardTransform(parsing: "16:te").signs == .transformerEngine)
        #expect(throws: QuantizationError.self) { try RandomHadamardTransform(signs: .seeded(0)).forward([1, 2], columns: 2) }
    }

    /// A block format with the RHT: codes and scales are those of the transformed tensor without
    /// it, and the error sums compare the input with the inverse transform of the dequantized values.
    @Test(arguments: ["mxfp4", "nvfp4", "nvfp4:nvidia", "nvfp4:16x16"])
    func blockFormatsQuantizeTheTransformedTensor(name: String) throws {
        let a = try Files.readNpy(Fixtures.path("minilm-l2-ffn-input-acts.npy"))
        let (_, columns) = try a.matrixShape()
        let x = Array(try a.floatValues().prefix(20 * columns))
        for rht in [try RandomHadamardTransform(signs: .transformerEngine), try RandomHadamardTransform(signs: .seeded(5), output: .bf16)] {
            let plain = try #require(try BlockFloatVariant(parsing: name))
            var v = plain
            v.rht = rht
            #expect(try BlockFloatVariant(parsing: v.name) == v, "\(v.name)")
            let r = try BlockFloatQuantizer(v).quantize(x, rows: 20, columns: columns)
            let y = try rht.forward(x, columns: columns)
            let direct = try BlockFloatQuantizer(plain).quantize(y, rows: 20, columns: columns)
            #expect(r.codes == direct.codes && r.blockScales == direct.blockScales && r.tensorScale == direct.tensorScale)
            var error = 0.0, signal = 0.0
            for row in 0..<20 {
                for g in stride(from: 0, to: columns, by: 16) {
                    let back = rht.inverse((0..<16).map { r.dequantized(row: row, column: g + $0) })
                    for k in 0..<16 {
                        let xd = Double(x[row * columns + g + k])
                        error += (xd - back[k]) * (xd - back[k]); signal += xd * xd
                    }
                }
            }
            let errorGap = abs(r.statistics.sumSquaredError - error), signalGap = abs(r.statistics.sumSquaredSignal - signal)
            #expect(errorGap <= 1e-9 * error)
            #expect(signalGap <= 1e-9 * signal)
        }
        #expect(throws: QuantizationError.self) {
            try BlockFloatQuantizer(BlockFloatVariant(.nvfp4, rht: try RandomHadamardTransform())).quantize([Float](repeating: 1, count: 24), rows: 1, columns: 24)
        }
        #expect(throws: QuantizationError.self) { try BlockFloatQuantizer(BlockFloatVariant(.nvfp4, rht: try RandomHadamardTransform()), blockSize: 8) }
    }
}
