import Foundation
import Testing
import Circuits
import Formats
import Units

/// `MacConfiguration`'s one serialization: every valid configuration round-trips, decoding
/// checks as the initializer does, and errors name the key at fault.
@Suite struct MacConfigurationCodingTests {
    static func decode(_ text: String) throws -> MacConfiguration { try MacConfiguration.decode(json: Data(text.utf8)) }

    @Test func everyShapeRoundTrips() throws {
        let kinds: [MacKind] = MacKind.fixed + [.codeBook(.dint4), .codeBook(.int4), .codeBook(.fp4)]
        var count = 0
        for kind in kinds {
            for lanes in [1, 3, 16, 256] {
                for depth in 1...3 {
                    for overflow in OverflowRule.allCases {
                        for multiplier in MultiplierArchitecture.allCases {
                            let tree = try MacConfiguration(kind: kind, lanes: lanes).treeWidth
                            let c = try MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: depth, accumulatorWidth: tree + depth,
                                                         overflow: overflow, multiplier: multiplier, adder: depth == 2 ? .koggeStone : .ripple)
                            let back = try Self.decode(c.json)
                            #expect(back == c, "\(c.json)")
                            #expect(back.json == c.json)
                            count += 1
                        }
                    }
                }
            }
        }
        #expect(count == kinds.count * 4 * 3 * 2 * 2)
    }

    /// The keys are the ones docs/vectors.md lists, and a fixed unit carries no code book.
    @Test func keysAreTheDocumentedOnes() throws {
        let object = try JSONSerialization.jsonObject(with: Data(try MacConfiguration(kind: .dint, lanes: 4).json.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["unit", "lanes", "pipeline_depth", "accumulator_width", "overflow", "multiplier", "adder"])
        #expect(object["unit"] as? String == "dint-mac")
        let book = try JSONSerialization.jsonObject(with: Data(try MacConfiguration(kind: .codeBook(.int4)).json.utf8)) as! [String: Any]
        #expect(book["unit"] as? String == "codebook-mac")
        #expect((book["codebook"] as? [String: Any])?["half_steps"] as? [Int] == LevelFormat.int4.halfSteps)
    }

    /// The unit-name table: names ↔ kinds both ways, in mac.v's KIND order.
    @Test func unitNameTable() throws {
        #expect(MacKind.fixed == [.int8, .dint, .fp4])
        for (kind, name) in MacKind.fixedUnits {
            #expect(MacKind(unitName: name) == kind)
            #expect(kind.unitName == name)
            #expect(try MacConfiguration(kind: kind).verilogParameters?.first?.1 == MacKind.fixed.firstIndex(of: kind))
        }
        #expect(MacKind(unitName: "codebook-mac") == nil)
        #expect(MacKind.codeBook(.dint4).unitName == "codebook-mac")
    }

    /// Defaults for the structural keys only; everything else is required and checked.
    @Test func decodingChecksAndNamesTheKey() throws {
        let base = #"{"unit": "fp4-mac", "lanes": 2, "pipeline_depth": 2, "accumulator_width": 20, "overflow": "wrap"}"#
        let c = try Self.decode(base)
        #expect(c.multiplier == .array && c.adder == .ripple && c.kind == .fp4)
        let cases: [(String, String)] = [
            (#"{"unit": "fp8-mac", "lanes": 1, "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "unknown unit 'fp8-mac'"),
            (#"{"unit": "dint-mac", "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "'lanes' is missing"),
            (#"{"unit": "dint-mac", "lanes": "4", "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "'lanes' has the wrong type"),
            (#"{"unit": "dint-mac", "lanes": 0, "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "lanes 0 is outside"),
            (#"{"unit": "dint-mac", "lanes": 1, "pipeline_depth": 4, "accumulator_width": 20, "overflow": "wrap"}"#, "pipeline depth 4"),
            (#"{"unit": "dint-mac", "lanes": 1, "pipeline_depth": 1, "accumulator_width": 11, "overflow": "wrap"}"#, "accumulator width 11"),
            (#"{"unit": "dint-mac", "lanes": 1, "pipeline_depth": 1, "accumulator_width": 20, "overflow": "clamp"}"#, "overflow"),
            (#"{"unit": "dint-mac", "codebook": {}, "lanes": 1, "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "'codebook' applies to codebook-mac"),
            (#"{"unit": "codebook-mac", "lanes": 1, "pipeline_depth": 1, "accumulator_width": 20, "overflow": "wrap"}"#, "'codebook' is missing"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try Self.decode(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(fragment), "\(text): \(error)")
            }
        }
    }
}
