import Circuits

/// The one way a MAC unit is driven (docs/mac.md, "Driving a unit"). A cycle is: inputs held,
/// then the rising edge; `rst` is synchronous and wins over everything else. The runner (rows
/// of dot products) and the vector replay (lines of a vector file) both present their cycles
/// here, to the word-level model or to 64 bit-sliced instances of the netlist, so the two
/// cannot drift apart.
public enum MacDriver {
    /// Word level: one cycle of `model`. `codes`/`activations` hold `count` lanes; lanes past
    /// `count` carry weight 0 and activation 0 (product 0).
    @inlinable
    public static func cycle(_ model: inout MacModel, codes: UnsafePointer<UInt8>, activations: UnsafePointer<Int8>, count: Int,
                             valid: Bool, clear: Bool, reset: Bool = false) {
        if reset { model.reset(); return }
        model.step(laneSum: model.configuration.laneSum(codes: codes, activations: activations, count: count), valid: valid, clear: clear)
    }

    /// The input nodes of one bit-sliced cycle, in the order of its words: `valid_in`, `clear`,
    /// then lane 0's weight bits (LSB first), lane 1's, …, then the lanes' activation bits.
    public static func inputNodes(_ m: MacCircuit) -> [Node] {
        [m.validIn, m.clear] + m.weights.flatMap { $0 } + m.activations.flatMap { $0 }
    }

    /// The output nodes after an edge: the accumulator's bits (LSB first), then `valid_out`.
    public static func outputNodes(_ m: MacCircuit) -> [Node] { m.accumulator + [m.validOut] }

    /// Bit-sliced: one cycle of the instances in `active` (bit k = instance k). `words` follows
    /// `inputNodes`; `reset` holds `rst` per instance. `sample` sees the settled cycle before
    /// the edge (a VCD writer).
    @inlinable
    public static func cycle<S: BitSlicedSimulation>(_ sim: S, inputs nodes: [Node], words: UnsafePointer<UInt64>, active: UInt64, reset: UInt64,
                                                     sample: ((S) -> Void)? = nil) {
        sim.activeMask = active
        sim.set(nodes, words: words)
        sim.evaluate()
        sample?(sim)
        sim.clock(resetting: reset)
    }

    /// Bit-sliced with W words per node (`Simulator.wordsPerNode`): one cycle of the 64·W
    /// instances; `words` holds W words per input node, `active` and `reset` W words.
    @inlinable
    public static func cycle(_ sim: Simulator, inputs nodes: [Node], words: UnsafePointer<UInt64>,
                             active: UnsafePointer<UInt64>, reset: UnsafePointer<UInt64>) {
        sim.setActiveMasks(active)
        sim.set(nodes, words: words)
        sim.evaluate()
        sim.clock(resettingWords: reset)
    }

    /// Bit-slices 64 instances' lanes into `words` (layout of `inputNodes`, valid and clear
    /// left to the caller): instance `slice` presents lane l's code `code(slice, l)` and
    /// activation `activation(slice, l)`; `nil` idles the lane (0, 0).
    @inlinable
    public static func transpose(into words: UnsafeMutablePointer<UInt64>, lanes: Int, weightWidth ww: Int, instances: Int,
                                 _ operand: (_ slice: Int, _ lane: Int) -> (code: UInt8, activation: Int8)?) {
        let count = 2 + lanes * (ww + 8)
        for i in 2..<count { words[i] = 0 }
        let weights = words + 2, acts = words + 2 + lanes * ww
        for l in 0..<lanes {
            for slice in 0..<instances {
                guard let (code, act) = operand(slice, l) else { continue }
                let s = UInt64(slice), c = UInt64(code), a = UInt64(UInt8(bitPattern: act))
                for b in 0..<ww { weights[l * ww + b] |= ((c >> UInt64(b)) & 1) << s }
                for b in 0..<8 { acts[l * 8 + b] |= ((a >> UInt64(b)) & 1) << s }
            }
        }
    }
}
