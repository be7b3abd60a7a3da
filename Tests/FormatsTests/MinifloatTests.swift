import Testing
import Formats
import Exact
import Quantization
import PropertyChecking

/// The OCP minifloats (E2M1, E4M3, UE8M0) from the one codec: every code against the GMP
/// oracle's field definitions, every rounding against the oracle's scan over all codes.
@Suite struct MinifloatTests {
    @Test(arguments: BinaryFloatFormat.microscaling + [.ue5m3])
    func everyCodeDecodesToTheOracleValueAndReEncodesToItself(format: BinaryFloatFormat) {
        var mismatches: [String] = []
        for bits in UInt32(0)..<UInt32(format.codeCount) {
            let fast = format.decode(bits)
            guard let exact = Oracle.value(ofBits: bits, format: format) else {
                if !fast.isNaN || !format.isNaN(bits) { mismatches.append("\(bits): special decodes to \(fast)") }
                continue
            }
            if Rational(exactly: fast) != exact { mismatches.append("\(bits): \(fast) vs \(exact)") }
            for rule in RoundingRule.deterministic {
                for saturating in [false, true] where format.encode(fast, rounding: rule, saturating: saturating) != bits {
                    mismatches.append("\(bits) re-encodes under \(rule) to \(format.encode(fast, rounding: rule))")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func shapesAreTheOCPOnes() {
        let e2m1 = (0..<8).map { BinaryFloatFormat.e2m1.decode(UInt32($0)) }
        #expect(e2m1 == [0, 0.5, 1, 1.5, 2, 3, 4, 6])
        #expect(BinaryFloatFormat.e2m1.decode(0b1111) == -6)
        #expect(BinaryFloatFormat.e4m3.decode(BinaryFloatFormat.e4m3.maxFiniteBits) == 448)
        #expect(BinaryFloatFormat.e4m3.decode(1) == 0x1p-9)
        #expect(BinaryFloatFormat.e4m3.isNaN(0x7F) && BinaryFloatFormat.e4m3.isNaN(0xFF) && !BinaryFloatFormat.e4m3.isNaN(0x7E))
        #expect(BinaryFloatFormat.ue8m0.decode(0) == 0x1p-127 && BinaryFloatFormat.ue8m0.decode(127) == 1)
        #expect(BinaryFloatFormat.ue8m0.decode(254) == 0x1p127 && BinaryFloatFormat.ue8m0.decode(255).isNaN)
        let ue5m3 = BinaryFloatFormat.ue5m3
        #expect(ue5m3.decode(ue5m3.maxFiniteBits) == 114688 && ue5m3.decode(1) == 0x1p-17 && ue5m3.decode(8) == 0x1p-14)
        #expect(ue5m3.decode(0xFF).isNaN && ue5m3.codeCount == 256 && ue5m3.encode(0.125) == 0x60)
    }

    /// The published E2M1 round-to-nearest-even thresholds (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5;
    /// above 5 → 6): at a threshold the even neighbour, just off it the nearer one.
    @Test func e2m1ThresholdsFollowTheSpecification() {
        let f = BinaryFloatFormat.e2m1
        let thresholds: [(Double, lower: Double, upper: Double, tie: Double)] = [
            (0.25, 0, 0.5, 0), (0.75, 0.5, 1, 1), (1.25, 1, 1.5, 1), (1.75, 1.5, 2, 2),
            (2.5, 2, 3, 2), (3.5, 3, 4, 4), (5, 4, 6, 4)]
        for (t, lower, upper, tie) in thresholds {
            for sign in [1.0, -1.0] {

                #expect(f.round(sign * t.nextDown) == sign * lower)
                #expect(f.round(sign * t.nextUp) == sign * upper)
                #expect(f.round(sign * t) == sign * tie)
            }
        }
        for x in [5.000001, 6, 7, 100, 1e300] {
            #expect(f.round(x) == 6 && f.round(-x) == -6)
        }
        #expect(f.encode(.infinity) == 0b0111)
    }

    @Test(arguments: BinaryFloatFormat.microscaling + [.ue5m3])
    func roundingFromBinary64IsCorrect(format: BinaryFloatFormat) {
        let top = format.decode(format.maxFiniteBits)
        let report = checkProperty(seed: 0xF4 + UInt64(format.bitWidth), count: 20_000, generate: { s -> (Double, RoundingRule, Bool) in
            let x: Double
            switch Generate.int(0...3, &s) {
            case 0:
                // A tie between two adjacent codes, or a code itself.
                let b = UInt32(Generate.int(0...Int(format.maxFiniteBits - 1), &s))
                x = Generate.bool(&s) ? (format.decode(b) + format.decode(b + 1)) / 2 : format.decode(b)
            case 1:
                // Around the largest value and past it.
                x = top * (1 + Double(Generate.int(-64...64, &s)) / 256)
            default:
                let e = Generate.int((format.minExponent - format.fractionBits - 3)...(format.maxExponent + 2), &s)
                x = Double(sign: .plus, exponent: e, significand: 1 + Double(s.next() >> 12) * 0x1p-52)
            }
            let negative = format.isSigned && Generate.bool(&s)
            return (negative ? -x : x, RoundingRule.deterministic[Generate.int(0...4, &s)], Generate.bool(&s))
        }) { (x, rule, saturating) in
            let fast = format.encode(x, rounding: rule, saturating: saturating)
            // Rationals have no −0: the oracle's zero takes x's sign bit.
            let negativeZero: UInt32 = x == 0 && x.sign == .minus ? format.signMask : 0
            let exact = Oracle.encode(Rational(exactly: x)!, as: format, rounding: rule, saturating: saturating) | negativeZero
            return fast == exact ? nil : "\(x) \(rule) sat \(saturating): fast \(String(fast, radix: 16)) oracle \(String(exact, radix: 16))"
        }
        #expect(report.passed, "\(report)")
    }

    /// Around the subnormal/normal boundary (largest subnormal, its tie with the smallest normal,
    /// just off it): every rule, saturating or not, equals the oracle, both signs.
    @Test(arguments: [BinaryFloatFormat.e2m1, .e4m3, .fp16, .bf16])
    func subnormalBoundaryEqualsTheOracle(format: BinaryFloatFormat) {
        let largestSubnormal = format.decode(format.fractionMask), smallestNormal = format.decode(format.fractionMask + 1)
        let tie = (largestSubnormal + smallestNormal) / 2
        for x in [largestSubnormal, tie.nextDown, tie, tie.nextUp, smallestNormal, format.decode(1) / 2, format.decode(1) / 2 * 1.0000001] {
            for v in [x, -x] {
                for rule in RoundingRule.deterministic {
                    let exact = Oracle.encode(Rational(exactly: v)!, as: format, rounding: rule)
                    #expect(format.encode(v, rounding: rule) == exact, "\(format) \(v) \(rule)")
                }
            }
        }
        // Ties to even: the tie goes to the smallest normal (fraction 0), the half-smallest to 0.
        #expect(format.encode(tie) == format.fractionMask + 1 && format.encode(format.decode(1) / 2) == 0)
    }

    @Test func overflowAndSpecials() {
        let e4m3 = BinaryFloatFormat.e4m3
        #expect(e4m3.encode(460) == 0x7E)                   // below the 464 midpoint: 448
        #expect(e4m3.encode(470) == 0x7F)                   // non-saturating overflow: NaN
        #expect(e4m3.encode(470, saturating: true) == 0x7E)
        #expect(e4m3.encode(-1e9, rounding: .towardZero) == 0xFE)
        #expect(e4m3.encode(.infinity) == 0x7F && e4m3.encode(.infinity, saturating: true) == 0x7E)
        #expect(e4m3.encode(-0.0) == 0x80)
        let ue8m0 = BinaryFloatFormat.ue8m0
        #expect(ue8m0.encode(-1) == 0xFF && ue8m0.encode(.nan) == 0xFF)
        #expect(ue8m0.encode(0) == 0 && ue8m0.encode(0x1p-140) == 0)
        #expect(ue8m0.encode(0x1p127 * 1.9) == 0xFF && ue8m0.encode(0x1p127 * 1.9, saturating: true) == 0xFE)
        // Fraction-less ties go to the even exponent code: 1.5·2^0 between codes 127 and 128.
        #expect(ue8m0.encode(1.5) == 128 && ue8m0.encode(3) == 128 && ue8m0.encode(6) == 130)
    }

    /// The fp4 level format is the E2M1 codec seen as levels: quantizing with scale 1 gives the
    /// codec's saturating encoding, except that −0 is never produced.
    @Test func fp4LevelFormatIsTheE2M1Codec() {
        let f = LevelFormat.fp4
        #expect(f.sortedLevels == [-12, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 12])
        for rule in RoundingRule.deterministic {
            let selector = LevelSelector(format: f, rule: rule)
            for k in -60...60 {
                let x = Double(k) / 8
                let code = selector.code(atIndex: selector.select(x, scale: 1).index)
                var expected = UInt8(BinaryFloatFormat.e2m1.encode(x, rounding: rule, saturating: true))
                if expected == 0b1000 { expected = 0 }
                #expect(code == expected, "\(x) \(rule)")
            }
        }
    }
}
