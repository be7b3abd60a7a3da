import Testing
import Circuits
import Formats
import PropertyChecking
import TAHQuant
import Units
import Workloads

/// The gate-level scale/round stage equals the software decoder (the exact decode spec, itself
/// checked against GMP) bit for bit, fed with the integer path's outputs.
@Suite struct ScaleRoundStageTests {
    static func tensor(g: Int, seed: UInt64) throws -> TahQuantTensor {
        let tokens = 16, channels = 2 * g
        var x = Distribution.gaussian.sample(rows: tokens, columns: channels, seed: seed)
        var s = CounterStream(seed: seed)
        for tile in 0..<(tokens * channels / g) {
            let base = tile * g
            switch Generate.int(0...6, &s) {
            case 0: x[base + Generate.int(0...(g - 1), &s)] = Float(Generate.int(5...500, &s)) * (Generate.bool(&s) ? -1 : 1)
            case 1: for i in 0..<g { x[base + i] = -3.5 }
            case 2: for i in 0..<g { x[base + i] = 0 }
            case 3: for i in 0..<g { x[base + i] = i % 3 == 0 ? 65504 : -1e-3 } // top of FP16: decodes may round past it
            case 4: for i in 0..<g { x[base + i] *= 1e-6 } // tiny: FP16 subnormal scales and outputs
            default: break
            }
        }
        var t = try TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: tokens, channels: channels, configuration: TahQuantConfiguration(tileSize: g))
        // Crafted tiles at the top of the FP16 range (the decoded values overflow FP16, not FP32),
        // one unflagged and one flagged.
        for (tile, flagged) in [(0, false), (1, true)] {
            t.flagged[tile] = flagged
            t.scales[tile] = 0x7BFF
            t.zeros[tile] = tile == 0 ? 0x7BFF : 0xFBFF
            for i in 0..<g { t.codes[tile * g + i] = UInt8(i % 16) & (t.tileBits[tile] == 4 ? 15 : 7) }
        }
        // A flagged tile whose non-zero values round to zero (scale 2^−24, codes e1: ±2^−24·c,
        // below half of FP16's smallest subnormal): a rounded zero keeps the exact value's sign.
        t.flagged[2] = true; t.pivots[2] = 0; t.scales[2] = 0x0001; t.zeros[2] = 0
        for i in 0..<g { t.codes[2 * g + i] = i == 1 ? 1 : 0 }
        return t
    }

    @Test(arguments: [8, 16, 32, 64, 128], ScaleRoundStage.Output.allCases)
    func stageEqualsTheDecoder(g: Int, output: ScaleRoundStage.Output) throws {
        let t = try Self.tensor(g: g, seed: UInt64(g))
        let format = BinaryFloatFormat.all.first { $0.name == output.rawValue }!
        let expected = TahQuantDecoder.decodeBits(t, output: format)
        // Per element: the integer path's value and the controls.
        var inputs: [(w: Int64, s: Int64, z: Int64, kOne: Bool, kG: Bool, c: Bool)] = []
        for index in 0..<t.tileCount {
            var w = (0..<g).map { Int64(t.codes[index * g + $0]) }
            let flagged = t.flagged[index], pivot = Int(t.pivots[index])
            if flagged { Hadamard.transform(&w); w.swapAt(0, pivot) }
            for i in 0..<g {
                inputs.append((w[i], Int64(t.scales[index]), Int64(t.zeros[index]), !flagged, flagged && i == pivot, flagged))
            }
        }
        let stage = ScaleRoundStage(tileSize: g, output: output)
        let sim = Simulator(stage.netlist, countsToggles: false)
        var wrong: [String] = []
        for start in stride(from: 0, to: inputs.count, by: 64) {
            let chunk = Array(inputs[start..<min(start + 64, inputs.count)])
            func word(_ f: (Int) -> Bool) -> UInt64 { chunk.indices.reduce(0) { f($1) ? $0 | 1 << UInt64($1) : $0 } }
            sim.set(stage.w, instances: chunk.map(\.w))
            sim.set(stage.scale, instances: chunk.map(\.s))
            sim.set(stage.zero, instances: chunk.map(\.z))
            sim.set(stage.addZero, word: word { chunk[$0].kOne })
            sim.set(stage.addZeroTimesG, word: word { chunk[$0].kG })
            sim.set(stage.applyC, word: word { chunk[$0].c })
            sim.evaluate()
            for k in chunk.indices {
                let got = UInt32(truncatingIfNeeded: sim.read(stage.result, instance: k, signed: false))
                if got != expected[start + k] { wrong.append("element \(start + k): \(String(got, radix: 16)) vs \(String(expected[start + k], radix: 16)) \(chunk[k])") }
            }
        }
        #expect(wrong.isEmpty, "G \(g) \(output): \(wrong.count) differ, e.g. \(wrong.prefix(3))")
        // Ties in the final rounding occurred (exact value halfway between two outputs): counted on
        // unflagged elements, whose exact value s·q + z is a binary64.
        let ties = inputs.filter { !$0.c }.filter { e in
            let v = BinaryFloatFormat.fp16.decode(UInt32(e.s)) * Double(e.w) + BinaryFloatFormat.fp16.decode(UInt32(e.z))
            return format.encode(v, rounding: .toNearestOrAway) != format.encode(v, rounding: .toNearestOrEven)
        }.count
        if output != .fp32 { #expect(ties > 0, "no ties in the \(output) rounding") }
        if output == .fp16 {
            // The cases that need the clamped normalisation and the overflow logic did occur.
            #expect(expected.contains { $0 & 0x7C00 == 0 && $0 & 0x3FF != 0 }, "no FP16 subnormal outputs")
            #expect(expected.contains { $0 & 0x7FFF == 0x7C00 }, "no FP16 overflow to infinity")
        }
        #expect(t.flagged.contains(true) && t.flagged.contains(false))
    }
}

/// The whole decode datapath (butterflies, bypass, un-swap, scale/round) equals the software
/// decoder bit for bit, every G, both architectures, FP32 and BF16.
@Suite struct HadamardDecodeRunnerTests {
    @Test(arguments: [8, 16, 32, 64, 128], HadamardDatapath.Architecture.allCases)
    func datapathDecodesLikeTheSoftware(g: Int, architecture: HadamardDatapath.Architecture) throws {
        let t = try ScaleRoundStageTests.tensor(g: g, seed: UInt64(g) + 3)
        for output in ScaleRoundStage.Output.allCases {
            let run = HadamardDecodeRunner.run(t, architecture: architecture, output: output)
            let expected = TahQuantDecoder.decodeBits(t, output: BinaryFloatFormat.all.first { $0.name == output.rawValue }!)
            #expect(run.bits == expected, "G \(g) \(architecture) \(output): \(zip(run.bits, expected).filter { $0 != $1 }.count) differ")
            #expect(run.cycles == t.tileCount * run.cyclesPerTile + run.latency)
        }
    }
}
