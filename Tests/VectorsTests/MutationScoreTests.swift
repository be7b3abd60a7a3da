import Foundation
import Formats
import TAHQuant
import Testing
import Units
@testable import Vectors

/// `vectors score` must be a real measurement: the unmutated models pass, a wrong expected line
/// shows, every mutant differs from the spec where it applies and only there, and the sets
/// (committed, and level 1 of every decoder shape) kill every applicable mutant.
@Suite struct MutationScoreTests {
    static let committed = ["dint-mac", "dint-pe4", "int8-pe4", "fp4-mac", "fp4-pe4",
                            "hadamard-g8-fp16", "hadamard-g16-fp32", "hadamard-g32-bf16", "hadamard-g64-bf16", "hadamard-g128-fp32"]

    @Test(arguments: committed)
    func everyCommittedSetKillsEveryApplicableMutant(set: String) throws {
        let score = try MutationScore.score(directory: VectorsTests.repository + "/vectors/" + set)
        #expect(score.referenceFailures == 0)
        #expect(score.survivors.isEmpty, "\(set): \(score.survivors)")
        #expect(score.entries.contains { $0.killingLines != nil })
    }

    @Test func quantizerSetsAreRefusedWithTheReason() throws {
        #expect { try MutationScore.score(directory: VectorsTests.repository + "/vectors/quantizer-int4-rne") } throws: { e in
            "\(e)".contains("quantizer catalogue is not built yet")
        }
    }

    /// A tampered expected output is a reference failure, not a kill.
    @Test func aWrongExpectedLineIsAReferenceFailure() throws {
        let dir = VectorsTests.scratch()
        let unit = try MacVectors(try MacConfiguration(kind: .dint, lanes: 1, pipelineDepth: 2, accumulatorWidth: 16))
        _ = try VectorGenerator.generate(unit, level: 1, seed: 1, count: 0, directory: dir)
        try VectorsTests.tamper(dir, line: 300, field: "acc", xor: 1 << 2)
        #expect(try MutationScore.score(directory: dir).referenceFailures == 1)
    }

    /// The mutant model with no mutation is the decode spec (the fast decoder, itself equal to
    /// GMP), on random tiles of every shape.
    @Test func theUnmutatedDecoderModelIsTheSpec() {
        var r = CounterStream(seed: 19)
        for g in TahQuantConfiguration.tileSizes {
            for f in [BinaryFloatFormat.fp32, .bf16, .fp16] {
                var out = [UInt32](repeating: 0, count: g), scratch = [Int64](repeating: 0, count: g)
                for _ in 0..<6 {
                    let q = (0..<g).map { _ in UInt8(r.next() % 16) }, flagged = r.next() % 4 != 0, pivot = Int(r.next() % UInt64(g))
                    let scale = UInt16(1 + r.next() % 0x7bff), zero = UInt16(r.next() % 0x7c00) | UInt16(r.next() % 2) << 15
                    TahQuantDecoder.decodeTile(codes: q[...], flagged: flagged, pivot: pivot, scale: scale, zero: zero, output: f, into: &out, at: 0, scratch: &scratch)
                    #expect(DecoderMutant.decode(nil, codes: q, flagged: flagged, pivot: pivot, scale: scale, zero: zero, output: f) == out, "G \(g) \(f.name)")
                }
            }
        }
    }

    /// Level 1 of every decoder shape kills every applicable mutant; the "n/a" ones (FP16-only
    /// effects on FP32/BF16) never differ from the spec on those sets.
    @Test(arguments: [8, 16, 32])
    func levelOneKillsEveryApplicableDecoderMutant(tileSize g: Int) throws {
        for f in [BinaryFloatFormat.fp32, .bf16, .fp16] {
            let dir = VectorsTests.scratch()
            _ = try VectorGenerator.generate(try DecoderVectors(tileSize: g, output: f), level: 1, seed: 1, count: 0, directory: dir)
            let score = try MutationScore.score(directory: dir)
            #expect(score.referenceFailures == 0 && score.survivors.isEmpty, "G \(g) \(f.name): \(score.survivors)")
            let set = try VectorReplay(directory: dir)
            for m in DecoderMutant.allCases where !m.applies(tileSize: g, output: f) && m != .exactInverseSqrt2 {
                for v in set.inputs.prefix(200) {
                    let q = v[0..<g].map { UInt8($0) }
                    let mutant = m.decode(codes: q, flagged: v[g] == 1, pivot: Int(v[g + 1]), scale: UInt16(v[g + 2]), zero: UInt16(v[g + 3]), output: f)
                    let spec = DecoderMutant.decode(nil, codes: q, flagged: v[g] == 1, pivot: Int(v[g + 1]), scale: UInt16(v[g + 2]), zero: UInt16(v[g + 3]), output: f)
                    #expect(mutant == spec, "\(m.rawValue) differs on G \(g) \(f.name), declared not applicable")
                }
            }
        }
    }

    /// The tabled exact-1/√2 tiles are what the documented search looks for: with the exact
    /// factor (GMP, 256 bits) the tile decodes differently from the spec's R.
    @Test func tabledExactInverseSqrt2TilesAreSensitive() throws {
        for (g, _) in RSensitiveTiles.exactInverseSqrt2Table {
            let t = try #require(RSensitiveTiles.exactInverseSqrt2(tileSize: g, output: .fp32))
            #expect(RSensitiveTiles.confirms(.exactInverseSqrt2, t, .fp32), "G \(g)")
            #expect(t.q.reduce(0, +) <= 15 * UInt64(g) && t.q.allSatisfy { $0 <= 15 })
        }
    }
}
