import Testing
import Formats
import PropertyChecking
import Units

/// The C replay kernel (`MacReplayKernel`, four streams in lock step) counts exactly the cycles
/// that `MacModel` run stream by stream counts, over the configuration space: every pipeline
/// depth, both overflow rules with accumulators narrow enough to overflow, 1, 3 and 16 lanes,
/// resets at random lines, streams that start anywhere (from the all-zero state), wrap past the
/// last line, and number 1 to 9 (so that full groups of four and a remainder both run).
@Suite struct MacReplayKernelTests {
    struct Setup: CustomStringConvertible {
        let configuration: MacConfiguration
        let seed: UInt64
        var description: String {
            let c = configuration
            return "\(c.kind) lanes \(c.lanes) depth \(c.pipelineDepth) W \(c.accumulatorWidth) \(c.overflow) seed \(seed)"
        }
    }

    @Test func macReplayKernelEqualsMacModel() {
        let kinds: [MacKind] = [.int8, .dint, .fp4, .codeBook(.int4)]
        let report = checkProperty(seed: 4242, count: 120, generate: { s -> Setup in
            let kind = kinds[Generate.int(0...3, &s)]
            let shape = try! MacConfiguration(kind: kind, lanes: [1, 3, 16][Generate.int(0...2, &s)], pipelineDepth: Generate.int(1...3, &s))
            let wide = Generate.int(0...3, &s) == 0
            let c = try! shape.with(accumulatorWidth: wide ? 62 : shape.treeWidth + Generate.int(0...5, &s),
                                    overflow: Generate.bool(&s) ? .wrap : .saturate)
            return Setup(configuration: c, seed: s.next())
        }) { setup in
            let c = setup.configuration
            var s = CounterStream(seed: setup.seed)
            let lines = Generate.int(1...400, &s)
            var control = [UInt8](), codes = [UInt8](), activations = [Int8]()
            for line in 0..<lines {
                let reset = line == 0 || Generate.int(0...40, &s) == 0
                let valid = Generate.int(0...4, &s) != 0, clear = Generate.int(0...9, &s) == 0
                control.append((reset ? 1 : 0) | (valid ? 2 : 0) | (clear ? 4 : 0))
                for _ in 0..<c.lanes {
                    codes.append(MacCycleEquivalenceTests.randomCode(c.kind, &s))
                    activations.append(Int8(truncatingIfNeeded: s.next()))
                }
            }
            let kernel = MacReplayKernel(c)
            let mask = kernel.accumulatorMask
            // The outputs of MacModel played from line 0, one in 12 then changed in one bit.
            func output(_ m: MacModel) -> UInt64 { UInt64(bitPattern: m.accumulator) & mask | (m.validOut ? 1 << 63 : 0) }
            var expected = [UInt64](), model = MacModel(c)
            for line in 0..<lines {
                codes.withUnsafeBufferPointer { cs in activations.withUnsafeBufferPointer { acts in
                    MacDriver.cycle(&model, codes: cs.baseAddress! + line * c.lanes, activations: acts.baseAddress! + line * c.lanes,
                                    count: c.lanes, valid: control[line] & 2 != 0, clear: control[line] & 4 != 0, reset: control[line] & 1 != 0)
                }}
                var e = output(model)
                if Generate.int(0...11, &s) == 0 { e ^= [1, mask ^ (mask >> 1), 1 << 63][Generate.int(0...2, &s)] }
                expected.append(e)
            }
            let streams = (0..<Generate.int(1...9, &s)).map { _ in (start: Generate.int(0...(lines - 1), &s), count: Generate.int(0...(lines * 5 / 2), &s)) }
            // The reference: a fresh MacModel per stream.
            var reference = 0
            for stream in streams {
                var m = MacModel(c), line = stream.start
                for _ in 0..<stream.count {
                    codes.withUnsafeBufferPointer { cs in activations.withUnsafeBufferPointer { acts in
                        MacDriver.cycle(&m, codes: cs.baseAddress! + line * c.lanes, activations: acts.baseAddress! + line * c.lanes,
                                        count: c.lanes, valid: control[line] & 2 != 0, clear: control[line] & 4 != 0, reset: control[line] & 1 != 0)
                    }}
                    if output(m) != expected[line] { reference += 1 }
                    line = line + 1 == lines ? 0 : line + 1
                }
            }
            let counted = control.withUnsafeBufferPointer { control in codes.withUnsafeBufferPointer { codes in
                activations.withUnsafeBufferPointer { activations in expected.withUnsafeBufferPointer { expected in
                    kernel.failures(.init(control: control, codes: codes, activations: activations, expected: expected), streams: streams)
                }}}}
            return counted == reference ? nil : "\(lines) lines, streams \(streams): kernel counts \(counted) failing cycles, MacModel \(reference)"
        }
        #expect(report.passed, "\(report)")
    }
}
