import Formats

/// An element's scaling done in binary32, as GPU kernels do, instead of the exact x / scale.
enum Binary32ElementScaling: Sendable {
    /// v = fl32(x · e).
    case multiply(Float)
    /// v = fl32(x / d); 0 / 0 is taken as 0.
    case divide(Float)

    @inline(__always) func scaled(_ x: Float) -> Float {
        switch self {
        case .multiply(let e): return x * e
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

    var format: LevelFormat { selector.format }
    var rounding: RoundingRule { selector.rule }

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
        if selector.nearest != nil && nonFinite == .error && sd != 0 && binary32 == nil {
            // Every input is finite (checked by the caller) and the rule is nearest: the
            // table decision, with the same statistics arithmetic as the general loop below.
            var nonzero = stats.nonzeroCount, underflow = stats.underflowCount, clipped = stats.clipCount
            var squaredError = stats.sumSquaredError, squaredSignal = stats.sumSquaredSignal
            selector.withNearestTables { table in
                // clip iff 4x ≥ clipHigh·s or 4x ≤ clipLow·s, as LevelSelector.isClipped.
                let clipHigh = selector.clipHigh * sd, clipLow = selector.clipLow * sd
                let zeroIndex = selector.zeroIndex, signedZeroCode = selector.signedZeroCode
                for i in start..<(start + length) {
                    let xd = Double(x[i])
                    let index = table.index(xd, scale: sd)
                    // selector.code(atIndex:x:), on the table's pointer and without a branch.
                    let level = table.codes[index]
                    codes[i] = index == zeroIndex && xd.sign == .minus ? signedZeroCode : level
                    let fourX = 4 * xd
                    clipped &+= (fourX >= clipHigh ? 1 : 0) | (fourX <= clipLow ? 1 : 0)
                    let dequantized = table.halfSteps[index] * 0.5 * sd
                    // Branch-free counts: about a third of LLM weights underflow, at random.
                    let isNonzero = xd != 0 ? 1 : 0
                    nonzero &+= isNonzero
                    underflow &+= isNonzero & (dequantized == 0 ? 1 : 0)
                    let err = xd - dequantized
                    squaredError += err * err
                    squaredSignal += xd * xd
                }
            }
            stats.nonzeroCount = nonzero
            stats.underflowCount = underflow
            stats.clipCount = clipped
            stats.sumSquaredError = squaredError
            stats.sumSquaredSignal = squaredSignal
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
            if let forced {
                index = forced
                stats.clipCount += 1
            } else if let binary32 {
                let v = Double(binary32.scaled(x[i])) // ±∞ saturates like any value beyond ±max
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
            codes[i] = selector.code(atIndex: index, x: xd)
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
