import Testing
import Exact
import Formats
import Quantization
import PropertyChecking

/// The fast level decision equals the exact rational decision of the GMP oracle, for every
/// format and every rounding rule (stochastic included, with its draw), on generated inputs
/// that concentrate on the decision boundaries: levels, midpoints (ties), saturation.
@Suite struct LevelSelectorOracleTests {
    static let formats = LevelFormat.presets.filter { $0.minHalfSteps < 0 } + [
        try! LevelFormat.codeBook(name: "uneven", halfSteps: [0, 1, 3, 7, 16, 40, 100, 512, 0, -1, -3, -7, -16, -40, -100, -512], reservedCodes: [8]),
    ]
    static let casesPerPair = 4_000

    struct Case: CustomStringConvertible {
        let x: Float, scale: Float, draw: UInt32
        var description: String { "x=\(x) (\(x.bitPattern)) scale=\(scale) (\(scale.bitPattern)) draw=\(draw)" }
    }

    static func generate(_ format: LevelFormat) -> (inout CounterStream) -> Case {
        { s in
            let scale = Generate.scale(&s)
            let x = Generate.int(0...2, &s) == 0 ? Generate.float(&s) : Generate.nearBoundary(of: format, scale: scale, &s)
            // Draws that put 2^16·(v − lo) = r·(hi − lo) exactly at quarter positions, or random ones.
            let special: [UInt32] = [0, 0x4000, 0x8000, 0xC000, 0xFFFF]
            let draw = Generate.int(0...3, &s) == 0 ? special[Generate.int(0...4, &s)] : UInt32(s.next() >> 48)
            return Case(x: x, scale: scale, draw: draw)
        }
    }

    static func shrink(_ c: Case) -> [Case] {
        Shrink.float(c.x).map { Case(x: $0, scale: c.scale, draw: c.draw) }
            + Shrink.float(c.scale).filter { $0 > 0 }.map { Case(x: c.x, scale: $0, draw: c.draw) }
            + (c.draw > 0 ? [Case(x: c.x, scale: c.scale, draw: c.draw / 2)] : [])
    }

    @Test(arguments: formats, RoundingRule.allCases)
    func fastDecisionEqualsOracle(format: LevelFormat, rule: RoundingRule) {
        let selector = LevelSelector(format: format, rule: rule)
        let report = checkProperty(seed: 0x5E1 ^ UInt64(format.name.utf8.count) << 8 ^ UInt64(RoundingRule.allCases.firstIndex(of: rule)!),
                                   count: Self.casesPerPair, generate: Self.generate(format), shrink: Self.shrink) { c in
            let fast = selector.select(Double(c.x), scale: Double(c.scale), draw: c.draw)
            let exact = Oracle.quantize(Double(c.x), scale: Double(c.scale), format: format, rounding: rule, draw: c.draw)
            let fastCode = selector.code(atIndex: fast.index, x: Double(c.x))
            // The quantizer's table path (nearest rules) must agree too.
            if rule == .toNearestOrEven || rule == .toNearestOrAway {
                let table = selector.code(atIndex: selector.selectNearest(Double(c.x), scale: Double(c.scale)), x: Double(c.x))
                if table != exact.code { return "table path code \(table), oracle \(exact)" }
            }
            return fastCode == exact.code && fast.saturated == exact.saturated
                ? nil : "fast code \(fastCode) saturated \(fast.saturated), oracle \(exact)"
        }
        #expect(report.passed, "\(format) \(rule): \(report)")
    }
}
