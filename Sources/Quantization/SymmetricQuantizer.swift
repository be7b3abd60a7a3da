import Dispatch
import Foundation
import CKernels
import Formats
import Kernels

/// What to do with NaN and ±∞ inputs.
public enum NonFinitePolicy: String, Sendable, CaseIterable {
    /// Refuse the tensor (the default everywhere).
    case error
    /// NaN and ±∞ become 0 before quantization.
    case zero
    /// NaN becomes 0; ±∞ takes the top / bottom level and is left out of the scale's max|x|.
    case saturate
}

public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    case nonFinite(index: Int, value: Float)
    case shapeMismatch(String)
    case unsuitableFormat(String)

    public var description: String {
        switch self {
        case .nonFinite(let i, let v): return "non-finite input \(v) at flat index \(i); NaN and ±Inf have no level: replace them in the input"
        case .shapeMismatch(let why): return why
        case .unsuitableFormat(let why): return why
        }
    }
}

/// Codes, scales and statistics of one quantization call.
public struct QuantizedTensor: Sendable {
    public let rows: Int
    public let columns: Int
    /// Raw code bit patterns, row-major, rows × columns.
    public var codes: [UInt8]
    /// One binary32 scale per group, in `scaleShape`.
    public var scales: [Float]
    public let scaleShape: [Int]
    public var statistics: QuantizationStatistics
}

/// Symmetric max-scaling quantization to a level format:
/// scale = fl32(max|x| / top), with top the largest level in steps and fl32 an IEEE binary32
/// division (round to nearest even); the level of each x is decided on the exact x / scale.
public struct SymmetricQuantizer: Sendable {
    public let format: LevelFormat
    public let granularity: Granularity
    public let rounding: RoundingRule
    public let seed: UInt64
    public let nonFinite: NonFinitePolicy
    var elementQuantizer: ElementQuantizer
    /// The instruction set of the nearest-rule loop and the group maximum (the fastest this CPU
    /// supports unless chosen; every level gives the same bytes).
    public var instructionSet: InstructionSet {
        get { elementQuantizer.instructionSet }
        set { elementQuantizer.instructionSet = newValue }
    }
    public var signedZero: SignedZero { elementQuantizer.selector.signedZero }
    /// The stochastic rounder's width in bits (16 unless chosen).
    public var stochasticBits: Int { elementQuantizer.drawBits }

    public init(format: LevelFormat, granularity: Granularity, rounding: RoundingRule = .toNearestOrEven,
                seed: UInt64 = 0, nonFinite: NonFinitePolicy = .error, signedZero: SignedZero = .keep, stochasticBits: Int = 16) throws {
        guard format.maxHalfSteps > 0, format.minHalfSteps < 0 else {
            throw QuantizationError.unsuitableFormat("format \(format.name) has no negative and positive levels; symmetric quantization needs both")
        }
        try Self.checkStochasticBits(stochasticBits, rounding: rounding)
        self.format = format
        self.granularity = granularity
        self.rounding = rounding
        self.seed = seed
        self.nonFinite = nonFinite
        elementQuantizer = ElementQuantizer(selector: LevelSelector(format: format, rule: rounding, signedZero: signedZero), seed: seed,
                                            nonFinite: nonFinite, drawBits: stochasticBits)
    }

    /// Throws unless 1 ≤ bits ≤ 16, and 16 for a deterministic rule.
    static func checkStochasticBits(_ bits: Int, rounding: RoundingRule) throws {
        guard CounterRandom.drawBitRange.contains(bits) else {
            throw QuantizationError.unsuitableFormat("a stochastic rounder draws 1 to 16 bits per element, not \(bits)")
        }
        guard bits == 16 || rounding == .stochastic else {
            throw QuantizationError.unsuitableFormat("the draw width (\(bits) bits) applies to stochastic rounding only")
        }
    }

    /// The top level in steps, as binary32 (exact: a multiple of ½ of at most 512).
    public var topLevel: Float { Float(format.maxHalfSteps) / 2 }

    /// The scale for a group whose largest finite magnitude is `maxAbs`.
    /// max|x| = 0 gives scale 0 (every code is zero). If the division underflows to 0 for a
    /// non-zero max, the scale is the smallest positive binary32 (2^-149) instead.
    public func scale(forMaxMagnitude maxAbs: Float) -> Float {
        if maxAbs == 0 { return 0 }
        let s = maxAbs / topLevel
        return s == 0 ? .leastNonzeroMagnitude : s
    }

    /// Quantizes a rows × columns row-major tensor.
    public func quantize(_ values: [Float], rows: Int, columns: Int) throws -> QuantizedTensor {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) tensor")
        }
        var statistics = QuantizationStatistics()
        let tensorScale = granularity == .tensor ? try scale(forMaxMagnitude: maxMagnitude(values, firstIndex: 0)) : nil
        let (codes, scales) = try quantizeRows(values, rows: rows, columns: columns, firstRow: 0, tensorScale: tensorScale, statistics: &statistics)
        return QuantizedTensor(rows: rows, columns: columns, codes: codes, scales: tensorScale.map { [$0] } ?? scales,
                               scaleShape: granularity.scaleShape(rows: rows, columns: columns), statistics: statistics)
    }

    /// The largest finite magnitude of `values` (the tensor granularity's first pass over a
    /// streamed tensor); a non-finite value throws unless the policy accepts it. `firstIndex` is
    /// the flat index of `values[0]`, for the error.
    public func maxMagnitude(_ values: [Float], firstIndex: Int) throws -> Float {
        let bits = values.withUnsafeBufferPointer { dintsim_max_finite_magnitude_bits(instructionSet.rawValue, $0.baseAddress, Int64($0.count)) }
        if bits >> 32 != 0 && nonFinite == .error, let i = values.firstIndex(where: { !$0.isFinite }) {
            throw QuantizationError.nonFinite(index: firstIndex + i, value: values[i])
        }
        return Float(bitPattern: UInt32(truncatingIfNeeded: bits))
    }

    /// Quantizes rows `firstRow ..< firstRow + rows` of a tensor with `columns` columns, given as
    /// their own row-major block: what `quantize` does for those rows, so that a tensor streamed in
    /// row blocks gives the same codes, scales and statistics as one call (the tensor granularity
    /// needs the whole tensor's `tensorScale` from a first pass, `maxMagnitude`). Statistics are
    /// added to `statistics` group by group in order (element by element for the tensor granularity).
    public func quantizeRows(_ values: [Float], rows: Int, columns: Int, firstRow: Int, tensorScale: Float?,
                             statistics: inout QuantizationStatistics) throws -> (codes: [UInt8], scales: [Float]) {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw QuantizationError.shapeMismatch("\(values.count) values do not form a \(rows) × \(columns) block")
        }
        // Under .error a non-finite value is refused: found here for the tensor granularity, and
        // for the others by the group maximum (one pass over the input instead of two).
        if nonFinite == .error, case .tensor = granularity, let i = Self.firstNonFinite(values) {
            throw QuantizationError.nonFinite(index: firstRow * columns + i, value: values[i])
        }
        var codes = [UInt8](repeating: 0, count: values.count)
        let indexBase = firstRow * columns
        if case .tensor = granularity {
            guard let tensorScale else { throw QuantizationError.shapeMismatch("the tensor granularity needs the whole tensor's scale") }
            values.withUnsafeBufferPointer { x in
                codes.withUnsafeMutableBufferPointer { c in
                    statistics = elementQuantizer.quantize(x, c, start: 0, length: values.count, scale: Double(tensorScale),
                                                           indexBase: indexBase, continuing: statistics)
                }
            }
            return (codes, [])
        }
        // Each group is a contiguous run [start, start + length) of the block.
        var groups: [(start: Int, length: Int)] = []
        switch granularity {
        case .tensor: break
        case .channel: groups = (0..<rows).map { ($0 * columns, columns) }
        case .group(let g):
            for r in 0..<rows {
                var c = 0
                while c < columns { groups.append((r * columns + c, min(g, columns - c))); c += g }
            }
        }
        var scales = [Float](repeating: 0, count: groups.count)
        if groups.isEmpty { return (codes, scales) }
        // Groups are independent: quantize them on all cores, 8 at a time (`quantizeGroups`), then
        // merge the statistics in group order so the floating-point sums (and so the output
        // bytes) do not depend on scheduling.
        var groupStatistics = [QuantizationStatistics](repeating: QuantizationStatistics(), count: groups.count)
        var refused = [Bool](repeating: false, count: groups.count)
        let runs = groups
        let batches = (runs.count + 7) / 8
        let chunks = min(batches, max(1, ProcessInfo.processInfo.activeProcessorCount * 4))
        values.withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { codes in
                scales.withUnsafeMutableBufferPointer { scales in
                    groupStatistics.withUnsafeMutableBufferPointer { stats in
                        refused.withUnsafeMutableBufferPointer { refused in
                            // Each group writes only its own codes, scale, statistics and flag slots.
                            let shared = Shared(DisjointWrites(x: x, codes: codes, scales: scales, stats: stats, refused: refused))
                            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                                for b in stride(from: chunk, to: batches, by: chunks) {
                                    quantizeGroups(runs[(8 * b)..<min(runs.count, 8 * b + 8)], first: 8 * b, shared.value, indexBase: indexBase)
                                }
                            }
                        }
                    }
                }
            }
        }
        if refused.contains(true), let i = Self.firstNonFinite(values) {
            throw QuantizationError.nonFinite(index: firstRow * columns + i, value: values[i])
        }
        for s in groupStatistics { statistics.merge(s) }
        return (codes, scales)
    }

    /// The index of the first non-finite value, if any: a branch-free pass over the exponent
    /// bits (which the compiler vectorises), then the search only when there is one.
    static func firstNonFinite(_ values: [Float]) -> Int? {
        let any = values.withUnsafeBufferPointer { b in
            b.reduce(UInt32(0)) { $0 | ($1.bitPattern & 0x7F80_0000 == 0x7F80_0000 ? 1 : 0) }
        }
        return any == 0 ? nil : values.firstIndex { !$0.isFinite }
    }

    /// Buffers shared by the parallel group loop; sound because groups touch disjoint elements.
    struct DisjointWrites {
        let x: UnsafeBufferPointer<Float>
        let codes: UnsafeMutableBufferPointer<UInt8>
        let scales: UnsafeMutableBufferPointer<Float>
        let stats: UnsafeMutableBufferPointer<QuantizationStatistics>
        /// Groups holding a non-finite value under the .error policy (left unquantized).
        let refused: UnsafeMutableBufferPointer<Bool>
    }

    /// Quantizes up to 8 consecutive groups (`groups`, the first of which is group `first`): each
    /// group's scale from its largest finite magnitude, then its codes and statistics — the 8 side
    /// by side in the C kernel when they qualify (`ElementQuantizer.quantizeEight`), each alone
    /// otherwise; the bytes are the same either way.
    func quantizeGroups(_ groups: ArraySlice<(start: Int, length: Int)>, first: Int, _ w: DisjointWrites, indexBase: Int) {
        var sd = [Double](repeating: 0, count: groups.count)
        for (k, g) in groups.enumerated() {
            // The largest finite |x|, on bit patterns: non-negative binary32 values order as their
            // bits do, so an integer max (vectorised in CKernels) finds it; non-finite magnitudes
            // (exponent all ones) count as 0 and set bit 32.
            let bits = dintsim_max_finite_magnitude_bits(instructionSet.rawValue, w.x.baseAddress! + g.start, Int64(g.length))
            if bits >> 32 != 0 && nonFinite == .error { w.refused[first + k] = true }
            let s = scale(forMaxMagnitude: Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
            w.scales[first + k] = s
            sd[k] = Double(s)
        }
        if w.refused[first..<(first + groups.count)].contains(true) { return }
        if groups.count == 8, groups.allSatisfy({ $0.length == groups.first!.length }),
           let eight = elementQuantizer.quantizeEight(w.x, w.codes, starts: groups.map(\.start), length: groups.first!.length, scales: sd) {
            for k in 0..<8 { w.stats[first + k] = eight[k] }
            return
        }
        for (k, g) in groups.enumerated() {
            w.stats[first + k] = elementQuantizer.quantize(w.x, w.codes, start: g.start, length: g.length, scale: sd[k], indexBase: indexBase)
        }
    }
}
