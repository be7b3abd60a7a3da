import Testing
import Foundation
import Formats
import Exact
import Quantization
import TensorIO
import PropertyChecking

/// MXFP4 and NVFP4 against the GMP oracle: every tensor scale, block scale and element code.
@Suite struct BlockFloatQuantizerTests {
    /// Independent re-derivation of one quantization with rationals; returns the first mismatch.
    static func oracleMismatch(_ q: BlockQuantizedTensor, input x: [Float], rule: RoundingRule, mxScale: MXScaleRule = .floor,
                               signedZero: SignedZero = .keep, seed: UInt64 = 0, bits: Int = 16) -> String? {
        let tensorMax = x.map { abs($0) }.max() ?? 0
        var s = Rational(1)
        if q.scheme == .nvfp4 && tensorMax != 0 {
            var bits = Oracle.encode(Rational(exactly: Double(tensorMax))! / Rational(2688), as: .fp32)
            if bits == 0 { bits = 1 } // the documented underflow rule: 2^-149
            if q.tensorScale.bitPattern != bits { return "tensor scale \(q.tensorScale) vs oracle bits \(bits)" }
            s = Oracle.value(ofBits: bits, format: .fp32)!
        } else if q.tensorScale != 1 {
            return "tensor scale \(q.tensorScale), expected 1"
        }
        for r in 0..<q.rows {
            for b in 0..<q.blocksPerRow {
                let columns = (b * q.blockSize)..<min(q.columns, (b + 1) * q.blockSize)
                let block = columns.map { x[r * q.columns + $0] }
                let m = Rational(exactly: Double(block.map { abs($0) }.max()!))!
                let code: UInt32
                if m.signum == 0 {
                    code = 0
                } else if q.scheme == .mxfp4 {
                    let draw = CounterRandom(seed: seed).stochasticDraw(1 << 63 | UInt64(r * q.blocksPerRow + b), bits: bits)
                    code = UInt32(min(max(Self.mxExponent(m, mxScale, draw: draw), -127), 127) + 127)
                } else {
                    code = Oracle.encode(m / (Rational(6) * s), as: .e4m3, rounding: .toNearestOrEven, saturating: true)
                }
                if UInt32(q.blockScales[r * q.blocksPerRow + b]) != code { return "row \(r) block \(b): scale code \(q.blockScales[r * q.blocksPerRow + b]) vs \(code)" }
                let scale = Oracle.value(ofBits: code, format: q.scheme.scaleFormat)! * s
                for c in columns {
                    let v = x[r * q.columns + c]
                    let level = m.signum == 0 || scale.signum == 0 ? LevelFormat.fp4.zeroCode
                        : Oracle.level(of: Rational(exactly: Double(v))! / scale, in: .fp4, rounding: rule).code
                    // Sign of zero: at level 0 E2M1's 1000 for a value with its sign bit set (keep), or
                    // whose binary32 quotient fl32(v / scale) is negative (sign-of-value).
                    let negative: Bool
                    switch signedZero {
                    case .keep: negative = v.sign == .minus
                    case .flush: negative = false
                    case .signOfValue: negative = v < 0 && (scale.signum == 0 || Rational(exactly: Double(-v))! / scale > Rational.one.timesPowerOfTwo(-150))
                    }
                    let expected = level == 0 && negative ? 0b1000 : level
                    if q.codes[r * q.columns + c] != expected { return "(\(r), \(c)) = \(v): code \(q.codes[r * q.columns + c]) vs \(expected)" }
                }
            }
        }
        return nil
    }

    /// The MX shared exponent from the rule's definition, on rationals (docs/quantization.md).
    static func mxExponent(_ m: Rational, _ rule: MXScaleRule, draw: UInt32 = 0) -> Int {
        func ceilLog2(_ t: Rational) -> Int { t == Rational.one.timesPowerOfTwo(t.binaryExponent) ? t.binaryExponent : t.binaryExponent + 1 }
        switch rule {
        case .floor: return m.binaryExponent - 2
        case .ceil: return ceilLog2(m) - 2
        case .rceil: return ceilLog2(m / Rational(6))
        case .even:
            // m rounded to 2 significant bits, ties to even: q = m / 2^(e−1) ∈ [2, 4).
            let e = m.binaryExponent
            let (n, fraction) = m.timesPowerOfTwo(1 - e).floorAndFraction
            let half = Rational(1, 2)
            let up = fraction > half || (fraction == half && n.isBitSet(0))
            return (Rational(n) + (up ? Rational.one : Rational(0))).timesPowerOfTwo(e - 1).binaryExponent - 2
        case .stochastic:
            // m / 6 between 2^j and 2^(j+1): up iff 2^16 · (m/6 − 2^j) > r · 2^j.
            let d = m / Rational(6), j = d.binaryExponent, lo = Rational.one.timesPowerOfTwo(j)
            return (d - lo).timesPowerOfTwo(16) > Rational(Int(draw)) * lo ? j + 1 : j
        }
    }

    /// A scale format's stochastic rounding of q ≥ 0 with draw r, saturating (docs/quantization.md,
    /// "Stochastic block scales"): lo = q toward zero, hi the next value, hi iff 2^16 (q − lo) > r (hi − lo).
    static func stochasticCode(_ q: Rational, as format: BinaryFloatFormat, draw r: UInt32) -> UInt32 {
        let lo = Oracle.encode(q, as: format, rounding: .towardZero, saturating: true)
        let loValue = Oracle.value(ofBits: lo, format: format)!
        if loValue == q || lo == format.maxFiniteBits { return lo }
        let hi = Oracle.value(ofBits: lo + 1, format: format)!
        return (q - loValue).timesPowerOfTwo(16) > Rational(Int(r)) * (hi - loValue) ? lo + 1 : lo
    }

    /// Every MX scale rule: block scales and element codes against the oracle, on the generated
    /// tensors (ties, zero blocks, tiny blocks) and on MiniLM rows (stochastic: seed 9, 16 and 3 bits).
    @Test(arguments: MXScaleRule.allCases)
    func everyMXScaleRuleEqualsTheOracle(rule: MXScaleRule) throws {
        for bits in rule == .stochastic ? [16, 3] : [16] {
            try checkMXScaleRule(rule, seed: 9, bits: bits)
        }
    }

    func checkMXScaleRule(_ rule: MXScaleRule, seed: UInt64, bits: Int) throws {
        let q = try BlockFloatQuantizer(BlockFloatVariant(.mxfp4, mxScale: rule), seed: seed, stochasticBits: bits)
        let report = checkProperty(seed: 0x3C41 + UInt64(MXScaleRule.allCases.firstIndex(of: rule)!), count: 16, generate: { s -> [Int] in
            [Generate.int(1...6, &s), Generate.int(1...80, &s), Int(s.next() & 0xFFFF)]
        }) { p in
            var s = CounterStream(seed: UInt64(p[2]))
            var x = Self.tensor(&s, rows: p[0], columns: p[1], scheme: .mxfp4)
            // Block maxima on the rules' boundaries: significands 1, 1.5, 1.75 and neighbours.
            let edges: [Float] = [1, 1.5, 1.75].flatMap { [$0.nextDown, $0, $0.nextUp] }
            for i in stride(from: 0, to: x.count, by: 32) { x[i] = edges[Generate.int(0...(edges.count - 1), &s)] * Float(sign: .plus, exponent: Generate.int(-140...120, &s), significand: 1) }
            guard let result = try? q.quantize(x, rows: p[0], columns: p[1]) else { return "threw" }
            return Self.oracleMismatch(result, input: x, rule: .toNearestOrEven, mxScale: rule, seed: seed, bits: bits)
        }
        #expect(report.passed, "\(rule) \(bits) bits: \(report)")
        let a = try Files.readNpy(Fixtures.path("minilm-l1-key-weight.npy"))
        let (_, columns) = try a.matrixShape()
        let x = Array(try a.floatValues().prefix(24 * columns))
        #expect(Self.oracleMismatch(try q.quantize(x, rows: 24, columns: columns), input: x, rule: .toNearestOrEven, mxScale: rule,
                                    seed: seed, bits: bits) == nil)
    }

    /// RCEIL as NVIDIA's and torchao's kernels compute it — d = fl32(m · fl32(1/6)), then d rounded
    /// up to a power of two — equals the exact ⌈log2(m / 6)⌉ for every binary32 significand of m
    /// (checked in one binade; the rule is scale-invariant away from the subnormal range, which
    /// the oracle test covers).
    @Test func rceilWithTheFloat32ReciprocalIsTheExactRule() {
        let sixth = Float(1) / 6
        var mismatches = 0
        for f in UInt32(0)..<(1 << 23) {
            let m = Float(bitPattern: 0x3f80_0000 | f) // [1, 2)
            let d = m * sixth
            let kernel = Int(d.exponent) + (d.significand == 1 ? 0 : 1)
            if kernel != MXScaleRule.rceil.exponent(forMaxMagnitude: m) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// Rows of blocks with a wide spread of magnitudes, zeros, exact E2M1 ties and midpoints of
    /// the block's own scale, an all-zero block, and a block scale that underflows E4M3.
    static func tensor(_ s: inout CounterStream, rows: Int, columns: Int, scheme: BlockFloatScheme) -> [Float] {
        var x = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let rowScale = Float(sign: .plus, exponent: Generate.int(-30...10, &s), significand: 1)
            let kind = Generate.int(0...9, &s)
            for c in 0..<columns {
                let v: Float
                switch Generate.int(0...5, &s) {
                case 0: v = 0
                case 1:
                    // k/4 of a power-of-two scale: E2M1 levels, midpoints and ties for MXFP4.
                    v = Float(Generate.int(0...32, &s)) / 4 * rowScale
                default: v = Generate.float(exponents: -6...3, &s) * rowScale
                }
                x[r * columns + c] = kind == 0 ? 0 : kind == 1 ? v * 0x1p-40 : (Generate.bool(&s) ? -v : v)
            }
        }
        return x
    }

    @Test(arguments: BlockFloatScheme.allCases, RoundingRule.deterministic)
    func everyScaleAndCodeEqualsTheOracle(scheme: BlockFloatScheme, rule: RoundingRule) throws {
        let q = try BlockFloatQuantizer(scheme: scheme, rounding: rule)
        let report = checkProperty(seed: 0xB10C + UInt64(rule.hashValue & 0xFF), count: 12, generate: { s -> [Int] in
            [Generate.int(1...6, &s), Generate.int(1...80, &s), Int(s.next() & 0xFFFF)]
        }) { p in
            var s = CounterStream(seed: UInt64(p[2]))
            let x = Self.tensor(&s, rows: p[0], columns: p[1], scheme: scheme)
            guard let result = try? q.quantize(x, rows: p[0], columns: p[1]) else { return "threw" }
            return Self.oracleMismatch(result, input: x, rule: rule)
        }
        #expect(report.passed, "\(report)")
    }

    @Test(arguments: BlockFloatScheme.allCases)
    func realWeightsEqualTheOracle(scheme: BlockFloatScheme) throws {
        let a = try Files.readNpy(Fixtures.path("minilm-l1-key-weight.npy"))
        let (rows, columns) = try a.matrixShape()
        let x = Array(try a.floatValues().prefix(24 * columns))
        let q = try BlockFloatQuantizer(scheme: scheme).quantize(x, rows: 24, columns: columns)
        #expect(Self.oracleMismatch(q, input: x, rule: .toNearestOrEven) == nil)
        #expect(rows > 24)
    }

    /// Re-quantizing the dequantized tensor gives the same codes. For MXFP4 the whole path is
    /// idempotent (the block maximum keeps its power of two); for NVFP4 the block scales can
    /// move (a block whose largest code is below 6 gets a smaller scale), so the element
    /// decision is checked with the scales held fixed.
    @Test(arguments: BlockFloatScheme.allCases, RoundingRule.deterministic)
    func requantizingIsIdempotent(scheme: BlockFloatScheme, rule: RoundingRule) throws {
        let q = try BlockFloatQuantizer(scheme: scheme, rounding: rule)
        var s = CounterStream(seed: 77)
        let (rows, columns) = (5, 70)
        let x = Self.tensor(&s, rows: rows, columns: columns, scheme: scheme)
        let first = try q.quantize(x, rows: rows, columns: columns)
        // Exact in binary64 (E2M1 × E4M3 × FP32 has at most 30 significant bits); in binary32 too
        // for MXFP4 (E2M1 × a power of two).
        let y = (0..<(rows * columns)).map { first.dequantized(row: $0 / columns, column: $0 % columns) }
        if scheme == .mxfp4 {
            let second = try q.quantize(y.map { Float($0) }, rows: rows, columns: columns)
            #expect(second.codes.map { LevelFormat.fp4.decodeHalfSteps($0) } == first.codes.map { LevelFormat.fp4.decodeHalfSteps($0) })
            #expect(second.blockScales == first.blockScales)
        }
        let selector = LevelSelector(format: .fp4, rule: rule)
        for i in 0..<(rows * columns) {
            let scale = first.elementScale(block: (i / columns) * first.blocksPerRow + (i % columns) / first.blockSize)
            guard scale != 0 else { continue }
            // Levels, not codes: a negative zero dequantizes to +0, so its code comes back 0000.
            #expect(selector.halfSteps(atIndex: selector.select(y[i], scale: scale).index) == Double(LevelFormat.fp4.decodeHalfSteps(first.codes[i])))
        }
    }

    @Test func blocksNeverStraddleRows() throws {
        for scheme in BlockFloatScheme.allCases {
            let q = try BlockFloatQuantizer(scheme: scheme)
            var s = CounterStream(seed: 5)
            let x = Self.tensor(&s, rows: 3, columns: 37, scheme: .mxfp4)
            let whole = try q.quantize(x, rows: 3, columns: 37)
            for r in 0..<3 where scheme == .mxfp4 { // MX block scales depend on the block only
                let alone = try q.quantize(Array(x[(r * 37)..<((r + 1) * 37)]), rows: 1, columns: 37)
                #expect(Array(whole.codes[(r * 37)..<((r + 1) * 37)]) == alone.codes)
                #expect(Array(whole.blockScales[(r * 2)..<((r + 1) * 2)]) == alone.blockScales)
            }
            #expect(whole.blocksPerRow == (37 + q.blockSize - 1) / q.blockSize)
        }
    }

    @Test func theScaleRulesOnKnownBlocks() throws {
        // max 7.5 → X = 2^(2 − 2) = 1: 7.5 saturates to 6 (the MX clipping), 5 ties to 4, −0.25
        // ties to 0 and keeps its sign (1000), 0.3 → ½.
        let mx = try BlockFloatQuantizer(scheme: .mxfp4).quantize([7.5, 5, -0.25, 0.3], rows: 1, columns: 4)
        #expect(mx.blockScales == [127] && mx.codes == [0b0111, 0b0110, 0b1000, 0b0001])
        let flushed = try BlockFloatQuantizer(scheme: .mxfp4, signedZero: .flush).quantize([7.5, 5, -0.25, 0.3], rows: 1, columns: 4)
        #expect(flushed.codes == [0b0111, 0b0110, 0, 0b0001])
        #expect(mx.statistics.underflowCount == 1 && mx.statistics.clipCount == 1)
        // NVFP4: S = 6/2688 = 1/448, block scale 6/(6·S) = 448 → E4M3 max; elements x / 1 … per unit.
        let nv = try BlockFloatQuantizer(scheme: .nvfp4).quantize([6, 3, 1.5, -0.5], rows: 1, columns: 4)
        #expect(nv.tensorScale == Float(6) / 2688 && nv.blockScales == [0x7E])
        #expect(nv.codes == [0b0111, 0b0101, 0b0011, 0b1001])
        #expect(throws: QuantizationError.self) { try BlockFloatQuantizer(.init(.nvfp4), rounding: .stochastic, stochasticBits: 0) }
        #expect(throws: QuantizationError.self) { try BlockFloatQuantizer(.init(.nvfp4), rounding: .toNearestOrEven, stochasticBits: 8) }
        #expect(throws: QuantizationError.self) { try BlockFloatQuantizer(scheme: .mxfp4).quantize([1, .nan], rows: 1, columns: 2) }
    }
}

/// NVFP4's conventions (docs/quantization.md, "NVFP4 conventions") against the GMP oracle: every
/// binary32 step of each tensor-scale form, block-scale quotient, scale floor and element division
/// redone on rationals, rounding named at each step.
@Suite struct NVFP4ConventionTests {
    /// fl32 of an exact value; nil when it overflows (the recipe then takes FLT_MAX or ±∞).
    static func fl32(_ v: Rational) -> Rational? { Oracle.value(ofBits: Oracle.encode(v, as: .fp32), format: .fp32) }
    static let fltMax = Rational(exactly: Double(Float.greatestFiniteMagnitude))!

    /// Every NVFP4 variant the quantizer accepts (scale-first needs the encode form).
    static let allVariants: [BlockFloatVariant] = NVFP4TensorScale.allCases.flatMap { form in
        NVFP4BlockScale.allCases.filter { $0 != .scaleFirst || form != .decode }.flatMap { block in
            NVFP4ElementDivision.allCases.flatMap { division in
                NVFP4ScaleFloor.allCases.map { floor in
                    BlockFloatVariant(.nvfp4, nvfp4TensorScale: form, nvfp4BlockScale: block, nvfp4ElementDivision: division, nvfp4ScaleFloor: floor)
                }
            }
        }
    }

    static func mismatch(_ q: BlockQuantizedTensor, input x: [Float], variant v: BlockFloatVariant, rule: RoundingRule,
                         seed: UInt64 = 0, bits: Int = 16) -> String? {
        let m = x.map { abs($0) }.max() ?? 0
        let tensorMax = Rational(exactly: Double(m))!
        let encode = v.nvfp4TensorScale != .decode
        // The block-scale format, its largest value and the tensor constant 6 · top (2688 for E4M3).
        let format = v.nvfp4ScaleFormat.format
        let top = Oracle.value(ofBits: format.maxFiniteBits, format: format)!, t = Rational(6) * top
        // The tensor scale in its form (G, or S), and the decode scale S.
        let s: Rational, g: Rational
        if v.nvfp4TensorScale == .encodeReciprocal {
            // fl32(t · fl32(1 / max(M, 2^−126))), 1 when it overflows.
            let least = Rational.one.timesPowerOfTwo(-126)
            g = fl32(t * fl32(Rational.one / (tensorMax < least ? least : tensorMax))!) ?? Rational.one
            if Rational(exactly: Double(q.tensorScale))! != g { return "encode-reciprocal tensor scale \(q.tensorScale) vs \(g)" }
            s = fl32(Rational.one / g)!
        } else if encode {
            g = m == 0 ? fltMax : (fl32(t / tensorMax) ?? fltMax)
            if Rational(exactly: Double(q.tensorScale))! != g { return "encode tensor scale \(q.tensorScale) vs \(g)" }
            s = fl32(Rational.one / g)!
        } else {
            let bits = m == 0 ? Float(1).bitPattern : max(1, Oracle.encode(tensorMax / t, as: .fp32))
            if q.tensorScale.bitPattern != bits { return "tensor scale \(q.tensorScale) vs bits \(bits)" }
            s = Oracle.value(ofBits: bits, format: .fp32)!
            g = Rational.one
        }
        for tile in 0..<((q.rows + q.blockRows - 1) / q.blockRows) {
            for b in 0..<q.blocksPerRow {
                let columns = (b * q.blockSize)..<min(q.columns, (b + 1) * q.blockSize)
                let rows = (tile * q.blockRows)..<min(q.rows, (tile + 1) * q.blockRows)
                let blockMax = Rational(exactly: Double(rows.flatMap { r in columns.map { abs(x[r * q.columns + $0]) } }.max()!))!
                let index = tile * q.blocksPerRow + b
                var quotient = Rational(0)
                if blockMax.signum != 0 {
                    switch v.nvfp4BlockScale {
                    case .exactQuotient: quotient = encode ? blockMax * g / Rational(6) : blockMax / (Rational(6) * s)
                    case .amaxFirst:
                        let a = fl32(blockMax / Rational(6))!
                        quotient = (encode ? fl32(g * a) : fl32(a / s)) ?? fltMax
                    case .scaleFirst: quotient = fl32(blockMax * (fl32(g * fl32(Rational(1, 6))!) ?? fltMax)) ?? fltMax
                    }
                }
                let minNormal = Rational.one.timesPowerOfTwo(format.minExponent)
                if v.nvfp4ScaleFloor == .minNormal && quotient < minNormal { quotient = minNormal }
                var code = v.nvfp4ScaleRounding == .stochastic
                    ? BlockFloatQuantizerTests.stochasticCode(quotient, as: format, draw: CounterRandom(seed: seed).stochasticDraw(1 << 63 | UInt64(index), bits: bits))
                    : Oracle.encode(quotient, as: format, rounding: .toNearestOrEven, saturating: true)
                if code == 0 && v.nvfp4ScaleFloor == .eighth { code = Oracle.encode(Rational(1, 8), as: format) }
                if UInt32(q.blockScales[index]) != code { return "block (\(tile), \(b)): scale code \(q.blockScales[index]) vs \(code)" }
                let bv = Oracle.value(ofBits: code, format: format)!
                for r in rows { for c in columns {
                    let value = x[r * q.columns + c], xv = Rational(exactly: Double(value))!
                    // An overflowing fl32 is ±∞, beyond every level: it saturates.
                    func saturating(_ y: Rational?) -> Rational { y ?? (xv.signum < 0 ? -fltMax * Rational(2) : fltMax * Rational(2)) }
                    var level = LevelFormat.fp4.zeroCode
                    // The value whose sign sign-of-value reads: the binary32 quotient (nil: exact division).
                    var binary32: Rational?
                    switch v.nvfp4ElementDivision {
                    case .exact:
                        level = blockMax.signum == 0 || bv.signum == 0 ? LevelFormat.fp4.zeroCode : Oracle.level(of: xv / (bv * s), in: .fp4, rounding: rule).code
                    case .reciprocal:
                        let bS = fl32(bv * s)!
                        let e = bS.signum == 0 ? fltMax : (fl32(Rational.one / bS) ?? fltMax)
                        binary32 = saturating(fl32(xv * e))
                    case .quotient:
                        let d = fl32(encode ? bv / g : bv * s)!
                        binary32 = d.signum == 0 ? (xv.signum == 0 ? Rational(0) : saturating(nil)) : saturating(fl32(xv / d))
                    case .globalOverBlock:
                        // r = fl32(R / b), R = G or fl32(1 / S); an overflowing R or b = 0 gives r = ∞.
                        let global = encode ? g : fl32(Rational.one / s)
                        let r = global.flatMap { bv.signum == 0 ? nil : fl32($0 / bv) }
                        binary32 = r.map { saturating(fl32(xv * $0)) } ?? (xv.signum == 0 ? Rational(0) : saturating(nil))
                    }
                    let decided = binary32.map { Oracle.level(of: $0, in: .fp4, rounding: rule).code } ?? level
                    let negative: Bool
                    switch v.signedZero {
                    case .keep: negative = value.sign == .minus
                    case .flush: negative = false
                    case .signOfValue:
                        let scale = bv * s
                        negative = binary32.map { $0.signum < 0 } ?? (xv.signum < 0 && (scale.signum == 0 || -xv / scale > Rational.one.timesPowerOfTwo(-150)))
                    }
                    let expected = decided == 0 && negative ? 0b1000 : decided
                    if q.codes[r * q.columns + c] != expected { return "(\(r), \(c)) = \(value): code \(q.codes[r * q.columns + c]) vs \(expected)" }
                } }
            }
        }
        return nil
    }

    /// `count` random tensors of up to `rows` × 80 (`BlockFloatQuantizerTests.tensor`: ties, zero
    /// and E4M3-underflowing blocks) through `v`, each against the oracle; nil when all agree.
    static func oracleFailure(_ v: BlockFloatVariant, rule: RoundingRule = .toNearestOrEven, seed: UInt64, count: Int, rows: Int,
                              quantizerSeed: UInt64 = 0, bits: Int = 16) throws -> String? {
        let q = try BlockFloatQuantizer(v, rounding: rule, seed: quantizerSeed, stochasticBits: bits)
        let report = checkProperty(seed: seed, count: count, generate: { s -> [Int] in
            [Generate.int(1...rows, &s), Generate.int(1...80, &s), Int(s.next() & 0xFFFF)]
        }) { p in
            var s = CounterStream(seed: UInt64(p[2]))
            let x = BlockFloatQuantizerTests.tensor(&s, rows: p[0], columns: p[1], scheme: .nvfp4)
            guard let r = try? q.quantize(x, rows: p[0], columns: p[1]) else { return "threw" }
            guard r.blockScales.count == q.blockScaleCount(rows: p[0], columns: p[1]) else { return "\(r.blockScales.count) scales" }
            return Self.mismatch(r, input: x, variant: v, rule: rule, seed: quantizerSeed, bits: bits)
        }
        return report.passed ? nil : "\(v.name) \(rule): \(report)"
    }

    /// Stochastic block scales against the oracle: every tensor-scale form and block-scale order,
    /// each scale floor, E4M3 and UE5M3, with 16-bit and 3-bit draws from two seeds.
    @Test func stochasticBlockScalesEqualTheOracle() throws {
        var k: UInt64 = 0
        for form in NVFP4TensorScale.allCases {
            for block in NVFP4BlockScale.allCases where block != .scaleFirst || form != .decode {
                for floor in NVFP4ScaleFloor.allCases {
                    for format in NVFP4ScaleFormat.allCases {
                        let v = BlockFloatVariant(.nvfp4, nvfp4TensorScale: form, nvfp4BlockScale: block, nvfp4ScaleFloor: floor, nvfp4ScaleFormat: format,
                                                  nvfp4ScaleRounding: .stochastic)
                        for (seed, bits) in [(UInt64(1), 16), (2, 3)] {
                            k += 1
                            let failure = try Self.oracleFailure(v, seed: 0x5C0 + k, count: 3, rows: 6, quantizerSeed: seed, bits: bits)
                            #expect(failure == nil, "\(failure ?? "")")
                        }
                    }
                }
            }
        }
    }

    /// Stochastic block scales are unbiased to the rounder's resolution: over 4,096 blocks holding
    /// the same values (independent draws: the counter is the block), the mean scale is the rule's
    /// exact expectation lo + (hi − lo) · ⌈2^B f⌉ / 2^B within 5 standard errors, where nearest
    /// rounding (NVFP4) and floor (MX) give lo every time, f = 0.3 of a gap below the value.
    @Test(arguments: [16, 8, 2])
    func stochasticScalesAreUnbiased(bits: Int) throws {
        let n = 4096
        for scheme in BlockFloatScheme.allCases {
            let width = scheme.defaultBlockSize
            // NVFP4: S = 1 (a row whose max is 2688), q = m / 6 = 1.0375 between E4M3 1 and 1.125;
            // MX: m / 6 = 1.3 between 2^0 and 2^1. Both f = 0.3 (up to m's binary32 rounding).
            let m: Float = scheme == .nvfp4 ? 6.225 : 7.8
            var x = [Float](repeating: 0, count: (n + 1) * width)
            x[0] = scheme == .nvfp4 ? 2688 : m
            for r in 1...n { x[r * width] = m; x[r * width + 1] = -m / 3 }
            let v = scheme == .nvfp4 ? BlockFloatVariant(.nvfp4, nvfp4ScaleRounding: .stochastic) : BlockFloatVariant(.mxfp4, mxScale: .stochastic)
            let q = try BlockFloatQuantizer(v, seed: 11, stochasticBits: bits).quantize(x, rows: n + 1, columns: width)
            let format = q.scaleFormat
            let value = Rational(exactly: Double(m))! / Rational(6) // the quotient (S = 1), or m / 6 for MX
            let low: Rational, gap: Rational
            if scheme == .nvfp4 {
                let code = Oracle.encode(value, as: format, rounding: .towardZero)
                low = Oracle.value(ofBits: code, format: format)!
                gap = Oracle.value(ofBits: code + 1, format: format)! - low
            } else {
                low = Rational.one.timesPowerOfTwo(value.binaryExponent)
                gap = low
            }
            let (whole, fraction) = ((value - low) / gap).timesPowerOfTwo(bits).floorAndFraction
            let up = Rational(whole) + (fraction.signum == 0 ? Rational(0) : Rational.one) // ⌈2^B f⌉
            let expected = low + gap * up.timesPowerOfTwo(-bits)
            #expect(!(expected < value) && (expected - value) < gap.timesPowerOfTwo(-bits))
            let mean = (1...n).map { Rational(exactly: format.decode(UInt32(q.blockScales[$0])))! }.reduce(Rational(0), +) / Rational(n)
            let p = up.timesPowerOfTwo(-bits).approximateDouble
            let standardError = gap.approximateDouble * (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs((mean - expected).approximateDouble) <= 5 * standardError,
                    "\(scheme) \(bits) bits: mean \(mean.approximateDouble), expected \(expected.approximateDouble)")
            // The deterministic rule gives lo every time: below the value by f · gap.
            let deterministic = try BlockFloatQuantizer(BlockFloatVariant(scheme)).quantize(x, rows: n + 1, columns: width)
            #expect((1...n).allSatisfy { Rational(exactly: format.decode(UInt32(deterministic.blockScales[$0])))! == low })
        }
    }

    @Test(arguments: allVariants)
    func everyScaleAndCodeEqualsTheOracle(variant: BlockFloatVariant) throws {
        for rule in [RoundingRule.toNearestOrEven, .towardZero] {
            let failure = try Self.oracleFailure(variant, rule: rule, seed: 0x4F7 + UInt64(Self.allVariants.firstIndex(of: variant)!),
                                                 count: rule == .toNearestOrEven ? 10 : 4, rows: 6)
            #expect(failure == nil, "\(failure ?? "")")
        }
        // Two MiniLM rows per variant (each convention's test covers all four fixtures).
        let a = try Files.readNpy(Fixtures.path("minilm-l1-key-weight.npy"))
        let (_, columns) = try a.matrixShape()
        let x = Array(try a.floatValues().prefix(2 * columns))
        let q = try BlockFloatQuantizer(variant)
        #expect(Self.mismatch(try q.quantize(x, rows: 2, columns: columns), input: x, variant: variant, rule: .toNearestOrEven) == nil)
    }

    /// Each convention's NVFP4 and MXFP4 against the oracle, on every MiniLM fixture (a row block)
    /// and on a tie-heavy grid, and with its signed-zero rule.
    @Test(arguments: BlockFloatConvention.allCases)
    func everyConventionEqualsTheOracleOnRealTensors(convention: BlockFloatConvention) throws {
        var inputs: [(x: [Float], rows: Int, columns: Int)] = []
        for name in ["minilm-l1-key-weight.npy", "minilm-l2-ffn-down-weight.npy", "minilm-l2-ffn-gelu-acts.npy", "minilm-l2-ffn-input-acts.npy"] {
            let a = try Files.readNpy(Fixtures.path(name))
            let (_, columns) = try a.matrixShape()
            inputs.append((Array(try a.floatValues().prefix(4 * columns)), 4, columns))
        }
        // k/4 · 2^j with signs: E2M1 midpoints, E4M3 ties, zero blocks and −0.0.
        var grid = (0..<(24 * 64)).map { i -> Float in Float((i * 7) % 29) / 4 * Float(sign: i % 3 == 0 ? .minus : .plus, exponent: (i / 64) % 9 - 4, significand: 1) }
        for i in 0..<32 { grid[64 + i] = i % 2 == 0 ? 0 : -0.0 }
        inputs.append((grid, 24, 64))
        for scheme in BlockFloatScheme.allCases {
            guard let v = try? convention.variant(scheme) else {
                #expect(convention == .ocp && scheme == .nvfp4)
                continue
            }
            let q = try BlockFloatQuantizer(v)
            for input in inputs {
                let r = try q.quantize(input.x, rows: input.rows, columns: input.columns)
                let miss = scheme == .nvfp4 ? Self.mismatch(r, input: input.x, variant: v, rule: .toNearestOrEven)
                    : BlockFloatQuantizerTests.oracleMismatch(r, input: input.x, rule: .toNearestOrEven, mxScale: v.mxScale, signedZero: v.signedZero)
                #expect(miss == nil, "\(convention) \(v.name): \(miss ?? "")")
            }
        }
    }

    /// 16 × 16 tiles: every scale and code against the oracle (tiles cut by the bottom and right
    /// edges included) under the default rule and each library's, and the property they exist
    /// for: the transposed tensor gets the transposed codes and scales.
    @Test func sixteenBySixteenTilesEqualTheOracleAndCommuteWithTranspose() throws {
        let variants = [BlockFloatVariant(.nvfp4)] + [BlockFloatConvention.nvidia, .torchao, .compressedTensors].map { try! $0.variant(.nvfp4) }
        for var v in variants {
            v.nvfp4Blocks = .tile
            #expect(try BlockFloatVariant(parsing: v.name) == v)
            let q = try BlockFloatQuantizer(v)
            let failure = try Self.oracleFailure(v, seed: 0x1616 + UInt64(v.name.count), count: 8, rows: 40)
            #expect(failure == nil, "\(failure ?? "")")
            let a = try Files.readNpy(Fixtures.path("minilm-l1-key-weight.npy"))
            let (_, columns) = try a.matrixShape()
            let w = Array(try a.floatValues().prefix(40 * columns))
            let r = try q.quantize(w, rows: 40, columns: columns)
            #expect(Self.mismatch(r, input: w, variant: v, rule: .toNearestOrEven) == nil, "\(v.name) on MiniLM")
            // Wᵀ: codes and scales transposed.
            let t = (0..<(columns * 40)).map { i in w[(i % 40) * columns + i / 40] }
            let rt = try q.quantize(t, rows: columns, columns: 40)
            #expect((0..<(40 * columns)).allSatisfy { i in r.codes[i] == rt.codes[(i % columns) * 40 + i / columns] }, "\(v.name): codes of Wᵀ")
            #expect((0..<r.blockScales.count).allSatisfy { i in r.blockScales[i] == rt.blockScales[(i % r.blocksPerRow) * rt.blocksPerRow + i / r.blocksPerRow] },
                    "\(v.name): scales of Wᵀ")
        }
        #expect(throws: QuantizationError.self) { try BlockFloatQuantizer(BlockFloatVariant(.nvfp4, nvfp4Blocks: .tile), blockSize: 32) }
        #expect(throws: QuantizationError.self) { try BlockFloatVariant(parsing: "mxfp4:16x16") }
    }

    /// UE5M3 block scales (`nvfp4:ue5m3`): the default rule and each library's, with 1×16 and 16×16
    /// blocks, against the oracle; the tensor constant is 6 · 114688.
    @Test func ue5m3ScalesEqualTheOracle() throws {
        for convention in [nil, BlockFloatConvention.nvidia, .torchao, .compressedTensors] {
            for blocks in NVFP4Blocks.allCases {
                var v = try convention?.variant(.nvfp4) ?? BlockFloatVariant(.nvfp4)
                v.nvfp4ScaleFormat = .ue5m3
                v.nvfp4Blocks = blocks
                #expect(try BlockFloatVariant(parsing: v.name) == v)
                #expect(try BlockFloatQuantizer(v).scaleFormat == .ue5m3)
                let failure = try Self.oracleFailure(v, seed: 0x5E3 + UInt64(v.name.count), count: 8, rows: 20)
                #expect(failure == nil, "\(failure ?? "")")
            }
        }
        let r = try BlockFloatQuantizer(BlockFloatVariant(.nvfp4, nvfp4ScaleFormat: .ue5m3)).quantize([6, 3, 1.5, -0.5], rows: 1, columns: 4)
        // S = 6 / 688128; the block quotient 6 / (6·S) = 114688 is UE5M3's largest value, code 0xFE.
        #expect(r.tensorScale == Float(6) / 688128 && r.blockScales == [0xFE] && r.codes == [0b0111, 0b0101, 0b0011, 0b1001])
        #expect(throws: QuantizationError.self) { try BlockFloatVariant(parsing: "mxfp4:ue5m3") }
    }

    /// A block whose E4M3 scale underflows: exact division gives zero codes; the reciprocal
    /// (FLT_MAX) gives ±6 codes for its non-zero elements — the two libraries' conventions for an
    /// underflowing block — while every value dequantizes to 0 either way.
    @Test func anUnderflowingBlockUnderEachDivision() throws {
        var x = [Float](repeating: 0, count: 32)
        x[0] = 1e4; x[16] = 1e-9; x[17] = -1e-9
        for division in NVFP4ElementDivision.allCases {
            let r = try BlockFloatQuantizer(scheme: .nvfp4, nvfp4ElementDivision: division).quantize(x, rows: 1, columns: 32)
            #expect(r.blockScales[1] == 0)
            #expect(Array(r.codes[16...17]) == (division == .exact ? [0, 0b1000] : [0b0111, 0b1111]))
            #expect(r.statistics.underflowCount == 2)
        }
        // The floors: the block keeps a non-zero scale (2^−6 or 0.125), so its elements are
        // divided by it and land on level 0 with their sign.
        for (floor, code) in [(NVFP4ScaleFloor.minNormal, UInt8(0x08)), (.eighth, 0x20)] {
            for division in NVFP4ElementDivision.allCases {
                let v = BlockFloatVariant(.nvfp4, nvfp4ElementDivision: division, nvfp4ScaleFloor: floor)
                let r = try BlockFloatQuantizer(v).quantize(x, rows: 1, columns: 32)
                #expect(r.blockScales[1] == code && Array(r.codes[16...17]) == [0, 0b1000], "\(v.name)")
            }
        }
    }

    /// A name and `quantize`'s options compose through one initializer: for every convention (or
    /// none) × tensor-scale form × block-scale rule × signed-zero choice, given or not and in
    /// either order in the name, the parsed name equals the options' variant, or both refuse.
    @Test func namesAndOptionsComposeAlike() throws {
        func outcome(_ body: () throws -> BlockFloatVariant?) -> String {
            do { return try body().map { "\($0)" } ?? "nil" } catch { return "refused" }
        }
        for convention in [nil] + BlockFloatConvention.allCases.map(Optional.some) {
            for tensor in [nil] + NVFP4TensorScale.allCases.map(Optional.some) {
                for block in [nil] + NVFP4BlockScale.allCases.map(Optional.some) {
                    for zero in [nil] + SignedZero.allCases.map(Optional.some) {
                        let options = try? BlockFloatVariant(.nvfp4, convention: convention, nvfp4TensorScale: tensor, nvfp4BlockScale: block, signedZero: zero)
                        for blockFirst in [false, true] {
                            let scales = blockFirst ? [block?.rawValue, tensor?.rawValue] : [tensor?.rawValue, block?.rawValue]
                            let name = (["nvfp4", convention?.rawValue] + scales + [zero?.rawValue]).compactMap { $0 }.joined(separator: ":")
                            let parsed = outcome { try BlockFloatVariant(parsing: name) }
                            #expect(parsed == (options.map { "\($0)" } ?? "refused"), "\(name)")
                        }
                    }
                }
            }
        }
        for convention in [nil] + BlockFloatConvention.allCases.map(Optional.some) {
            for rule in [nil] + MXScaleRule.allCases.map(Optional.some) {
                let options = try? BlockFloatVariant(.mxfp4, convention: convention, mxScale: rule)
                let name = ["mxfp4", convention?.rawValue, rule?.rawValue].compactMap { $0 }.joined(separator: ":")
                #expect(outcome { try BlockFloatVariant(parsing: name) } == (options.map { "\($0)" } ?? "refused"), "\(name)")
            }
        }
    }

    @Test func variantNamesRoundTrip() throws {
        for v in Self.allVariants + [BlockFloatVariant(.mxfp4), BlockFloatVariant(.mxfp4, mxScale: .rceil, signedZero: .flush)] {
            #expect(try BlockFloatVariant(parsing: v.name) == v, "\(v.name)")
        }
        for c in BlockFloatConvention.allCases {
            for scheme in BlockFloatScheme.allCases {
                guard let v = try? c.variant(scheme) else { continue }
                #expect(try BlockFloatVariant(parsing: "\(scheme.rawValue):\(c.rawValue)") == v)
            }
        }
        #expect(try BlockFloatVariant(parsing: "nvfp4:reciprocal:encode") == BlockFloatVariant(.nvfp4, nvfp4TensorScale: .encode, nvfp4ElementDivision: .reciprocal))
        #expect(try BlockFloatVariant(parsing: "nvfp4:encode")?.nvfp4BlockScale == .scaleFirst)
        #expect(try BlockFloatVariant(parsing: "nvfp4:amax-first:encode")?.nvfp4BlockScale == .amaxFirst)
        // A convention, then an override.
        #expect(try BlockFloatVariant(parsing: "nvfp4:torchao:keep") == BlockFloatVariant(.nvfp4, nvfp4BlockScale: .amaxFirst, nvfp4ElementDivision: .globalOverBlock, nvfp4ScaleFloor: .minNormal))
        #expect(try BlockFloatVariant(parsing: "mxfp4:compressed-tensors:floor") == BlockFloatVariant(.mxfp4, signedZero: .signOfValue))
        #expect(try BlockFloatVariant(parsing: "nvfp4:compressed-tensors:flush") == BlockFloatVariant(.nvfp4, nvfp4TensorScale: .encodeReciprocal, nvfp4BlockScale: .amaxFirst,
                                                                                                  nvfp4ElementDivision: .quotient, nvfp4ScaleFloor: .eighth, signedZero: .flush))
        #expect(try BlockFloatVariant(parsing: "nvfp4:encode-reciprocal")?.nvfp4BlockScale == .scaleFirst)
        #expect(try BlockFloatVariant(parsing: "int4") == nil)
        for bad in ["mxfp4:encode", "nvfp4:encode:decode", "nvfp4:scale-first", "nvfp4:ocp", "nvfp4:keep:nvidia", "mxfp4:min-normal"] {
            #expect(throws: QuantizationError.self, "\(bad)") { try BlockFloatVariant(parsing: bad) }
        }
    }
}
