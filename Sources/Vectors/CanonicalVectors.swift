import Formats
import Units

/// The vector sets committed under `vectors/` (one directory each). A test regenerates them and
/// requires identical bytes; `rtl-reference/Makefile` simulates the RTL against the unit ones.
public enum CanonicalVectors {
    public struct Set: Sendable {
        public let directory: String
        public let unit: VectorUnit
        public let level: Int
        public let count: Int
        public let seed: UInt64 = 1
    }

    public static var sets: [Set] {
        get throws { [
            Set(directory: "quantizer-dint4-rne", unit: QuantizerVectors(format: .dint4, rule: .toNearestOrEven), level: 2, count: 1500),
            Set(directory: "quantizer-dint4-stochastic", unit: QuantizerVectors(format: .dint4, rule: .stochastic), level: 1, count: 0),
            Set(directory: "quantizer-int4-rne", unit: QuantizerVectors(format: .int4, rule: .toNearestOrEven), level: 2, count: 1000),
            Set(directory: "int8-pe4", unit: try MacVectors(try MacConfiguration(kind: .int8, lanes: 4, pipelineDepth: 2, accumulatorWidth: 24, overflow: .saturate)), level: 2, count: 60),
            Set(directory: "dint-mac", unit: try MacVectors(try MacConfiguration(kind: .dint, lanes: 1, pipelineDepth: 1, accumulatorWidth: 16, overflow: .wrap)), level: 2, count: 90),
            Set(directory: "dint-pe4", unit: try MacVectors(try MacConfiguration(kind: .dint, lanes: 4, pipelineDepth: 3, accumulatorWidth: 20, overflow: .saturate)), level: 2, count: 90),
            Set(directory: "fp4-mac", unit: try MacVectors(try MacConfiguration(kind: .fp4, lanes: 1, pipelineDepth: 1, accumulatorWidth: 16, overflow: .wrap)), level: 2, count: 90),
            Set(directory: "fp4-pe4", unit: try MacVectors(try MacConfiguration(kind: .fp4, lanes: 4, pipelineDepth: 2, accumulatorWidth: 20, overflow: .saturate)), level: 2, count: 90),
            Set(directory: "hadamard-g16-fp32", unit: try DecoderVectors(tileSize: 16, output: .fp32), level: 2, count: 600),
            Set(directory: "hadamard-g32-bf16", unit: try DecoderVectors(tileSize: 32, output: .bf16), level: 2, count: 100),
            Set(directory: "hadamard-g8-fp16", unit: try DecoderVectors(tileSize: 8, output: .fp16), level: 2, count: 400),
            Set(directory: "hadamard-g64-bf16", unit: try DecoderVectors(tileSize: 64, output: .bf16), level: 1, count: 0),
            Set(directory: "hadamard-g128-fp32", unit: try DecoderVectors(tileSize: 128, output: .fp32), level: 1, count: 0),
            Set(directory: "block-quantizer-b32", unit: try BlockQuantizerVectors(blockSize: 32), level: 2, count: 1000),
            Set(directory: "block-quantizer-b8", unit: try BlockQuantizerVectors(blockSize: 8), level: 2, count: 600),
            Set(directory: "block-quantizer-b32-rceil", unit: try BlockQuantizerVectors(blockSize: 32, scaleRule: .rceil), level: 2, count: 1000),
            Set(directory: "block-quantizer-b32-even", unit: try BlockQuantizerVectors(blockSize: 32, scaleRule: .even), level: 2, count: 1000),
            Set(directory: "block-quantizer-b8-ceil", unit: try BlockQuantizerVectors(blockSize: 8, scaleRule: .ceil), level: 2, count: 600),
            Set(directory: "nvfp4-quantizer-b16", unit: try NVFP4QuantizerVectors(blockSize: 16), level: 2, count: 1000),
            Set(directory: "nvfp4-quantizer-b4", unit: try NVFP4QuantizerVectors(blockSize: 4), level: 2, count: 400),
        ] }
    }
}
