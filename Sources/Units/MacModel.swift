/// The word-level cycle model of a MAC unit / PE ("fast mode"): the same pipeline timing and
/// accumulator semantics as `MacCircuit`, on integers. Tested equal to the netlist cycle by cycle.
///
/// Laid out for the vector replay's inner loop (docs/performance.md): the at most two
/// transactions in flight sit in a two-slot ring of stored properties (no array to allocate on a
/// reset or to check on a step), and the overflow rule's constants are taken once from the
/// configuration. `MacConfiguration.accumulate` states the rule; `step` computes the same values
/// (tested against it and against the netlist).
public struct MacModel: Sendable {
    public let configuration: MacConfiguration
    @usableFromInline struct Stage: Sendable {
        @usableFromInline var sum: Int64 = 0, valid = false, clear = false
        @usableFromInline init(sum: Int64 = 0, valid: Bool = false, clear: Bool = false) { (self.sum, self.valid, self.clear) = (sum, valid, clear) }
    }
    /// Transactions in flight between the multiply stage and the accumulator (depth − 1 ≤ 2 of
    /// them): `slot0`, `slot1`; `head` is the oldest.
    @usableFromInline var slot0 = Stage(), slot1 = Stage()
    @usableFromInline var head = 0
    @usableFromInline let inFlightCount: Int
    @usableFromInline var accumulatorRegister: Int64 = 0
    @usableFromInline var validOutRegister = false
    @usableFromInline var landedOutOfRangeFlag = false
    /// The overflow rule, precomputed: wrap shifts left and back by 64 − W (sign extension of the
    /// low W bits); saturate clamps to [lowest, highest].
    @usableFromInline let saturates: Bool
    @usableFromInline let wrapShift: Int64, lowest: Int64, highest: Int64
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
        inFlightCount = configuration.pipelineDepth - 1
        precondition(inFlightCount <= 2, "MacModel holds at most two transactions in flight")
        let w = Int64(configuration.accumulatorWidth)
        saturates = configuration.overflow == .saturate
        wrapShift = 64 - w
        highest = (Int64(1) << (w - 1)) - 1
        lowest = -(Int64(1) << (w - 1))
    }

    /// `rst` high at an edge: every register (pipeline, accumulator, valid_out) ← 0.
    @inlinable
    public mutating func reset() {
        slot0 = Stage(); slot1 = Stage(); head = 0
        accumulatorRegister = 0; validOutRegister = false; landedOutOfRangeFlag = false
    }

    /// One clock cycle with the lanes' products already summed (`MacDriver.cycle` sums them);
    /// afterwards `accumulator` and `validOut` are the registers' new values. (Inlinable: the
    /// vector replay's inner loop calls it once per simulated cycle.)
    @inlinable
    public mutating func step(laneSum: Int64, valid: Bool, clear: Bool) {
        var stage = Stage(sum: laneSum, valid: valid, clear: clear)
        if inFlightCount != 0 {
            if head == 0 { swap(&stage, &slot0) } else { swap(&stage, &slot1) }
            head = head + 1 == inFlightCount ? 0 : head + 1
        }
        // Branch-free: valid and clear come from the stimulus, at random in the vector sets, so a
        // branch on them would be mispredicted about half the time.
        // |base|, |sum| < 2^61 (the tree and the accumulator are at most 62 bits wide): no overflow.
        let valid = Int64(stage.valid ? 1 : 0), keep = Int64(stage.clear ? 0 : 1)
        let exact = (accumulatorRegister & -keep) &+ stage.sum
        let next = saturates ? min(max(exact, lowest), highest) : (exact &<< wrapShift) &>> wrapShift
        accumulatorRegister = (next & -valid) | (accumulatorRegister & (valid &- 1))
        landedOutOfRangeFlag = stage.valid && next != exact
        validOutRegister = stage.valid
    }
}
