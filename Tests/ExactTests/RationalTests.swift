import Testing
import Exact
import Formats
import PropertyChecking

@Suite struct RationalTests {
    /// Field operations agree with exact Int arithmetic on small operands.
    @Test func arithmeticMatchesIntegerCrossMultiplication() {
        let report = checkProperty(seed: 1, count: 5_000, generate: { s in
            (Generate.int(-1000...1000, &s), Generate.int(1...1000, &s), Generate.int(-1000...1000, &s), Generate.int(1...1000, &s))
        }) { (a, b, c, d) in
            let x = Rational(a, b), y = Rational(c, d)
            if x + y != Rational(a * d + c * b, b * d) { return "sum" }
            if x - y != Rational(a * d - c * b, b * d) { return "difference" }
            if x * y != Rational(a * c, b * d) { return "product" }
            if c != 0 && x / y != Rational(a * d, b * c) { return "quotient" }
            if (x < y) != (a * d < c * b) { return "order" }
            let (fl, fr) = x.floorAndFraction
            let expectedFloor = a >= 0 ? a / b : -((-a + b - 1) / b)
            if fl != BigInteger(expectedFloor) || fr != x - Rational(expectedFloor) { return "floor" }
            return nil
        }
        #expect(report.passed, "\(report)")
    }

    /// Doubles convert exactly: the rational's binary exponent and approximate value give back x.
    @Test func doublesConvertExactly() {
        let report = checkProperty(seed: 2, count: 5_000, generate: { s in
            Double(Generate.float(&s)) * (1 + Double(s.next() >> 40) * 0x1p-30)
        }) { x in
            guard let r = Rational(exactly: x) else { return "nil" }
            if x == 0 { return r.signum == 0 ? nil : "zero" }
            if r.approximateDouble != x { return "back to double: \(r.approximateDouble)" }
            if r.binaryExponent != Int(x.exponent) { return "exponent \(r.binaryExponent) vs \(x.exponent)" }
            return nil
        }
        #expect(report.passed, "\(report)")
        #expect(Rational(exactly: .nan) == nil && Rational(exactly: .infinity) == nil)
        #expect(Rational(exactly: 0.1)!.description == "3602879701896397/36028797018963968")
    }

    @Test func parsingAndBigValues() {
        #expect(Rational("6/4") == Rational(3, 2))
        #expect(Rational("-7") == Rational(-7))
        #expect(Rational("1/0") == nil && Rational("x") == nil && Rational("1/2/3") == nil)
        let big = BigInteger(1).shiftedLeft(200)
        #expect(big.magnitudeBitWidth == 201 && big.intValue == nil)
        #expect((big - big) == BigInteger(0))
        #expect(Rational(big, BigInteger(3)).floorAndFraction.fraction == Rational(1, 3)) // 2^200 ≡ 1 (mod 3)
    }

    /// The oracle's rounding to binary32 picks the nearest float by exact comparison with its
    /// neighbours (ties to the even significand): checked for arbitrary rationals p/q.
    @Test func oracleFP32RoundingIsNearest() {
        let report = checkProperty(seed: 3, count: 3_000, generate: { s in
            (Generate.int(-(1 << 40)...(1 << 40), &s), Generate.int(1...(1 << 40), &s), Generate.int(-140...100, &s))
        }) { (p, q, k) in
            let r = Rational(p, q).timesPowerOfTwo(k)
            let bits = Oracle.encode(r, as: .fp32)
            let chosen = Oracle.value(ofBits: bits, format: .fp32)!
            let f = Float(bitPattern: bits)
            for neighbour in [f.nextUp, f.nextDown] where neighbour.isFinite {
                let n = Rational(exactly: Double(neighbour))!
                let dc = (chosen - r).magnitude, dn = (n - r).magnitude
                if dn < dc { return "neighbour \(neighbour) is nearer than \(f)" }
                if dn == dc && bits & 1 == 1 { return "tie not sent to even at \(f)" }
            }
            return nil
        }
        #expect(report.passed, "\(report)")
    }
}
