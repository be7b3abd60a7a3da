import Foundation
import Testing
import Formats
import Quantization
import TAHQuant
import TensorIO
import Units
import Workflows
import Workloads

/// The workflows the CLI calls, called from Swift.
@Suite struct WorkflowCallTests {
    /// Shards measured apart and merged equal the single run; a missing row is refused.
    @Test func underflowShardsMergeToTheSingleRun() throws {
        let sets = UnderflowComparison.DataSet.synthetic([.gaussian, .laplace, .outlierChannels], rows: 16, columns: 64, seed: 3)
        let formats: [UnderflowComparison.Choice] = [.level(.int4), .level(.dint4), .block(BlockFloatVariant(.nvfp4)), .block(BlockFloatVariant(.mxfp4, mxScale: .rceil))]
        func measure(_ r: Range<Int>?) throws -> [UnderflowComparison.Row] {
            try UnderflowComparison.measure(sets, selected: r, formats: formats, granularity: .channel, rounding: .toNearestOrEven, seed: 0)
        }
        let whole = try measure(nil)
        #expect(whole.count == 12 && whole.map(\.row) == Array(0..<12))
        #expect(whole[3].format == "mxfp4:rceil")
        let merged = try UnderflowComparison.merge([try measure(2..<3), try measure(0..<1), try measure(1..<2)])
        #expect(merged == whole)
        #expect(throws: (any Error).self) { try UnderflowComparison.merge([try measure(0..<1), try measure(2..<3)]) }
        #expect(UnderflowComparison.markdown(whole, rounding: .toNearestOrEven).contains("| nvfp4 |"))
        // dINT4 underflows less than INT4 on every one of these distributions.
        for d in 0..<3 { #expect(whole[4 * d + 1].statistics.underflowCount < whole[4 * d].statistics.underflowCount) }
    }

    /// simulate's library call: matrix-product pairing, the flat JSON, the checks it refuses.
    @Test func macSimulationPairsRowsAndEncodesFlat() throws {
        let c = try MacConfiguration(kind: .fp4, lanes: 4, pipelineDepth: 2, accumulatorWidth: 24)
        let codes = (0..<(3 * 10)).map { UInt8($0 % 16) }, acts = (0..<(2 * 10)).map { Int8(truncatingIfNeeded: $0 * 29 - 100) }
        let operands = try MacSimulation.Operands.read(weights: try NpyArray(uint8: codes, shape: [3, 10]),
                                                       activations: try NpyArray(int8: acts, shape: [2, 10]),
                                                       weightScales: try NpyArray(float32: [1, 2, 4], shape: [3]),
                                                       activationScales: try NpyArray(float32: [0.5], shape: [1]), for: c, pairing: .matmul)
        #expect(operands.rows == 6 && operands.resultShape == [2, 3])
        let outcome = try MacSimulation.run(c, operands, mode: .netlist)
        for t in 0..<2 {
            for o in 0..<3 {
                let sum = (0..<10).reduce(Int64(0)) { $0 + c.product(code: codes[o * 10 + $1], activation: acts[t * 10 + $1]) }
                #expect(outcome.result.results[t * 3 + o] == sum)
                #expect(outcome.outputs?[t * 3 + o] == Float(Double(sum) * 0.5 * [1, 2, 4][o] * 0.5))
            }
        }
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(outcome)) as! [String: Any]
        #expect(json["unit"] as? String == "fp4-mac" && json["pipeline_depth"] as? Int == 2 && json["result_shape"] as? [Int] == [2, 3])
        #expect(throws: MacSimulationError.self) { try MacSimulation.run(c, operands, mode: .fast, vcd: true) }
        #expect(throws: MacSimulationError.self) {
            try MacSimulation.Operands.read(weights: try NpyArray(uint8: codes, shape: [3, 10]), activations: try NpyArray(int8: acts, shape: [2, 10]), for: c)
        }
    }

    /// tahquant decode's library call: the datapath agrees with the software decoder.
    @Test func checkedDecodingAgrees() throws {
        let x = Distribution.outlierChannels.sample(rows: 8, columns: 64, seed: 5)
        let t = try TahQuantEncoder.encode(x, sequences: 1, tokensPerSequence: 8, channels: 64, configuration: TahQuantConfiguration(tileSize: 16))
        for architecture in [HadamardDatapath.Architecture.pipelined, .folded] {
            let o = try CheckedDecoding.decode(t, to: .bf16, architecture: architecture, vcd: true)
            #expect(o.bits == TahQuantDecoder.decodeBits(t, output: .bf16) && o.shape == [8, 64])
            #expect(o.datapathSummary?.contains("equal to the software decoder") == true && o.vcd?.contains("$enddefinitions") == true)
        }
        #expect(try CheckedDecoding.decode(t, to: .fp16, architecture: nil).datapath == nil)
    }

    /// A rounded zero keeps the exact value's sign, in the software decoder and both datapaths
    /// (G = 16, FP16, scale 2^−24, codes e1: elements ±2^−26; the wire format round-trips it).
    @Test func roundedZeroKeepsItsSign() throws {
        var t = try TahQuantEncoder.encode([Float](repeating: 1, count: 16), sequences: 1, tokensPerSequence: 1, channels: 16,
                                           configuration: TahQuantConfiguration(tileSize: 16))
        t.flagged[0] = true; t.pivots[0] = 0; t.scales[0] = 0x0001; t.zeros[0] = 0
        t.codes = (0..<16).map { $0 == 1 ? 1 : 0 }
        let back = try TahQuantWire.decode(TahQuantWire.encode(t))
        for architecture in HadamardDatapath.Architecture.allCases {
            let o = try CheckedDecoding.decode(back, to: .fp16, architecture: architecture)
            #expect(o.bits == (0..<16).map { $0 % 2 == 1 ? 0x8000 : 0 }, "\(architecture): \(o.bits.map { String($0, radix: 16) })")
        }
    }
}
