import Testing
import Formats
import Exact

@Suite struct LevelFormatTests {
    /// Every code of every format decodes and re-encodes to itself (reserved and duplicate
    /// codes aside), under every deterministic rule, via the oracle.
    @Test(arguments: LevelFormat.presets)
    func everyCodeRoundTrips(format: LevelFormat) {
        for code in 0..<format.codeCount {
            let level = format.halfSteps[code]
            if format.reserved[code] || format.code(forHalfSteps: level) != UInt8(code) { continue }
            for rule in RoundingRule.deterministic {
                let d = Oracle.level(of: Rational(level, 2), in: format, rounding: rule)
                #expect(d.code == UInt8(code) && !d.saturated, "\(format) code \(code) under \(rule) gave \(d)")
            }
        }
    }

    @Test func dint4TableIsTheBriefsDecision() {
        let f = LevelFormat.dint4
        #expect(f.sortedLevels == [-12, -10, -8, -6, -4, -2, -1, 0, 1, 2, 4, 6, 8, 10, 12])
        #expect(f.reserved.enumerated().filter(\.element).map(\.offset) == [8])
        #expect(f.decodeHalfSteps(8) == 0)
        #expect(f.decodeHalfSteps(7) == 1 && f.decodeHalfSteps(15) == -1)
        #expect(f.zeroCode == 0 && f.isSymmetric && f.maxHalfSteps == 12)
    }

    @Test func integerFormatsHaveTheirRanges() {
        #expect(LevelFormat.int4.sortedLevels == Array(-8...7).map { 2 * $0 })
        #expect(LevelFormat.int4Symmetric.sortedLevels == Array(-7...7).map { 2 * $0 })
        #expect(LevelFormat.int8.sortedLevels == Array(-128...127).map { 2 * $0 })
        #expect(LevelFormat.int8Symmetric.sortedLevels == Array(-127...127).map { 2 * $0 })
        #expect(LevelFormat.uint3.sortedLevels == Array(0...7).map { 2 * $0 })
        #expect(LevelFormat.uint4.sortedLevels == Array(0...15).map { 2 * $0 })
        // Two's complement codes: the code of −1 is all ones.
        #expect(LevelFormat.int8.code(forHalfSteps: -2) == 0xFF)
        #expect(LevelFormat.int4.code(forHalfSteps: -16) == 0x8)
        #expect(LevelFormat.int4Symmetric.code(forHalfSteps: -16) == nil)
    }

    /// The tie table of the brief (§1) and of NVIDIA's E2M1 threshold table, on the oracle.
    @Test func tiesFollowTheBriefUnderToNearestOrEven() {
        let f = LevelFormat.dint4
        let expectations: [(Rational, Int)] = [
            (Rational(1, 4), 0), (Rational(3, 4), 2), (Rational(3, 2), 4), (Rational(5, 2), 4),
            (Rational(7, 2), 8), (Rational(9, 2), 8), (Rational(11, 2), 12),
        ]
        for (v, half) in expectations {
            #expect(Oracle.level(of: v, in: f, rounding: .toNearestOrEven).halfSteps == half, "\(v)")
            #expect(Oracle.level(of: -v, in: f, rounding: .toNearestOrEven).halfSteps == -half, "-\(v)")
        }
        // E2M1 levels {0, ½, 1, 1½, 2, 3, 4, 6} in half-steps: thresholds of the brief's §4.
        let e2m1 = try! LevelFormat.codeBook(name: "e2m1", halfSteps: [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], reservedCodes: [8])
        let table: [(Rational, Int)] = [
            (Rational(1, 4), 0), (Rational(3, 4), 2), (Rational(5, 4), 2), (Rational(7, 4), 4),
            (Rational(5, 2), 4), (Rational(7, 2), 8), (Rational(5), 8), (Rational(7), 12),
        ]
        for (v, half) in table { #expect(Oracle.level(of: v, in: e2m1, rounding: .toNearestOrEven).halfSteps == half, "e2m1 \(v)") }
    }

    @Test func tiesGoAwayUnderToNearestOrAway() {
        for (v, half) in [(Rational(1, 4), 1), (Rational(3, 4), 2), (Rational(3, 2), 4), (Rational(5, 2), 6)] {
            #expect(Oracle.level(of: v, in: .dint4, rounding: .toNearestOrAway).halfSteps == half)
            #expect(Oracle.level(of: -v, in: .dint4, rounding: .toNearestOrAway).halfSteps == -half)
        }
    }

    @Test func codeBookValidation() {
        #expect(throws: FormatError.self) { try LevelFormat.codeBook(name: "short", halfSteps: [0, 1, 2]) }
        #expect(throws: FormatError.self) { try LevelFormat.codeBook(name: "nozero", halfSteps: Array(1...16)) }
        #expect(throws: FormatError.self) { try LevelFormat.codeBook(name: "huge", halfSteps: [0, 100_000] + Array(1...14)) }
        #expect(throws: FormatError.self) { try LevelFormat.codeBook(name: "badreserved", halfSteps: Array(0...15), reservedCodes: [16]) }
        let ok = try! LevelFormat.codeBook(name: "ok", halfSteps: Array(-8...7))
        #expect(ok.bitWidth == 4 && ok.maxHalfSteps == 7)
        #expect(throws: FormatError.self) { try LevelFormat.preset(named: "int5") }
    }
}
