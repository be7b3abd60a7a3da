/// The word-level cycle model of a MAC unit / PE ("fast mode"): the same pipeline timing and
/// accumulator semantics as `MacCircuit`, on integers. Tested equal to the netlist cycle by cycle.
public struct MacModel: Sendable {
    public let configuration: MacConfiguration
    /// Transactions in flight between the multiply stage and the accumulator (depth − 1 of them).
    var inFlight: [(sum: Int64, valid: Bool, clear: Bool)]
    var head = 0
    /// The accumulator register's value (what `acc` shows this cycle).
    public private(set) var accumulator: Int64 = 0
    /// The `valid_out` register.
    public private(set) var validOut = false

    public init(_ configuration: MacConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        inFlight = Array(repeating: (0, false, false), count: configuration.pipelineDepth - 1)
    }

    /// One clock cycle with these inputs; afterwards `accumulator` and `validOut` are the
    /// registers' new values.
    public mutating func step(codes: [UInt8], activations: [Int8], valid: Bool, clear: Bool) {
        var sum: Int64 = 0
        for lane in 0..<configuration.lanes { sum += configuration.product(code: codes[lane], activation: activations[lane]) }
        step(laneSum: sum, valid: valid, clear: clear)
    }

    /// As `step`, with the lanes' products already summed.
    public mutating func step(laneSum: Int64, valid: Bool, clear: Bool) {
        var stage = (sum: laneSum, valid: valid, clear: clear)
        if !inFlight.isEmpty {
            swap(&stage, &inFlight[head])
            head = head + 1 == inFlight.count ? 0 : head + 1
        }
        if stage.valid {
            accumulator = configuration.accumulate(stage.clear ? 0 : accumulator, stage.sum)
        }
        validOut = stage.valid
    }
}
