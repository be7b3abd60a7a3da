import Formats
import Quantization
import Testing
@testable import Vectors

/// The fast flags of `LevelDecision` (what the C ABI returns) equal the GMP oracle's flags of the
/// quantizer vectors on 600 level-1 cases spread over the list and 800 random ones, for each format and rule.
@Suite struct LevelDecisionTests {
    @Test(arguments: [LevelFormat.dint4, .int4, .fp4, .int8Symmetric, .int4Symmetric], RoundingRule.allCases)
    func flagsEqualTheOracles(format: LevelFormat, rule: RoundingRule) {
        let unit = QuantizerVectors(format: format, rule: rule)
        let total = unit.caseCount(level: 2, count: 800)
        let step = max(1, unit.levelOneCaseCount / 600)
        let indices = Array(stride(from: 0, to: unit.levelOneCaseCount, by: step)) + Array(unit.levelOneCaseCount..<total)
        var mismatches = 0
        for index in indices {
            let c = unit.makeCase(index, seed: 11)
            let exact = unit.exact(c)
            let v = c.lines[0]
            let d = LevelDecision(format: format, rule: rule, x: Float(bitPattern: UInt32(v[0])), scale: Float(bitPattern: UInt32(v[1])), draw: UInt32(v[2]))
            if UInt64(d.code) != exact.outputs[0][0] || UInt64(d.flags) != exact.flags[0] {
                mismatches += 1
                if mismatches <= 3 { Issue.record("case \(index): code \(d.code) flags \(d.flags), oracle \(exact.outputs[0][0]) \(exact.flags[0])") }
            }
        }
        #expect(mismatches == 0)
        #expect(LevelDecision.flagNames == QuantizerVectors.flags)
    }
}
