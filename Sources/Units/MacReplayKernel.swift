import CKernels

/// `MacModel`'s cycles over stored stimulus, in C (include/kernels.h, `dintsim_mac_replay`): the
/// fast model of `VectorReplay`. Each stream starts from the all-zero state (at a reset line) and
/// is independent of the others, so the kernel runs four in lock step and their accumulator
/// chains overlap (docs/performance.md, "Kernels"). Tested equal to `MacModel` line for line.
public struct MacReplayKernel {
    /// The stimulus, `lines` cycles: per line the control bits (1 rst, 2 valid, 4 clear), the
    /// lanes' codes and activations (line × lanes), and the expected outputs after the edge
    /// (acc masked to W bits | valid_out << 63).
    public struct Stimulus {
        public var control: UnsafeBufferPointer<UInt8>
        public var codes: UnsafeBufferPointer<UInt8>
        public var activations: UnsafeBufferPointer<Int8>
        public var expected: UnsafeBufferPointer<UInt64>
        public init(control: UnsafeBufferPointer<UInt8>, codes: UnsafeBufferPointer<UInt8>, activations: UnsafeBufferPointer<Int8>,
                    expected: UnsafeBufferPointer<UInt64>) {
            (self.control, self.codes, self.activations, self.expected) = (control, codes, activations, expected)
        }
    }

    public let configuration: MacConfiguration

    public init(_ configuration: MacConfiguration) { self.configuration = configuration }

    /// The outputs `acc | valid_out << 63` compare with after an edge: acc's W bits.
    public var accumulatorMask: UInt64 {
        configuration.accumulatorWidth >= 64 ? ~0 : (1 << UInt64(configuration.accumulatorWidth)) - 1
    }

    /// Plays every stream (`start` line, `count` cycles; line 0 follows the last) through a fresh
    /// model and returns the number of cycles whose outputs differ from `expected`.
    public func failures(_ stimulus: Stimulus, streams: [(start: Int, count: Int)]) -> Int {
        let c = configuration
        let lines = stimulus.control.count
        precondition(lines > 0 && stimulus.codes.count == lines * c.lanes && stimulus.activations.count == lines * c.lanes
                     && stimulus.expected.count == lines, "stimulus arrays disagree on the line count")
        precondition(streams.allSatisfy { (0..<lines).contains($0.start) && $0.count >= 0 }, "a stream starts outside the stimulus")
        let w = Int64(c.accumulatorWidth)
        let starts = streams.map { Int64($0.start) }, counts = streams.map { Int64($0.count) }
        let failed = c.weightTable.withUnsafeBufferPointer { weights in
            var model = dintsim_mac_model(weights: weights.baseAddress, lanes: Int32(c.lanes), in_flight: Int32(c.pipelineDepth - 1),
                                          saturates: c.overflow == .saturate ? 1 : 0, wrap_shift: Int32(64 - w),
                                          lowest: -(Int64(1) << (w - 1)), highest: (Int64(1) << (w - 1)) - 1, acc_mask: accumulatorMask)
            var stream = dintsim_mac_stream(control: stimulus.control.baseAddress, codes: stimulus.codes.baseAddress,
                                            activations: stimulus.activations.baseAddress, expected: stimulus.expected.baseAddress,
                                            lines: Int64(lines))
            return dintsim_mac_replay(&model, &stream, starts, counts, Int32(streams.count))
        }
        precondition(failed >= 0, "MacReplayKernel: the kernel refused the configuration")
        return Int(failed)
    }
}
