import Testing
import Formats
import Exact
import PropertyChecking

/// FP32 → FP16/BF16 and binary64 → FP32 conversion, under every deterministic rule, equals the
/// GMP oracle's correctly rounded result (subnormals, overflow to infinity, ties included).
@Suite struct FloatConversionPropertyTests {
    static let cases = 20_000

    @Test(arguments: [BinaryFloatFormat.fp16, .bf16])
    func fp32ToNarrowFormatIsCorrectlyRounded(format: BinaryFloatFormat) {
        let report = checkProperty(seed: 0xF16 + UInt64(format.fractionBits), count: Self.cases, generate: { s -> (Float, RoundingRule) in
            // Exponents around the target's whole range, subnormals and overflow included.
            let x: Float
            if Generate.int(0...3, &s) == 0 {
                // Exactly halfway between two adjacent target values (a tie); exact in binary32.
                let b = UInt32(Generate.int(0...Int(format.maxFiniteBits - 1), &s))
                x = Float((format.decode(b) + format.decode(b + 1)) / 2)
            } else {
                x = Generate.float(exponents: (format.minExponent - format.fractionBits - 3)...(format.maxExponent + 2), &s)
            }
            let rule = RoundingRule.deterministic[Generate.int(0...4, &s)]
            return (Generate.bool(&s) ? -x : x, rule)
        }, shrink: { p in Shrink.float(p.0).map { ($0, p.1) } }) { (x, rule) in
            let fast = format.encode(Double(x), rounding: rule)
            let exact = Oracle.encode(Rational(exactly: Double(x))!, as: format, rounding: rule)
            return fast == exact ? nil : "\(x) under \(rule): fast \(String(fast, radix: 16)) oracle \(String(exact, radix: 16))"
        }
        #expect(report.passed, "\(report)")
    }

    @Test func doubleToFP32IsCorrectlyRoundedAndMatchesSwift() {
        let report = checkProperty(seed: 0xF32, count: Self.cases, generate: { s -> (Double, RoundingRule) in
            let x: Double
            if Generate.int(0...3, &s) == 0 {
                // Halfway between two adjacent binary32 values: a tie, exact in binary64.
                let f = abs(Generate.float(&s))
                x = (Double(f) + Double(f.nextUp.isFinite ? f.nextUp : f)) / 2 * (Generate.bool(&s) ? -1 : 1)
            } else {
                let e = Generate.int(-160...130, &s)
                x = Double(sign: Generate.bool(&s) ? .minus : .plus, exponent: e,
                           significand: 1 + Double(s.next() >> 12) * 0x1p-52)
            }
            return (x, RoundingRule.deterministic[Generate.int(0...4, &s)])
        }) { (x, rule) in
            let fast = BinaryFloatFormat.fp32.encode(x, rounding: rule)
            let exact = Oracle.encode(Rational(exactly: x)!, as: .fp32, rounding: rule)
            if fast != exact { return "\(x) \(rule): fast \(fast) oracle \(exact)" }
            if rule == .toNearestOrEven && fast != Float(x).bitPattern { return "\(x): differs from Float(Double)" }
            return nil
        }
        #expect(report.passed, "\(report)")
    }

    @Test func specialValues() {
        for f in BinaryFloatFormat.all {
            #expect(f.isNaN(f.encode(.nan)))
            #expect(f.encode(.infinity) == f.infinityBits)
            #expect(f.encode(-.infinity) == f.signMask | f.infinityBits)
            #expect(f.encode(-0.0) == f.signMask)
            let big = f.decode(f.maxFiniteBits) * 2
            #expect(f.encode(big, rounding: .towardZero) == f.maxFiniteBits)
            #expect(f.encode(big, rounding: .down) == f.maxFiniteBits)
            #expect(f.encode(-big, rounding: .down) == f.signMask | f.infinityBits)
            #expect(f.encode(big) == f.infinityBits)
        }
    }
}
