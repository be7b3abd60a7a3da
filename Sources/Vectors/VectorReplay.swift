import Circuits
import Dispatch
import Foundation
import Formats
import Kernels
import TAHQuant
import Units

/// Replays a vector set through our cycle models for throughput figures (docs/performance.md),
/// the same work the Verilator harness (`make -C rtl-reference bench-verilator`) does on the RTL:
/// the set is decoded into memory first (not timed), then played `repetitions` times back to back
/// with every output compared against the file; the outcome counts the mismatching cycles.
///
/// The stream (the set's cases, repeated) is cut at case boundaries into independent segments —
/// one per thread for the word-level model, 64 per thread for the bit-sliced netlist (one per
/// instance of the machine word). Cases start with a reset (MACs) or are single tiles (decoder),
/// so a segment's result does not depend on where the cuts fall.
public struct VectorReplay: Sendable {
    public struct Outcome: Sendable {
        /// Unit cycles (MAC) or tiles (decoder) simulated.
        public var cycles = 0
        /// Cycles (tiles) whose outputs differed from the vector file.
        public var failed = 0
        /// Seconds of the timed loop (stimulus preparation excluded, reported apart).
        public var seconds = 0.0
        public var preparationSeconds = 0.0
        public var toggles = 0
        public var threads = 1
    }

    enum Unit: Sendable {
        case mac(MacConfiguration)
        case decoder(tileSize: Int, output: BinaryFloatFormat)
    }

    let unit: Unit
    public let lines: Int
    public var unitName: String
    /// Per line: the input values in layout order (MAC: rst, valid, clear, w…, a…; decoder:
    /// q…, flagged, pivot, scale, zero) and the expected outputs (MAC: acc, valid_out; decoder: y…).
    let inputs: [[UInt64]]
    let expected: [[UInt64]]
    /// First line of each case, plus `lines` at the end.
    let caseStarts: [Int]
    /// The MAC stimulus flattened for the word-level loop: control bits (1 rst, 2 valid, 4 clear),
    /// lane codes and activations (line × lanes), expected acc | valid_out << 63.
    let control: [UInt8], codes: [UInt8], activations: [Int8], expectedMac: [UInt64]
    /// Every line's inputs (after rst) and expected outputs as bit strings in the harness's node
    /// order, `inputWords` / `outputWords` words per line: what the bit-sliced loop transposes.
    let packedInputs: [UInt64], packedExpected: [UInt64]
    let inputWords: Int, outputWords: Int

    public init(directory: String) throws {
        try self.init(directory: directory, manifest: try VectorManifest(directory: directory))
    }

    init(directory: String, manifest: VectorManifest) throws {
        let layout = manifest.unit.layout
        switch manifest.unit {
        case let m as MacVectors: unit = .mac(m.mac)
        case let d as DecoderVectors: unit = .decoder(tileSize: d.tileSize, output: d.output)
        default: throw VectorError.malformed("\(directory): replay supports MAC/PE and Hadamard-decoder sets, not \(manifest.unit.unitName)")
        }
        unitName = manifest.unit.unitName
        let reader = try LineReader(path: (directory as NSString).appendingPathComponent(VectorFiles.hex))
        let outputs = layout.outputRange
        var inputs: [[UInt64]] = [], expected: [[UInt64]] = [], starts: [Int] = []
        while let text = try reader.next() {
            let values: [UInt64]
            switch layout.parseHex(text, 0..<layout.valueCount) {
            case .success(let v): values = v
            case .failure(let e): throw VectorError.malformed("\(reader.path) line \(reader.lineNumber): \(e.description)")
            }
            if case .decoder = unit { starts.append(inputs.count) } else if values[0] == 1 { starts.append(inputs.count) }
            inputs.append(Array(values[0..<outputs.lowerBound]))
            expected.append(Array(values[outputs]))
        }
        guard inputs.count == manifest.lines, !inputs.isEmpty else {
            throw VectorError.malformed("\(directory): \(inputs.count) lines in vectors.hex, manifest says \(manifest.lines)")
        }
        guard starts.first == 0 else { throw VectorError.malformed("\(directory): the first line is not a reset") }
        self.inputs = inputs
        self.expected = expected
        caseStarts = starts + [inputs.count]
        lines = inputs.count
        if case .mac(let c) = unit {
            control = inputs.map { UInt8($0[0] | $0[1] << 1 | $0[2] << 2) }
            codes = inputs.flatMap { $0[3..<(3 + c.lanes)].map { UInt8($0) } }
            activations = inputs.flatMap { $0[(3 + c.lanes)...].map { Int8(truncatingIfNeeded: $0) } }
            expectedMac = expected.map { $0[0] | $0[1] << 63 }
        } else {
            (control, codes, activations, expectedMac) = ([], [], [], [])
        }
        let widths = Self.widths(unit)
        let firstInput = widths.hasReset ? 1 : 0
        func pack(_ rows: [[UInt64]], _ from: Int, _ w: [Int]) -> (words: Int, bits: [UInt64]) {
            let n = (w.reduce(0, +) + 63) / 64
            var bits = [UInt64](repeating: 0, count: rows.count * n)
            for (line, values) in rows.enumerated() {
                var b = 0
                for (v, width) in zip(values[from...], w) {
                    for i in 0..<width where (v >> UInt64(i)) & 1 == 1 { bits[line * n + (b + i) / 64] |= 1 << UInt64((b + i) % 64) }
                    b += width
                }
            }
            return (n, bits)
        }
        (inputWords, packedInputs) = pack(inputs, firstInput, widths.inputs)
        (outputWords, packedExpected) = pack(expected, 0, widths.outputs)
    }

    /// Bit widths of the input values after rst (MAC) / all input values (decoder), and of the
    /// outputs, in the order of the harness's nodes.
    static func widths(_ unit: Unit) -> (inputs: [Int], outputs: [Int], hasReset: Bool) {
        switch unit {
        case .mac(let c):
            return ([1, 1] + Array(repeating: c.weightWidth, count: c.lanes) + Array(repeating: 8, count: c.lanes), [c.accumulatorWidth, 1], true)
        case .decoder(let g, let f):
            return (Array(repeating: 4, count: g) + [1, g.trailingZeroBitCount, 16, 16], Array(repeating: f.bitWidth, count: g), false)
        }
    }

    var caseCount: Int { caseStarts.count - 1 }

    /// Case instances [first, end) of the repeated stream, cut into `parts` runs of about equal
    /// line counts.
    func segments(repetitions: Int, parts: Int) -> [Range<Int>] {
        let total = repetitions * lines
        var cuts = [0], lineCount = 0, instance = 0
        let instances = repetitions * caseCount
        for k in 1..<parts {
            let target = total * k / parts
            while instance < instances && lineCount < target {
                let c = instance % caseCount
                lineCount += caseStarts[c + 1] - caseStarts[c]
                instance += 1
            }
            cuts.append(instance)
        }
        cuts.append(instances)
        return (0..<parts).map { cuts[$0]..<cuts[$0 + 1] }
    }

    /// Calls `body(line)` for every line of the case instances in `segment`, in order.
    @inline(__always)
    func forEachLine(_ segment: Range<Int>, _ body: (Int) -> Void) {
        for instance in segment {
            let c = instance % caseCount
            for line in caseStarts[c]..<caseStarts[c + 1] { body(line) }
        }
    }

    /// `instructionSet`: the netlist simulator's (netlist and toggles models; supported by this
    /// CPU, `InstructionSet.isSupported`).
    public func run(_ model: SimulationMode, repetitions: Int, threads: Int, instructionSet: InstructionSet = .best) -> Outcome {
        let threads = max(1, threads)
        switch model {
        case .fast: return runFast(repetitions: repetitions, threads: threads)
        case .netlist, .toggles: return runSliced(repetitions: repetitions, threads: threads, counting: model == .toggles, instructionSet: instructionSet)
        }
    }

    // MARK: word-level models

    func runFast(repetitions: Int, threads: Int) -> Outcome {
        let parts = segments(repetitions: repetitions, parts: threads)
        // The MAC kernel's runs of lines per thread, worked out before the timed loop.
        let streams = isDecoder ? [] : parts.map { lineStreams($0, parts: 4) }
        let results = Locked([Outcome](repeating: Outcome(), count: threads))
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { j in
            let o: Outcome
            switch unit {
            case .mac(let c): o = fastMac(c, streams: streams[j])
            case .decoder(let g, let f): o = fastDecoder(g, f, parts[j])
            }
            results.update { $0[j] = o }
        }
        var total = Outcome()
        total.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        total.threads = threads
        for o in results.value { total.cycles += o.cycles; total.failed += o.failed }
        return total
    }

    /// The fast model on one thread's runs of lines (`lineStreams`): `MacReplayKernel`, four in lock step.
    func fastMac(_ c: MacConfiguration, streams: [(start: Int, count: Int)]) -> Outcome {
        var o = Outcome()
        o.cycles = streams.reduce(0) { $0 + $1.count }
        o.failed = control.withUnsafeBufferPointer { control in
        codes.withUnsafeBufferPointer { codes in
        activations.withUnsafeBufferPointer { activations in
        expectedMac.withUnsafeBufferPointer { expected in
            MacReplayKernel(c).failures(.init(control: control, codes: codes, activations: activations, expected: expected), streams: streams)
        }}}}
        return o
    }

    /// The case instances of `segment` as `parts` runs of consecutive lines of about equal length
    /// (fewer if there are fewer instances): a run of instances is one run of lines, since case
    /// c + 1 starts where case c ends and case 0 follows the last.
    func lineStreams(_ segment: Range<Int>, parts: Int) -> [(start: Int, count: Int)] {
        let lengths = segment.map { caseStarts[$0 % caseCount + 1] - caseStarts[$0 % caseCount] }
        let total = lengths.reduce(0, +)
        var streams: [(start: Int, count: Int)] = [], i = 0, done = 0
        for k in 1...max(1, min(parts, segment.count)) where i < lengths.count {
            let target = k == parts ? total : total * k / parts
            let first = segment.lowerBound + i
            var count = 0
            while i < lengths.count && (done < target || count == 0) { count += lengths[i]; done += lengths[i]; i += 1 }
            streams.append((caseStarts[first % caseCount], count))
        }
        if i < lengths.count {   // fewer instances than parts: the last run takes the rest
            let rest = lengths[i...].reduce(0, +)
            streams[streams.count - 1].count += rest
        }
        return streams
    }

    /// One line of a MAC set (control bits 1 rst, 2 valid, 4 clear) through the model; returns
    /// acc (masked to W bits) | valid_out << 63, the form `expectedMac` holds.
    @inline(__always)
    static func macLine(_ model: inout MacModel, _ x: UInt8, codes: UnsafePointer<UInt8>, activations: UnsafePointer<Int8>, lanes: Int, accMask: UInt64) -> UInt64 {
        MacDriver.cycle(&model, codes: codes, activations: activations, count: lanes, valid: x & 2 != 0, clear: x & 4 != 0, reset: x & 1 != 0)
        return UInt64(bitPattern: model.accumulator) & accMask | (model.validOut ? 1 << 63 : 0)
    }

    func fastDecoder(_ g: Int, _ format: BinaryFloatFormat, _ segment: Range<Int>) -> Outcome {
        var o = Outcome()
        var out = [UInt32](repeating: 0, count: g), scratch = [Int64](repeating: 0, count: g), codes = [UInt8](repeating: 0, count: g)
        forEachLine(segment) { line in
            let x = inputs[line]
            for i in 0..<g { codes[i] = UInt8(x[i]) }
            TahQuantDecoder.decodeTile(codes: codes[...], flagged: x[g] == 1, pivot: Int(x[g + 1]), scale: UInt16(x[g + 2]), zero: UInt16(x[g + 3]),
                                       output: format, into: &out, at: 0, scratch: &scratch)
            let e = expected[line]
            if (0..<g).contains(where: { UInt64(out[$0]) != e[$0] }) { o.failed += 1 }
            o.cycles += 1
        }
        return o
    }

    // MARK: bit-sliced netlists

    /// What the bit-sliced loop needs of a unit's netlist: input nodes in the order of the packed
    /// input bits, output nodes in the order of the packed expected bits, and the cycles between
    /// presenting a line and reading its outputs after an edge.
    struct Harness {
        var netlist: Netlist
        var inputNodes: [Node]
        var outputNodes: [Node]
        var startNode: Node?
        var outputDelay: Int
        var hasReset: Bool
        /// Whether a cycle goes through `MacDriver` (MAC/PE units) or the decoder's own (a start strobe).
        var isMac: Bool
    }

    func harness() -> Harness {
        switch unit {
        case .mac(let c):
            let m = MacCircuit(c)
            return Harness(netlist: m.netlist, inputNodes: MacDriver.inputNodes(m), outputNodes: MacDriver.outputNodes(m),
                           startNode: nil, outputDelay: 0, hasReset: true, isMac: true)
        case .decoder(let g, let f):
            let output: ScaleRoundStage.Output = f == .fp32 ? .fp32 : f == .bf16 ? .bf16 : .fp16
            let d = HadamardDatapath(tileSize: g, architecture: .pipelined, output: output)
            return Harness(netlist: d.netlist, inputNodes: d.codes.flatMap { $0 } + [d.flagged] + d.pivot + d.scale + d.zero,
                           outputNodes: d.values.flatMap { $0 }, startNode: d.start, outputDelay: d.latency - 1, hasReset: false, isMac: false)
        }
    }

    /// Words per node of the bit-sliced MAC/PE replay: every cell is decoded once per 64·W
    /// cases. The vector kernels (AVX2, AVX-512) take a node's 4 words as one 256-bit vector:
    /// W = 4. The scalar ones: W = 4 while the node values fit in 128 KiB (4,096 nodes: every
    /// 1-lane MAC, the 16-lane dINT and FP4 PEs), else 2 (the 16-lane INT8 PE, 5,060 nodes, is
    /// faster at 2 there; docs/performance.md). The decoder datapaths keep one word.
    static func macSliceWords(nodeCount: Int, instructionSet: InstructionSet) -> Int {
        instructionSet.rawValue >= InstructionSet.avx2.rawValue || nodeCount <= 4096 ? 4 : 2
    }

    /// One simulator's stimulus, transposed, W words per node: word (t·n + b)·W + j holds bit b
    /// of the line instance 64j + k presents in cycle t, in bit k.
    struct Sliced {
        var cycles = 0, words = 1
        var inputs: [UInt64] = [], expected: [UInt64] = [], active: [UInt64] = [], reset: [UInt64] = []
    }

    func slice(_ h: Harness, _ segments: ArraySlice<Range<Int>>, words w: Int) -> Sliced {
        var s = Sliced()
        s.words = w
        let ib = h.inputNodes.count, ob = h.outputNodes.count
        s.cycles = segments.map { seg in seg.reduce(0) { $0 + caseStarts[$1 % caseCount + 1] - caseStarts[$1 % caseCount] } }.max() ?? 0
        s.inputs = [UInt64](repeating: 0, count: s.cycles * ib * w)
        s.expected = [UInt64](repeating: 0, count: s.cycles * ob * w)
        s.active = [UInt64](repeating: 0, count: s.cycles * w)
        s.reset = s.active
        let (iw, ow) = (inputWords, outputWords)
        packedInputs.withUnsafeBufferPointer { pin in
        packedExpected.withUnsafeBufferPointer { pex in
        s.inputs.withUnsafeMutableBufferPointer { sin in
        s.expected.withUnsafeMutableBufferPointer { sex in
            // Scatter the set bits of a packed line into bit k of word j of the cycle's nodes.
            @inline(__always) func scatter(_ from: UnsafeBufferPointer<UInt64>, _ line: Int, _ words: Int,
                                           _ to: UnsafeMutableBufferPointer<UInt64>, _ row: Int, _ j: Int, _ bit: UInt64) {
                for x in 0..<words {
                    var word = from[line * words + x]
                    while word != 0 {
                        to[(row + x * 64 + word.trailingZeroBitCount) * w + j] |= bit
                        word &= word - 1
                    }
                }
            }
            for (k, seg) in segments.enumerated() {
                let j = k / 64, bit = UInt64(1) << UInt64(k % 64)
                var t = 0
                forEachLine(seg) { line in
                    s.active[t * w + j] |= bit
                    if h.hasReset && control[line] & 1 != 0 { s.reset[t * w + j] |= bit }
                    scatter(pin, line, iw, sin, t * ib, j, bit)
                    scatter(pex, line, ow, sex, t * ob, j, bit)
                    t += 1
                }
            }
        }}}}
        return s
    }

    func runSliced(repetitions: Int, threads: Int, counting: Bool, instructionSet: InstructionSet) -> Outcome {
        let prepStart = DispatchTime.now().uptimeNanoseconds
        let h = harness()
        let w = h.isMac ? Self.macSliceWords(nodeCount: h.netlist.nodeCount, instructionSet: instructionSet) : 1
        let perThread = 64 * w
        let parts = segments(repetitions: repetitions, parts: perThread * threads)
        let stimuli = Locked([Sliced](repeating: Sliced(), count: threads))
        let shared = Shared(h)   // the netlist is only read during simulation
        DispatchQueue.concurrentPerform(iterations: threads) { j in
            let s = slice(shared.value, parts[(perThread * j)..<(perThread * j + perThread)], words: w)
            stimuli.update { $0[j] = s }
        }
        let prepared = stimuli.value
        let results = Locked([Outcome](repeating: Outcome(), count: threads))
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { j in
            let o = Self.simulate(shared.value, prepared[j], counting: counting, instructionSet: instructionSet)
            results.update { $0[j] = o }
        }
        var total = Outcome()
        total.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        total.preparationSeconds = Double(start - prepStart) / 1e9
        total.threads = threads
        for o in results.value { total.cycles += o.cycles; total.failed += o.failed; total.toggles += o.toggles }
        return total
    }

    static func simulate(_ h: Harness, _ s: Sliced, counting: Bool, instructionSet: InstructionSet) -> Outcome {
        var o = Outcome()
        guard s.cycles > 0 else { return o }
        let w = s.words
        let sim = Simulator(h.netlist, countsToggles: counting, wordsPerNode: w, instructionSet: instructionSet)
        let ib = h.inputNodes.count, ob = h.outputNodes.count
        let idle = [UInt64](repeating: 0, count: ib * w), noReset = [UInt64](repeating: 0, count: w)
        var difference = [UInt64](repeating: 0, count: w)
        s.inputs.withUnsafeBufferPointer { inputs in
        s.expected.withUnsafeBufferPointer { expected in
        s.active.withUnsafeBufferPointer { activeWords in
        s.reset.withUnsafeBufferPointer { resetWords in
        idle.withUnsafeBufferPointer { idle in
        noReset.withUnsafeBufferPointer { noReset in
        difference.withUnsafeMutableBufferPointer { difference in
            for t in 0..<(s.cycles + h.outputDelay) {
                let presenting = t < s.cycles
                let active = activeWords.baseAddress! + (presenting ? t : s.cycles - 1) * w
                let words = presenting ? inputs.baseAddress! + t * ib * w : idle.baseAddress!
                if h.isMac {
                    MacDriver.cycle(sim, inputs: h.inputNodes, words: words, active: active,
                                    reset: presenting ? resetWords.baseAddress! + t * w : noReset.baseAddress!)
                } else {
                    sim.activeMask = active[0]
                    sim.set(h.inputNodes, words: words)
                    if let start = h.startNode { sim.set(start, word: presenting ? active[0] : 0) }
                    sim.evaluate()
                    sim.clock(resetting: 0)
                }
                let p = t - h.outputDelay
                if p >= 0 {
                    sim.differences(h.outputNodes, expected: expected.baseAddress! + p * ob * w, into: difference.baseAddress!)
                    for j in 0..<w {
                        o.failed += (difference[j] & activeWords[p * w + j]).nonzeroBitCount
                        o.cycles += activeWords[p * w + j].nonzeroBitCount
                    }
                }
            }
        }}}}}}}
        o.toggles = sim.totalToggles
        return o
    }
}


extension VectorReplay {
    public var isDecoder: Bool { if case .decoder = unit { return true } else { return false } }
}
