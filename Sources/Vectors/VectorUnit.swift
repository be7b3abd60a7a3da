import Formats

/// One independent case: a few lines (a MAC's cycles from a reset to the drained pipeline, or
/// one quantizer/decoder transaction). Values are the layout's, outputs and flags zero until
/// the generator fills them.
public struct VectorCase: Sendable {
    public let index: Int
    public let category: String
    public var lines: [[UInt64]]
}

/// What each unit contributes to the vector machinery: its line layout, its cases (the inputs),
/// a fast model for the expected outputs, and an exact reference (GMP or plain integer
/// arithmetic, written separately from the models) that recomputes outputs and flags.
public protocol VectorUnit: Sendable {
    /// Short name used in the manifest ("dint-mac", "quantizer", "hadamard-decoder").
    var unitName: String { get }
    var layout: VectorLayout { get }
    /// Names of the flag bits, bit 0 first.
    var flagNames: [String] { get }
    /// The configuration as the manifest's `configuration` JSON object (one line).
    var configurationJSON: String { get }
    /// Extra `localparam`s for `layout.vh` (the RTL testbench's parameters).
    var verilogParameters: [(String, Int)] { get }
    /// Level-1 cases (boundary and exhaustive); level 2 appends `count` random ones.
    var levelOneCaseCount: Int { get }
    /// Anything level 1 leaves out for this configuration, with the reason (manifest `notes`).
    var notes: [String] { get }
    /// The inputs of case `index` (deterministic in seed and index alone).
    func makeCase(_ index: Int, seed: UInt64) -> VectorCase
    /// Expected outputs by the fast model (the code the simulator runs).
    func fastOutputs(_ c: VectorCase) -> [[UInt64]]
    /// Outputs and flags by the independent exact reference.
    func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64])
    /// Lines between a transaction and the line its output appears on (D − 1 for a MAC of
    /// pipeline depth D; 0 when every line carries its own result).
    var outputLatency: Int { get }
}

extension VectorUnit {
    public var outputLatency: Int { 0 }
    /// Cases of a set: level 1 alone, or level 1 then `count` random ones.
    public func caseCount(level: Int, count: Int) -> Int { levelOneCaseCount + (level >= 2 ? count : 0) }

    /// Writes outputs into the lines.
    func fill(_ lines: inout [[UInt64]], outputs: [[UInt64]], flags: [UInt64]) {
        let range = layout.outputRange
        for k in lines.indices {
            for (j, i) in range.enumerated() { lines[k][i] = outputs[k][j] }
            lines[k][layout.valueCount - 1] = flags[k]
        }
    }

}

/// A counter-based stream for case `index`: independent of every other case and of sharding.
func caseRandom(seed: UInt64, index: Int) -> CounterStream {
    CounterStream(seed: CounterRandom.mix(seed ^ 0x7665_6374_6f72_7321, UInt64(index)))
}

extension CounterStream {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
}
