/// The word-level cycle model of a MAC unit / PE ("fast mode"): the same pipeline timing and
/// accumulator semantics as `MacCircuit`, on integers. Tested equal to the netlist cycle by cycle.
public struct MacModel: Sendable {
    public let configuration: MacConfiguration
    /// Transactions in flight between the multiply stage and the accumulator (depth − 1 of them).
    @usableFromInline var inFlight: [(sum: Int64, valid: Bool, clear: Bool)]
    @usableFromInline var head = 0
    @usableFromInline var accumulatorRegister: Int64 = 0
    @usableFromInline var validOutRegister = false
    @usableFromInline var landedOutOfRangeFlag = false
    /// The accumulator register's value (what `acc` shows this cycle).
    public var accumulator: Int64 { accumulatorRegister }
    /// The `valid_out` register.
    public var validOut: Bool { validOutRegister }
    /// Whether the transaction that reached the accumulator at the last edge left the W-bit
    /// range (then wrapped or saturated, by the rule): the `wrapped` / `saturated` flag of the
    /// line that presented it, D − 1 cycles earlier.
    public var landedOutOfRange: Bool { landedOutOfRangeFlag }

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
            let base = stage.clear ? 0 : accumulatorRegister
            accumulatorRegister = configuration.accumulate(base, stage.sum)
            landedOutOfRangeFlag = accumulatorRegister != base &+ stage.sum
        } else {
            landedOutOfRangeFlag = false
        }
        validOutRegister = stage.valid
    }
}
