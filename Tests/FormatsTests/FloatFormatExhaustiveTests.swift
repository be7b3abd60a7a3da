import Testing
import Formats
import Exact

/// Every FP16 and BF16 bit pattern, decoded by the fast codec, equals the value the GMP oracle
/// computes from the IEEE field definitions; and re-encoding gives the same bits.
@Suite struct FloatFormatExhaustiveTests {
    @Test(arguments: [BinaryFloatFormat.fp16, .bf16])
    func everyPatternDecodesToTheOracleValue(format: BinaryFloatFormat) {
        var mismatches: [String] = []
        for bits in UInt32(0)..<(1 << 16) {
            let fast = format.decode(bits)
            if let exact = Oracle.value(ofBits: bits, format: format) {
                if Rational(exactly: fast) != exact { mismatches.append("\(bits): \(fast) vs \(exact)") }
                for rule in RoundingRule.deterministic where format.encode(fast, rounding: rule) != bits {
                    mismatches.append("\(bits) re-encodes under \(rule) to \(format.encode(fast, rounding: rule))")
                }
            } else {
                let isNaN = bits & format.exponentMask == format.exponentMask && bits & format.fractionMask != 0
                if isNaN != fast.isNaN || (!isNaN && !fast.isInfinite) { mismatches.append("\(bits): special \(fast)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func fp16DecodeAgreesWithSwiftFloat16() {
        for bits in UInt16(0)...UInt16.max {
            let ours = BinaryFloatFormat.fp16.decode(UInt32(bits))
            let swift = Double(Float16(bitPattern: bits))
            #expect(ours.bitPattern == swift.bitPattern || (ours.isNaN && swift.isNaN))
        }
    }

    @Test func fp32PatternsAcrossTheRangeRoundTrip() {
        // Every exponent, with fractions 0, 1, a middle value and all ones, both signs.
        for sign in [UInt32(0), 0x8000_0000] {
            for e in UInt32(0)..<255 {
                for f in [UInt32(0), 1, 0x40_0000, 0x12_3456, 0x7F_FFFF] {
                    let bits = sign | e << 23 | f
                    let exact = Oracle.value(ofBits: bits, format: .fp32)!
                    let d = BinaryFloatFormat.fp32.decode(bits)
                    #expect(Rational(exactly: d) == exact)
                    #expect(d == Double(Float(bitPattern: bits)))
                    #expect(BinaryFloatFormat.fp32.encode(d) == bits)
                }
            }
        }
    }
}
