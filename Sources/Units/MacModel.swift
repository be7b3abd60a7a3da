/// The word-level cycle model of a MAC unit / PE ("fast mode"): the same pipeline timing and
/// accumulator semantics as `MacCircuit`, on integers. Tested equal to the netlist cycle by cycle.
public struct MacModel: Sendable {
    public let configuration: MacConfiguration
    /// Transactions in flight between the multiply stage and the accumulator (depth − 1 of them).
    @usableFromInline var inFlight: [(sum: Int64, valid: Bool, clear: Bool)]
    @usableFromInline var head = 0
    @usableFromInline var accumulatorRegister: Int64 = 0
    @usableFromInline var validOutRegister = false
    /// The accumulator register's value (what `acc` shows this cycle).
    public var accumulator: Int64 { accumulatorRegister }
    /// The `valid_out` register.
    public var validOut: Bool { validOutRegister }

    public init(_ configuration: MacConfiguration) {
        self.configuration = configuration
        inFlight = Array(repeating: (0, false, false), count: configuration.pipelineDepth - 1)
    }

    /// One clock cycle with the lanes' products already summed (`MacDriver.cycle` sums them);
    /// afterwards `accumulator` and `validOut` are the registers' new values. (Inlinable: the
    /// vector replay's inner loop calls it once per simulated cycle.)
    @inlinable
    public mutating func step(laneSum: Int64, valid: Bool, clear: Bool) {
        var stage = (sum: laneSum, valid: valid, clear: clear)
        if !inFlight.isEmpty {
            swap(&stage, &inFlight[head])
            head = head + 1 == inFlight.count ? 0 : head + 1
        }
        if stage.valid {
            accumulatorRegister = configuration.accumulate(stage.clear ? 0 : accumulatorRegister, stage.sum)
        }
        validOutRegister = stage.valid
    }
}
