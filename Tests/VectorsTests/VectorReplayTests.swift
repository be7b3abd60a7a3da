import Foundation
import Testing
import Units
@testable import Vectors

/// The throughput replay (docs/performance.md) must be a real check: every model passes the
/// committed sets, however the stream is cut into segments, and a wrong expected value fails.
@Suite struct VectorReplayTests {
    static let sets = ["dint-mac", "int8-pe4", "dint-pe4", "hadamard-g8-fp16", "hadamard-g16-fp32"]

    @Test(arguments: sets)
    func everyModelPassesACommittedSet(set: String) throws {
        let replay = try VectorReplay(directory: VectorsTests.repository + "/vectors/" + set)
        for model in SimulationMode.allCases {
            for threads in [1, 3] {
                let o = replay.run(model, repetitions: 2, threads: threads)
                #expect(o.failed == 0, "\(set) \(model) threads \(threads)")
                #expect(o.cycles == 2 * replay.lines, "\(set) \(model) threads \(threads)")
                if model == .toggles { #expect(o.toggles > 0) }
            }
        }
    }

    /// Toggle totals do not depend on how the stream is cut (64 slices × threads segments).
    @Test func togglesDoNotDependOnTheSegmentation() throws {
        let replay = try VectorReplay(directory: VectorsTests.repository + "/vectors/dint-pe4")
        let one = replay.run(.toggles, repetitions: 1, threads: 1), two = replay.run(.toggles, repetitions: 1, threads: 2)
        // Cuts move case boundaries between instances; each case starts with a reset, so the
        // toggles inside cases are equal and only the reset edges may differ slightly.
        #expect(abs(one.toggles - two.toggles) * 100 < one.toggles)
    }

    @Test(arguments: [("acc", UInt64(1) << 3, 500), ("y", UInt64(1), 17)])
    func aWrongExpectedValueFailsEveryModel(field: String, xor: UInt64, line: Int) throws {
        let dir = VectorsTests.scratch()
        let unit: VectorUnit = field == "acc" ? try MacVectors(try MacConfiguration(kind: .dint, lanes: 2, pipelineDepth: 2, accumulatorWidth: 18))
                                              : try DecoderVectors(tileSize: 8, output: .fp16)
        _ = try VectorGenerator.generate(unit, level: 1, seed: 1, count: 0, directory: dir)
        if field == "y" {
            // A multi-element field: flip bit 0 of element 0 on that line.
            var hex = String(decoding: try VectorsTests.bytes(dir + "/" + VectorFiles.hex), as: UTF8.self).split(separator: "\n").map(String.init)
            let layout = unit.layout
            var values = try layout.parseHex(Substring(hex[line]), 0..<layout.valueCount).get()
            values[layout.field("y")!.offset] ^= xor
            hex[line] = layout.hexLine(values)
            try (hex.joined(separator: "\n") + "\n").write(toFile: dir + "/" + VectorFiles.hex, atomically: true, encoding: .utf8)
        } else {
            try VectorsTests.tamper(dir, line: line, field: field, xor: xor)
        }
        let replay = try VectorReplay(directory: dir)
        for model in SimulationMode.allCases {
            #expect(replay.run(model, repetitions: 3, threads: 2).failed == 3, "\(model)")
        }
    }

    @Test func quantizerSetsAreRefused() throws {
        #expect(throws: VectorError.self) { try VectorReplay(directory: VectorsTests.repository + "/vectors/quantizer-dint4-rne") }
    }
}
