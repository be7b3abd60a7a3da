import Testing
import Exact
import Formats
import Quantization
import PropertyChecking

/// Properties of level decisions, each checked on generated inputs with the oracle deciding.
@Suite struct QuantizerPropertyTests {
    static let symmetricFormats: [LevelFormat] = [.dint4, .int4Symmetric, .int8Symmetric]
    static let nearest: [RoundingRule] = [.toNearestOrEven, .toNearestOrAway]

    static func level(_ x: Float, _ s: Float, _ f: LevelFormat, _ rule: RoundingRule, draw: UInt32 = 0) -> Int {
        let sel = LevelSelector(format: f, rule: rule)
        return Int(sel.halfSteps(atIndex: sel.select(Double(x), scale: Double(s), draw: draw).index))
    }

    @Test(arguments: LevelFormat.presets.filter { $0.minHalfSteps < 0 }, RoundingRule.deterministic)
    func monotonic(format: LevelFormat, rule: RoundingRule) {
        let report = checkProperty(seed: 10, count: 3_000, generate: { s -> (Float, Float, Float) in
            let scale = Generate.scale(exponents: -20...20, &s)
            let a = Generate.nearBoundary(of: format, scale: scale, &s), b = Generate.nearBoundary(of: format, scale: scale, &s)
            return (min(a, b), max(a, b), scale)
        }) { (a, b, s) in
            Self.level(a, s, format, rule) <= Self.level(b, s, format, rule) ? nil : "not monotonic"
        }
        #expect(report.passed, "\(report)")
    }

    /// A value that is exactly a level (x = level · scale) quantizes to that level, under every rule.
    @Test(arguments: LevelFormat.presets.filter { $0.minHalfSteps < 0 }, RoundingRule.allCases)
    func idempotentOnLevels(format: LevelFormat, rule: RoundingRule) {
        let report = checkProperty(seed: 11, count: 2_000, generate: { s -> (Int, Float) in
            (format.sortedLevels[Generate.int(0...(format.sortedLevels.count - 1), &s)], Generate.scale(exponents: -100...100, &s))
        }) { (h, s) in
            let x = Float(Double(h) / 2 * Double(s))
            guard Double(x) == Double(h) / 2 * Double(s) else { return nil } // level not representable at this scale
            let draw = UInt32(truncatingIfNeeded: h &* 2654435761) & 0xFFFF
            return Self.level(x, s, format, rule, draw: draw) == h ? nil : "level \(h) moved"
        }
        #expect(report.passed, "\(report)")
    }

    @Test(arguments: symmetricFormats, nearest + [.towardZero])
    func signSymmetric(format: LevelFormat, rule: RoundingRule) {
        let report = checkProperty(seed: 12, count: 3_000, generate: { s -> (Float, Float) in
            let scale = Generate.scale(&s)
            return (Generate.nearBoundary(of: format, scale: scale, &s), scale)
        }, shrink: { p in Shrink.float(p.0).map { ($0, p.1) } }) { (x, s) in
            Self.level(-x, s, format, rule) == -Self.level(x, s, format, rule) ? nil : "q(-x) != -q(x)"
        }
        #expect(report.passed, "\(report)")
    }

    /// dINT4 underflows (rounds a non-zero value to 0) exactly when |x/s| < ¼ step (= ¼ is a tie
    /// that goes to 0 under even, to ½ under away); INT4 exactly when |x/s| < ½ (½: 0 / 1).
    @Test func underflowBoundaries() {
        for (format, boundary) in [(LevelFormat.dint4, Rational(1, 4)), (.int4, Rational(1, 2)), (.int4Symmetric, Rational(1, 2))] {
            let report = checkProperty(seed: 13, count: 5_000, generate: { s -> (Float, Float) in
                let scale = Generate.scale(exponents: -60...60, &s)
                // Around the boundary: boundary · scale, nudged by up to 4 ulps either way.
                var x = Float(boundary.approximateDouble * Double(scale))
                for _ in 0..<Generate.int(0...4, &s) { x = Generate.bool(&s) ? x.nextUp : x.nextDown }
                return (Generate.bool(&s) ? -x : x, scale)
            }) { (x, s) in
                let v = (Rational(exactly: Double(x))! / Rational(exactly: Double(s))!).magnitude
                for rule in Self.nearest {
                    let zero = Self.level(x, s, format, rule) == 0
                    let expected = v < boundary || (v == boundary && rule == .toNearestOrEven)
                    if zero != expected { return "\(format) \(rule): |x/s| = \(v), became zero: \(zero)" }
                }
                return nil
            }
            #expect(report.passed, "\(report)")
        }
    }

    /// Beyond the top level every rule saturates to the outermost level of the same sign.
    @Test(arguments: LevelFormat.presets.filter { $0.minHalfSteps < 0 }, RoundingRule.allCases)
    func saturates(format: LevelFormat, rule: RoundingRule) {
        let report = checkProperty(seed: 14, count: 2_000, generate: { s -> (Float, Float) in
            let scale = Generate.scale(exponents: -60...60, &s)
            let factor = 1 + Double(Generate.int(1...1 << 20, &s)) / 1024
            return (Float(Double(format.maxHalfSteps) / 2 * Double(scale) * factor) * (Generate.bool(&s) ? -1 : 1), scale)
        }) { (x, s) in
            guard x.isFinite, abs(Double(x)) > Double(format.maxHalfSteps) / 2 * Double(s) else { return nil }
            let expected = x > 0 ? format.maxHalfSteps : format.minHalfSteps
            return Self.level(x, s, format, rule, draw: 0xFFFF) == expected ? nil : "did not saturate"
        }
        #expect(report.passed, "\(report)")
    }
}
