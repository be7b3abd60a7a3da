import Testing
import Formats
import Kernels
import PropertyChecking
import Quantization

/// The C kernels (include/kernels.h) at every instruction set this CPU supports give the bytes
/// of the scalar definition: codes, scales and statistics — the sums bit for bit, in element
/// order. The reference is the general Swift loop (`select`, held to the GMP oracle by the
/// quantizer property tests), reached with the `.zero` non-finite policy, which on finite input
/// decides and counts exactly as `.error` does but never takes a kernel.
@Suite struct InstructionSetTests {
    /// Rows whose scale is mostly a known binary32 s with few significant bits (one element is
    /// ±top·s), so that levels and midpoints (ties) are exact inputs; around them, nudged values,
    /// random magnitudes over 30 binades below the top, ±0 and subnormals. One row in six has a
    /// random maximum (a rounded scale), one in six only subnormals of a few ulps (clipping).
    static func rows(_ format: LevelFormat, rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var s = CounterStream(seed: seed)
        let l = format.sortedLevels
        let top = Double(format.maxHalfSteps) / 2
        var values: [Float] = []
        for _ in 0..<rows {
            let e = Generate.int(-100...60, &s)
            let scale = Float(sign: .plus, exponent: e, significand: Float(Generate.int(8...15, &s)) / 8)
            let limit = Float(top * Double(scale))
            var row = (0..<columns).map { _ -> Float in
                switch Generate.int(0...9, &s) {
                case 0...3:
                    let j = Generate.int(0...(l.count - 2), &s)
                    let quarterSteps = Generate.bool(&s) ? Double(l[j] + l[j + 1]) : Double(2 * l[j])
                    var x = Float(quarterSteps / 4 * Double(scale))
                    for _ in 0..<Generate.int(0...2, &s) { x = Generate.bool(&s) ? x.nextUp : x.nextDown }
                    return min(max(x, -limit), limit)
                case 4...7:
                    let x = Generate.float(exponents: (e - 30)...(e + 2), &s)
                    return min(max(x, -limit), limit)
                case 8: return Generate.bool(&s) ? 0 : -0.0
                default: return Float(bitPattern: UInt32(Generate.int(1...0x7F_FFFF, &s))) * (Generate.bool(&s) ? 1 : -1)
                }
            }
            switch Generate.int(0...5, &s) {
            case 0:
                // Subnormals of up to 1.45·top ulps: the scale rounds to a few ulps (often one),
                // far below max/top, and the largest elements clip.
                let most = Int(1.45 * top)
                row = row.map { _ in Float(bitPattern: UInt32(Generate.int(1...most, &s))) * (Generate.bool(&s) ? 1 : -1) }
            case 1: break   // the row's maximum is random: its scale is rounded
            default: row[Generate.int(0...(columns - 1), &s)] = Generate.bool(&s) ? limit : -limit
            }
            values += row
        }
        return values
    }

    static let granularities: [Granularity] = [.channel, .group(24), .group(64), .tensor]

    @Test(arguments: InstructionSet.supported)
    func symmetricQuantizersGiveTheScalarBytes(instructionSet: InstructionSet) throws {
        var clipped = 0
        for format in [LevelFormat.dint4, .int4Symmetric, .fp4, .int8Symmetric] {
            for rule in [RoundingRule.toNearestOrEven, .toNearestOrAway] {
                for granularity in Self.granularities {
                    // 37 rows: batches of 8 and a remainder; 203 columns: vectors of 8 and a tail.
                    for (rows, columns) in [(37, 203), (16, 64), (3, 5)] {
                        let x = Self.rows(format, rows: rows, columns: columns, seed: UInt64(rows * 1000 + columns))
                        let reference = try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule, nonFinite: .zero)
                            .quantize(x, rows: rows, columns: columns)
                        var q = try SymmetricQuantizer(format: format, granularity: granularity, rounding: rule)
                        q.instructionSet = instructionSet
                        let r = try q.quantize(x, rows: rows, columns: columns)
                        let what = "\(instructionSet) \(format.name) \(rule) \(granularity) \(rows)×\(columns)"
                        #expect(r.codes == reference.codes, "\(what): codes")
                        #expect(r.scales == reference.scales, "\(what): scales")
                        #expect(r.statistics == reference.statistics, "\(what): \(r.statistics) vs \(reference.statistics)")
                        clipped += r.statistics.clipCount
                    }
                }
            }
        }
        #expect(clipped > 0, "the data should clip somewhere")
    }

    /// A non-finite value is refused at its index whichever pass finds it (the group maximum,
    /// for the grouped granularities).
    @Test(arguments: InstructionSet.supported)
    func aNonFiniteValueIsRefusedAtItsIndex(instructionSet: InstructionSet) throws {
        for granularity in Self.granularities {
            for (index, value) in [(0, Float.nan), (77, .infinity), (1_000, -.infinity), (2_046, .nan)] {
                var x = Self.rows(.dint4, rows: 16, columns: 128, seed: 5)
                x[index] = value
                x[index + 1] = .infinity   // a later one does not change the answer
                var q = try SymmetricQuantizer(format: .dint4, granularity: granularity)
                q.instructionSet = instructionSet
                do {
                    _ = try q.quantize(x, rows: 16, columns: 128)
                    Issue.record("\(instructionSet) \(granularity): \(value) at \(index) was accepted")
                } catch QuantizationError.nonFinite(let i, let v) {
                    #expect(i == index && v.bitPattern == value.bitPattern, "\(instructionSet) \(granularity): reported \(v) at \(i)")
                }
            }
        }
    }

    @Test(arguments: InstructionSet.supported)
    func blockQuantizersGiveThePortableBytes(instructionSet: InstructionSet) throws {
        let x = Self.rows(.fp4, rows: 12, columns: 96, seed: 9)
        for scheme in BlockFloatScheme.allCases {
            let reference = try BlockFloatQuantizer(scheme: scheme)
            var portable = reference
            portable.instructionSet = .portable
            var q = reference
            q.instructionSet = instructionSet
            let (a, b) = (try portable.quantize(x, rows: 12, columns: 96), try q.quantize(x, rows: 12, columns: 96))
            #expect(a.codes == b.codes && a.blockScales == b.blockScales, "\(instructionSet) \(scheme)")
            #expect(a.statistics == b.statistics, "\(instructionSet) \(scheme)")
        }
    }
}
