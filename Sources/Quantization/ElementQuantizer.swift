import CKernels
import Formats
import Kernels

/// An element's scaling done in binary32, as GPU kernels do, instead of the exact x / scale.
enum Binary32ElementScaling: Sendable {
    /// v = fl32(x · e); 0 · ∞ is taken as 0.
    case multiply(Float)
    /// v = fl32(x / d); 0 / 0 is taken as 0.
    case divide(Float)

    @inline(__always) func scaled(_ x: Float) -> Float {
        switch self {
        case .multiply(let e): let v = x * e; return v.isNaN ? 0 : v
        case .divide(let d): let v = x / d; return v.isNaN ? 0 : v
        }
    }
}

/// Quantizes a run of elements that share one scale to a level format, and measures what that
/// did: the one element loop behind every scaled quantizer (per-tensor/channel/group symmetric
/// scaling, and the FP4 block formats).
struct ElementQuantizer: Sendable {
    let selector: LevelSelector
    let seed: UInt64
    let nonFinite: NonFinitePolicy
    /// The stochastic rounder's width B: the draw keeps the top B of its 16 bits.
    var drawBits = 16
    /// The nearest-rule loop's instruction set (C, include/kernels.h; every level gives the
    /// same bytes). Setting a level this CPU lacks is a programming error (`isSupported` first).
    var instructionSet = InstructionSet.best {
        didSet { precondition(instructionSet.isSupported, "this CPU does not support the \(instructionSet) instruction set") }
    }

    var format: LevelFormat { selector.format }
    var rounding: RoundingRule { selector.rule }

    /// Whether `quantize` takes the C kernel for a run with scale `sd`: a nearest rule, finite
    /// input (the .error policy, checked by the caller), a non-zero scale, the exact element scaling.
    func usesKernel(scale sd: Double, binary32: Binary32ElementScaling?) -> Bool {
        selector.nearest != nil && nonFinite == .error && sd != 0 && binary32 == nil
    }

    /// Under `sign-of-value`, whose sign the rule reads for x with scale sd: the binary32 quotient
    /// fl32(x / sd), which is negative exactly when x < 0 and |x| > 2^−150 · sd (below that it
    /// rounds to −0.0); x itself under the other rules.
    @inline(__always) func signSource(_ xd: Double, scale sd: Double) -> Double {
        selector.signedZero == .signOfValue && abs(xd) <= 0x1p-150 * sd ? 0 : xd
    }

    /// The C kernels give level 0 the negative-zero code by the input's sign bit (`keep`; `flush`
    /// has no negative-zero code): under `sign-of-value` the codes `signSource` reads as zero
    /// (−0.0, and quotients that underflow binary32) get the positive zero code instead.
    private func applySignOfValue(_ x: UnsafeBufferPointer<Float>, _ codes: UnsafeMutableBufferPointer<UInt8>, start: Int, length: Int, scale sd: Double) {
        guard selector.signedZero == .signOfValue, let negativeZero = format.negativeZeroCode else { return }
        for i in start..<(start + length) where codes[i] == negativeZero && signSource(Double(x[i]), scale: sd) == 0 { codes[i] = format.zeroCode }
    }

    /// 8 runs of `length` elements starting at `starts`, with scales `scales`, quantized side by
    /// side by the C kernel (`dintsim_quantize_nearest_runs`): the same codes and statistics as 8
    /// calls of `quantize`, bit for bit. `nil` (nothing done) unless every run takes the kernel.
    func quantizeEight(_ x: UnsafeBufferPointer<Float>, _ codes: UnsafeMutableBufferPointer<UInt8>,
                       starts: [Int], length: Int, scales: [Double]) -> [QuantizationStatistics]? {
        guard starts.count == 8, scales.count == 8, length > 0, scales.allSatisfy({ usesKernel(scale: $0, binary32: nil) }) else { return nil }
        var st = [dintsim_quantize_statistics](repeating: dintsim_quantize_statistics(), count: 8)
        let inputs: [UnsafePointer<Float>?] = starts.map { x.baseAddress! + $0 }
        let outputs: [UnsafeMutablePointer<UInt8>?] = starts.map { codes.baseAddress! + $0 }
        let clipHigh = scales.map { selector.clipHigh * $0 }, clipLow = scales.map { selector.clipLow * $0 }
        let done = selector.withKernelTable { table in
            dintsim_quantize_nearest_runs(instructionSet.rawValue, inputs, outputs, Int64(length), scales, clipHigh, clipLow, table, &st)
        }
        precondition(done == 1, "this CPU does not support the \(instructionSet) instruction set")
        for (start, sd) in zip(starts, scales) { applySignOfValue(x, codes, start: start, length: length, scale: sd) }
        return st.map { r in
            var s = QuantizationStatistics()
            s.elementCount = length
            s.kernel = r
            return s
        }
    }

    /// Codes for x[start ..< start + length] with scale `sd` (0: every code is the zero code),
    /// written to `codes` at the same indices, and the run's statistics. `sd` must keep the
    /// selector's decisions exact (see `LevelSelector`): a binary32 value, or for the block
    /// formats a product with at most 28 significant bits (E4M3 × FP32, or a power of two).
    /// `indexBase` is added to a buffer index to give the element's flat index in the whole tensor
    /// (the stochastic draw's counter); the statistics continue `continuing` element by element,
    /// so a group quantized in several pieces sums exactly as in one.
    ///
    /// `binary32` (NVFP4's `reciprocal` and `quotient` element divisions): each level is decided on
    /// v = fl32(x · e) or fl32(x / d) with scale 1 instead of on the exact x / sd, as GPU kernels do;
    /// the statistics still compare x with level · sd. A zero `sd` then takes no shortcut: v decides.
    func quantize(_ x: UnsafeBufferPointer<Float>, _ codes: UnsafeMutableBufferPointer<UInt8>,
                  start: Int, length: Int, scale sd: Double, binary32: Binary32ElementScaling? = nil, indexBase: Int = 0,
                  continuing: QuantizationStatistics = QuantizationStatistics()) -> QuantizationStatistics {
        let random = CounterRandom(seed: seed)
        let last = format.sortedLevels.count - 1
        var stats = continuing
        stats.elementCount += length
        if usesKernel(scale: sd, binary32: binary32) && length > 0 {
            // Every input is finite (checked by the caller) and the rule is nearest: the
            // table decision, with the same statistics arithmetic as the general loop below, in C
            // at `instructionSet` (CKernels: every level does the same binary64 operations per
            // element and adds the sums in element order).
            var st = stats.kernel
            let done = selector.withKernelTable { table in
                dintsim_quantize_nearest(instructionSet.rawValue, x.baseAddress! + start, codes.baseAddress! + start, Int64(length), sd,
                                         selector.clipHigh * sd, selector.clipLow * sd, table, &st)
            }
            precondition(done == 1, "this CPU does not support the \(instructionSet) instruction set")
            applySignOfValue(x, codes, start: start, length: length, scale: sd)
            stats.kernel = st
            return stats
        }
        for i in start..<(start + length) {
            // Non-finite inputs reach here only under .zero or .saturate: they are quantized as 0
            // (or forced to an extreme level) and stay out of the non-zero count and error sums.
            let finite = x[i].isFinite
            let xd = finite ? Double(x[i]) : 0 // NaN under .zero: +0
            let forced: Int? = nonFinite == .saturate && x[i].isInfinite ? (x[i] > 0 ? last : 0) : nil
            if xd != 0 { stats.nonzeroCount += 1 }
            let index: Int
            var signed = signSource(xd, scale: sd) // whose sign the signed-zero rule reads
            if let forced {
                index = forced
                stats.clipCount += 1
            } else if let binary32 {
                let v = Double(binary32.scaled(x[i])) // ±∞ saturates like any value beyond ±max
                // sign-of-value reads the binary32 v (a negative x whose v underflows to −0.0 is zero).
                if selector.signedZero == .signOfValue { signed = v }
                let draw = rounding == .stochastic ? random.stochasticDraw(UInt64(indexBase + i), bits: drawBits) : 0
                let (j, saturated) = selector.select(v, scale: 1, draw: draw)
                index = j
                if saturated && selector.isClipped(v, scale: 1) { stats.clipCount += 1 }
            } else if sd == 0 {
                // A zero scale (an all-zero group, or a block scale that underflowed): level 0.
                index = selector.zeroIndex
            } else {
                let draw = rounding == .stochastic ? random.stochasticDraw(UInt64(indexBase + i), bits: drawBits) : 0
                let (j, saturated) = selector.select(xd, scale: sd, draw: draw)
                index = j
                if saturated && selector.isClipped(xd, scale: sd) { stats.clipCount += 1 }
            }
            codes[i] = selector.code(atIndex: index, x: signed)
            let dequantized = selector.halfSteps(atIndex: index) * 0.5 * sd
            if dequantized == 0 && xd != 0 { stats.underflowCount += 1 }
            if finite {
                let err = xd - dequantized
                stats.sumSquaredError += err * err
                stats.sumSquaredSignal += xd * xd
            }
        }
        return stats
    }
}

extension QuantizationStatistics {
    /// The counts and sums as the C kernel carries them (`dintsim_quantize_statistics`; the element
    /// count stays here).
    var kernel: dintsim_quantize_statistics {
        get {
            dintsim_quantize_statistics(nonzero: Int64(nonzeroCount), underflow: Int64(underflowCount), clipped: Int64(clipCount),
                                        sum_squared_error: sumSquaredError, sum_squared_signal: sumSquaredSignal)
        }
        set {
            (nonzeroCount, underflowCount, clipCount) = (Int(newValue.nonzero), Int(newValue.underflow), Int(newValue.clipped))
            (sumSquaredError, sumSquaredSignal) = (newValue.sum_squared_error, newValue.sum_squared_signal)
        }
    }
}
