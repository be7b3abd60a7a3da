import Exact
import Formats
import Quantization
import Units
import Workloads

/// Cycle-per-line vectors for the INT8, dINT and FP4 MACs and their N-lane PEs.
///
/// Line = one clock cycle: inputs `rst valid clear w[0..N) a[0..N)` held during the cycle, then
/// the registers' values *after* the rising edge that ends it (`acc` as W-bit two's complement,
/// `valid_out`), then flags describing the transaction presented in this cycle. Every case
/// starts with a reset cycle (all registers ← 0) and ends with D − 1 idle cycles, so its last
/// transaction is visible on its last line and no case depends on another.
public struct MacVectors: VectorUnit {
    public let mac: MacConfiguration
    let format: LevelFormat?
    /// Largest number of transactions a level-1 accumulator-edge case may take.
    public static let edgeBudget = 1 << 16

    /// (code, activation) pairs with the largest positive and the most negative product.
    let extremePairs: (positive: (UInt64, UInt64), negative: (UInt64, UInt64))
    let maxProduct: Int
    let minProduct: Int

    public init(_ mac: MacConfiguration) throws {
        switch mac.kind {
        case .int8: format = nil
        case .dint, .fp4: format = mac.kind.weightFormat
        case .codeBook: throw VectorError.invalid("vectors are generated for int8-mac, dint-mac and fp4-mac (code-book MACs have no RTL reference)")
        }
        self.mac = mac
        var best = (p: 0, n: 0, pp: (UInt64(0), UInt64(0)), np: (UInt64(0), UInt64(0)))
        for c in 0..<UInt64(1 << mac.weightWidth) where !Self.isReserved(c, format) {
            for a in 0..<UInt64(256) {
                let v = Self.weightValue(c, format) * Int(Int8(truncatingIfNeeded: UInt8(a)))
                if v > best.p { best.p = v; best.pp = (c, a) }
                if v < best.n { best.n = v; best.np = (c, a) }
            }
        }
        extremePairs = (best.pp, best.np)
        maxProduct = best.p
        minProduct = best.n
    }

    public var unitName: String { mac.kind.description }
    var lanes: Int { mac.lanes }
    var codeCount: Int { 1 << mac.weightWidth }

    public var layout: VectorLayout {
        VectorLayout([
            VectorField("rst", width: 1, role: .input), VectorField("valid", width: 1, role: .input),
            VectorField("clear", width: 1, role: .input),
            VectorField("w", width: mac.weightWidth, count: lanes, role: .input), VectorField("a", width: 8, count: lanes, role: .input),
            VectorField("acc", width: mac.accumulatorWidth, role: .output), VectorField("valid_out", width: 1, role: .output),
            VectorField("flags", width: 8, role: .flags),
        ])
    }

    public static let flags = MacFlags.names
    public var flagNames: [String] { Self.flags }

    /// `MacConfiguration`'s own serialization.
    public var configurationJSON: String { mac.json }

    public var verilogParameters: [(String, Int)] { mac.verilogParameters! }

    // MARK: Operand tables

    /// A weight code's value in product units (int8: the value; dINT: half-steps), written from
    /// the format definitions rather than taken from the MAC configuration's table.
    static func weightValue(_ code: UInt64, _ format: LevelFormat?) -> Int {
        if let format { return format.decodeHalfSteps(UInt8(code)) }
        return Int(Int8(truncatingIfNeeded: UInt8(code)))
    }
    func weightValue(_ code: UInt64) -> Int { Self.weightValue(code, format) }

    /// Weight codes that deserve a line of their own (top, bottom, ±1, denormal, reserved, ones/zeros).
    var boundaryWeights: [UInt64] {
        if format != nil { return (0..<16).map(UInt64.init) }
        return [0x00, 0x01, 0x02, 0x7f, 0x7e, 0x80, 0x81, 0xff, 0xfe, 0x40, 0xc0, 0x55, 0xaa, 0x0f, 0xf0]
    }
    static let boundaryActivations: [UInt64] = [0x00, 0x01, 0x02, 0x7f, 0x7e, 0x80, 0x81, 0xff, 0xfe, 0x40, 0xc0, 0x55, 0xaa, 0x0f, 0xf0]

    static func isReserved(_ code: UInt64, _ format: LevelFormat?) -> Bool { format?.reserved[Int(code)] ?? false }
    func isReserved(_ code: UInt64) -> Bool { Self.isReserved(code, format) }
    /// The code whose value is one product unit (int8 1; dINT's +½ denormal = 1 half-step).
    var unitCode: UInt64 { format.map { f in UInt64((0..<16).first { f.decodeHalfSteps(UInt8($0)) == 1 }!) } ?? 1 }

    // MARK: Cases

    struct Transaction {
        var valid: Bool; var clear: Bool; var w: [UInt64]; var a: [UInt64]
        /// A reset line inside the case (its other inputs are presented but ignored).
        var rst = false
    }

    var chainWeights: [UInt64] { format != nil ? (0..<16).map(UInt64.init) : [0x7f, 0x80, 0x81, 0x01, 0xff, 0x00, 0x55, 0xaa] }
    /// Accumulator edge targets: (target, step across it).
    var edgeTargets: [(Int, Int)] {
        let hi = (1 << (mac.accumulatorWidth - 1)) - 1, lo = -(1 << (mac.accumulatorWidth - 1))
        return [(hi, 1), (hi - 1, 1), (lo, -1), (lo + 1, -1)]
    }
    var edgeTransactions: Int { (1 << (mac.accumulatorWidth - 1)) / (lanes * min(maxProduct, -minProduct)) + 140 }
    var edgesIncluded: Bool { edgeTransactions <= Self.edgeBudget }

    var exhaustiveCases: Int { (codeCount * 256 + 256 * lanes - 1) / (256 * lanes) }
    public var levelOneCaseCount: Int { exhaustiveCases + chainWeights.count + 1 + (edgesIncluded ? edgeTargets.count : 0) + 2 }

    public var notes: [String] {
        edgesIncluded ? [] : ["accumulator overflow/saturation edges left out of level 1: reaching them takes about \(edgeTransactions) transactions at W = \(mac.accumulatorWidth) (budget \(Self.edgeBudget)); use a narrower --acc-width"]
    }

    public func makeCase(_ index: Int, seed: UInt64) -> VectorCase {
        var t: [Transaction]
        var category: String
        var i = index
        let zeros = [UInt64](repeating: 0, count: lanes)
        if i < exhaustiveCases {
            // Every (code, activation) pair once: pair k = (transaction · lanes + lane) over the
            // set's exhaustive cases, code k / 256, activation k mod 256; each transaction
            // clears, so acc = the lane sum. Pairs beyond 2^b · 256 (last case) are zero.
            category = "exhaustive-products"
            let pairs = codeCount * 256
            t = (0..<256).compactMap { step -> Transaction? in
                let first = (i * 256 + step) * lanes
                guard first < pairs else { return nil }
                let ks = (0..<lanes).map { first + $0 }
                return Transaction(valid: true, clear: true, w: ks.map { $0 < pairs ? UInt64($0 / 256) : 0 }, a: ks.map { $0 < pairs ? UInt64($0 % 256) : 0 })
            }
            return cycles(index, category, t)
        }
        i -= exhaustiveCases
        if i < chainWeights.count {
            // One weight against every activation, accumulated (running sums through the adder).
            category = "accumulate-chain"
            let w = chainWeights[i]
            t = (0..<256).map { a in Transaction(valid: true, clear: a == 0, w: Array(repeating: w, count: lanes), a: (0..<lanes).map { UInt64((a + 53 * $0) & 255) }) }
            return cycles(index, category, t)
        }
        i -= chainWeights.count
        if i == 0 { return cycles(index, "valid-clear-patterns", validClearPatterns()) }
        i -= 1
        if edgesIncluded && i < edgeTargets.count {
            let (target, step) = edgeTargets[i]
            t = reach(target)
            t.append(Transaction(valid: true, clear: false, w: [unitCode] + zeros.dropFirst(), a: [UInt64(UInt8(bitPattern: Int8(step)))] + zeros.dropFirst()))
            // Far across the edge, then back: saturation must hold the clamp and come back down.
            let e = extremePairs
            let out = step > 0 ? e.positive : e.negative, back = step > 0 ? e.negative : e.positive
            t.append(Transaction(valid: true, clear: false, w: Array(repeating: out.0, count: lanes), a: Array(repeating: out.1, count: lanes)))
            t.append(Transaction(valid: true, clear: false, w: Array(repeating: back.0, count: lanes), a: Array(repeating: back.1, count: lanes)))
            return cycles(index, "accumulator-edge", t)
        }
        if edgesIncluded { i -= edgeTargets.count }
        if i == 0 { return cycles(index, "boundary-cross", boundaryCross()) }
        if i == 1 { return cycles(index, "reset-mid-pipeline", resetMidPipeline()) }
        return randomCase(index, seed: seed)
    }

    /// Transactions that bring a cleared accumulator exactly to `target`.
    func reach(_ target: Int) -> [Transaction] {
        var t = [Transaction]()
        var r = target
        let e = extremePairs
        repeat {
            var w = [UInt64](repeating: 0, count: lanes), a = w
            for j in 0..<lanes where r != 0 {
                if r >= maxProduct { (w[j], a[j]) = e.positive; r -= maxProduct }
                else if r <= minProduct { (w[j], a[j]) = e.negative; r -= minProduct }
                else { let v = min(max(r, -128), 127); w[j] = unitCode; a[j] = UInt64(UInt8(bitPattern: Int8(v))); r -= v }
            }
            t.append(Transaction(valid: true, clear: t.isEmpty, w: w, a: a))
        } while r != 0
        return t
    }

    /// Valid gaps, clears with and without valid, back-to-back clears, reserved codes.
    func validClearPatterns() -> [Transaction] {
        let pattern: [(Bool, Bool)] = [(true, true), (true, false), (true, false), (false, true), (true, false), (false, false), (false, false),
                                       (true, true), (true, true), (false, false), (true, false), (false, true), (false, true), (true, false),
                                       (true, true), (false, false), (true, false), (true, false), (true, true), (false, false), (false, false), (false, false), (true, false)]
        let weights = boundaryWeights
        return pattern.enumerated().map { k, vc in
            Transaction(valid: vc.0, clear: vc.1, w: (0..<lanes).map { weights[(3 * k + $0) % weights.count] },
                        a: (0..<lanes).map { Self.boundaryActivations[(5 * k + 2 * $0 + 1) % Self.boundaryActivations.count] })
        }
    }

    /// `rst` while transactions are in flight, twice (pipeline full, then one transaction deep):
    /// the idle lines after it must show 0 (nothing in flight lands) and the next transaction,
    /// without clear, must add to 0 (the accumulator was cleared). The reset line presents
    /// non-zero operands with valid, which it must ignore.
    func resetMidPipeline() -> [Transaction] {
        let e = extremePairs
        let load = Transaction(valid: true, clear: true, w: Array(repeating: unitCode, count: lanes), a: Array(repeating: 0x55, count: lanes))
        let big = Transaction(valid: true, clear: false, w: Array(repeating: e.positive.0, count: lanes), a: Array(repeating: e.positive.1, count: lanes))
        let small = Transaction(valid: true, clear: false, w: Array(repeating: unitCode, count: lanes), a: Array(repeating: 3, count: lanes))
        var reset = big
        reset.rst = true
        let idle = Transaction(valid: false, clear: false, w: Array(repeating: 0, count: lanes), a: Array(repeating: 0, count: lanes))
        let drain = Array(repeating: idle, count: mac.pipelineDepth)
        return [load, big, big, reset] + drain + [small] + drain + [load, reset] + drain + [small, small]
    }

    /// Boundary weights × boundary activations on every lane, each transaction cleared.
    func boundaryCross() -> [Transaction] {
        var t = [Transaction]()
        for w in boundaryWeights {
            for a in Self.boundaryActivations {
                t.append(Transaction(valid: true, clear: true, w: Array(repeating: w, count: lanes), a: (0..<lanes).map { j in Self.boundaryActivations[(Self.boundaryActivations.firstIndex(of: a)! + j) % Self.boundaryActivations.count] }))
            }
        }
        return t
    }

    static let randomKinds = ["random-uniform", "random-boundary", "llm-like"]

    /// Level 2: 1…64 transactions, valid with probability 7/8, clear 1/8 (the first always
    /// loads); operands uniform, boundary-weighted, or LLM-like (Student-t weights quantized to
    /// the weight format per case, outlier-channel activations quantized to INT8, RNE).
    func randomCase(_ index: Int, seed: UInt64) -> VectorCase {
        var r = caseRandom(seed: seed, index: index)
        let kind = Self.randomKinds[index % 3]
        let length = 1 + r.below(64)
        var wPool = [UInt64](), aPool = [UInt64]()
        if kind == "llm-like" {
            let n = length * lanes
            let ws = Distribution.studentT.sample(rows: 1, columns: n, seed: r.next())
            let xs = Distribution.outlierChannels.sample(rows: 1, columns: n, seed: r.next())
            // One row of n: the operand rule, with the whole case as one channel / token.
            let (codes, acts) = try! OperandQuantization.operands(weights: ws, weightRows: 1, activations: xs, activationRows: 1, length: n,
                                                                  weightFormat: mac.kind.operandWeightFormat)
            wPool = codes.map(UInt64.init)
            aPool = acts.map { UInt64(UInt8(bitPattern: $0)) }
        }
        var t = [Transaction]()
        for k in 0..<length {
            var w = [UInt64](), a = [UInt64]()
            for j in 0..<lanes {
                switch kind {
                case "random-uniform": w.append(UInt64(r.below(codeCount))); a.append(UInt64(r.below(256)))
                case "random-boundary":
                    let bw = boundaryWeights, ba = Self.boundaryActivations
                    w.append(r.chance(1, in: 2) ? bw[r.below(bw.count)] : UInt64(r.below(codeCount)))
                    a.append(r.chance(1, in: 2) ? ba[r.below(ba.count)] : UInt64(r.below(256)))
                default: w.append(wPool[k * lanes + j]); a.append(aPool[k * lanes + j])
                }
            }
            let valid = k == 0 || r.chance(7, in: 8)
            t.append(Transaction(valid: valid, clear: k == 0 || r.chance(1, in: 8), w: w, a: a))
        }
        return cycles(index, kind, t)
    }



    public var outputLatency: Int { mac.pipelineDepth - 1 }

    /// Lines of a case: reset, the transactions, D − 1 idle cycles.
    func cycles(_ index: Int, _ category: String, _ t: [Transaction]) -> VectorCase {
        let layout = self.layout
        var lines = [[UInt64]]()
        lines.reserveCapacity(t.count + mac.pipelineDepth)
        func line(rst: Bool, _ x: Transaction?) -> [UInt64] {
            var v = [UInt64](repeating: 0, count: layout.valueCount)
            v[0] = rst || x?.rst == true ? 1 : 0
            if let x {
                v[1] = x.valid ? 1 : 0; v[2] = x.clear ? 1 : 0
                for j in 0..<lanes { v[3 + j] = x.w[j]; v[3 + lanes + j] = x.a[j] }
            }
            return v
        }
        lines.append(line(rst: true, nil))
        for x in t { lines.append(line(rst: false, x)) }
        for _ in 0..<(mac.pipelineDepth - 1) { lines.append(line(rst: false, nil)) }
        return VectorCase(index: index, category: category, lines: lines)
    }

    // MARK: Models

    func inputs(_ v: [UInt64]) -> (rst: Bool, valid: Bool, clear: Bool, w: ArraySlice<UInt64>, a: ArraySlice<UInt64>) {
        (v[0] == 1, v[1] == 1, v[2] == 1, v[3..<(3 + lanes)], v[(3 + lanes)..<(3 + 2 * lanes)])
    }

    var accMask: UInt64 { (1 << UInt64(mac.accumulatorWidth)) - 1 }

    /// The simulator's word-level cycle model (`MacModel`), a fresh one per reset.
    public func fastOutputs(_ c: VectorCase) -> [[UInt64]] {
        var model = MacModel(mac)
        return c.lines.map { v in
            let x = inputs(v)
            let codes = x.w.map { UInt8($0) }, acts = x.a.map { Int8(truncatingIfNeeded: UInt8($0)) }
            MacDriver.cycle(&model, codes: codes, activations: acts, count: lanes, valid: x.valid, clear: x.clear, reset: x.rst)
            return [UInt64(bitPattern: model.accumulator) & accMask, model.validOut ? 1 : 0]
        }
    }

    /// GMP running sums with the overflow rule applied to the exact sum; the transaction of line
    /// t lands at the edge ending line t + D − 1.
    public func exact(_ c: VectorCase) -> (outputs: [[UInt64]], flags: [UInt64]) {
        let w = mac.accumulatorWidth
        let modulus = BigInteger(1).shiftedLeft(w), half = BigInteger(1).shiftedLeft(w - 1)
        let hi = half - BigInteger(1), lo = -half
        var acc = BigInteger(0)
        var outputs = [[UInt64]](repeating: [0, 0], count: c.lines.count), flags = [UInt64](repeating: 0, count: c.lines.count)
        var landing = [Int: (valid: Bool, clear: Bool, sum: BigInteger, line: Int)]()
        for (t, v) in c.lines.enumerated() {
            let x = inputs(v)
            if x.rst {
                acc = BigInteger(0); landing.removeAll()
            } else {
                var sum = BigInteger(0), f: UInt64 = 0
                for j in 0..<lanes {
                    let p = weightValue(x.w[x.w.startIndex + j]) * Int(Int8(truncatingIfNeeded: UInt8(x.a[x.a.startIndex + j])))
                    sum = sum + BigInteger(p)
                    if format.map({ abs($0.decodeHalfSteps(UInt8(x.w[x.w.startIndex + j]))) == 1 }) ?? false { f |= 1 << 2 }
                    if isReserved(x.w[x.w.startIndex + j]) { f |= 1 << 3 }
                    if p == maxProduct || p == minProduct { f |= 1 << 4 }
                }
                if x.clear && !x.valid { f |= 1 << 5 }
                flags[t] = f
                landing[t + mac.pipelineDepth - 1] = (x.valid, x.clear, sum, t)
            }
            var validOut = false
            if !x.rst, let tr = landing.removeValue(forKey: t) {
                validOut = tr.valid
                if tr.valid {
                    let e = (tr.clear ? BigInteger(0) : acc) + tr.sum
                    if e > hi || e < lo {
                        if mac.overflow == .wrap {
                            var m = e.floorDivided(by: modulus).remainder
                            if !(m < half) { m = m - modulus }
                            acc = m; flags[tr.line] |= 1
                        } else {
                            acc = e > hi ? hi : lo; flags[tr.line] |= 2
                        }
                    } else {
                        acc = e
                    }
                }
            }
            let pattern = acc.signum < 0 ? acc + modulus : acc
            outputs[t] = [UInt64(pattern.intValue!), validOut ? 1 : 0]
        }
        return (outputs, flags)
    }
}
