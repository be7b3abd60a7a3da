import Formats

/// The 16-point random Hadamard transform applied before FP4 block quantization
/// (docs/quantization.md, "Random Hadamard transform"): each run of 16 consecutive elements of a
/// row, x, becomes y = x · diag(s) · H16 / 4, H16 the Sylvester Hadamard matrix
/// (H[i][j] = (−1)^popcount(i & j)) and s a vector of 16 signs. Every rounding is named:
/// 1. u_i = s_i · x_i (exact);
/// 2. four butterfly stages h = 1, 2, 4, 8: for each i with i & h = 0, (u_i, u_{i+h}) ←
///    (fl32(u_i + u_{i+h}), fl32(u_i − u_{i+h})), which leaves z = u · H16;
/// 3. y_j = fl32(z_j · ¼) (exact unless subnormal);
/// 4. `bf16` output: y_j rounded to BF16 (RNE) and carried as binary32; `fp32`: y_j as is.
/// The inverse, x̂ = ŷ · H16 / 4 · diag(s) (H16 · H16 = 16·I), runs the same butterflies in binary64.
public struct RandomHadamardTransform: Sendable, Equatable, CustomStringConvertible {
    public static let size = 16

    /// Where the signs come from.
    public enum Signs: Sendable, Equatable {
        /// s_j = −1 iff bit 63 of `CounterRandom(seed).bits(j)` is set, j = 0 … 15.
        case seeded(UInt64)
        /// TransformerEngine's fixed vector for NVFP4 weight-gradient quantization,
        /// + + + − + − − − − − − + − + − −.
        case transformerEngine
        /// Given explicitly (a file).
        case explicit([Int8])
    }

    /// The precision the transformed values are rounded to before quantization.
    public enum Output: String, CaseIterable, Sendable, Codable {
        case fp32, bf16
    }

    public let signs: Signs
    public let output: Output
    /// s as ±1.
    public let signVector: [Int8]

    static let transformerEngineSigns: [Int8] = [1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1, -1, -1]

    public init(signs: Signs = .seeded(0), output: Output = .fp32) throws {
        self.signs = signs
        self.output = output
        switch signs {
        case .seeded(let seed):
            let random = CounterRandom(seed: seed)
            signVector = (0..<Self.size).map { random.bits(UInt64($0)) >> 63 == 1 ? -1 : 1 }
        case .transformerEngine: signVector = Self.transformerEngineSigns
        case .explicit(let s):
            guard s.count == Self.size, s.allSatisfy({ $0 == 1 || $0 == -1 }) else {
                throw QuantizationError.unsuitableFormat("an RHT sign vector has 16 entries, each +1 or -1; got \(s.count) entries")
            }
            signVector = s
        }
    }

    /// A sign vector from text: 16 entries +1 / 1 / -1 separated by spaces, commas or line breaks.
    public static func signs(parsing text: String, source: String) throws -> [Int8] {
        let entries = text.split(whereSeparator: { $0.isWhitespace || $0 == "," })
        let signs = try entries.map { e -> Int8 in
            guard let v = Int8(e.hasPrefix("+") ? String(e.dropFirst()) : String(e)), v == 1 || v == -1 else {
                throw QuantizationError.unsuitableFormat("\(source): '\(e)' is not +1 or -1 (an RHT sign vector is 16 signs)")
            }
            return v
        }
        guard signs.count == size else {
            throw QuantizationError.unsuitableFormat("\(source): \(signs.count) signs; an RHT sign vector has 16")
        }
        return signs
    }

    /// Reads "16", "16:SEED" or "16:te" (the `--rht` option).
    public init(parsing spec: String, output: Output = .fp32) throws {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.first == "16", parts.count <= 2 else {
            throw QuantizationError.unsuitableFormat("--rht '\(spec)': use 16, 16:SEED or 16:te (the transform is 16-point)")
        }
        if parts.count == 1 { try self.init(output: output); return }
        if parts[1] == "te" { try self.init(signs: .transformerEngine, output: output); return }
        guard let seed = UInt64(parts[1]) else { throw QuantizationError.unsuitableFormat("--rht '\(spec)': '\(parts[1])' is neither a seed nor te") }
        try self.init(signs: .seeded(seed), output: output)
    }

    /// The variant-name token: rht16[-SEED|-te][-bf16] (seed 0 and fp32 omitted; an explicit
    /// vector is written as its 16-bit mask, rht16-mMASK, bit j set for s_j = −1).
    public var description: String {
        var t = "rht16"
        switch signs {
        case .seeded(let seed): if seed != 0 { t += "-\(seed)" }
        case .transformerEngine: t += "-te"
        case .explicit(let s): t += "-m" + String(s.enumerated().reduce(0) { $0 | ($1.element == -1 ? 1 << $1.offset : 0) })
        }
        return output == .bf16 ? t + "-bf16" : t
    }

    /// Parses the variant token; nil when `token` is not one.
    init?(token: String) throws {
        guard token.hasPrefix("rht16") else { return nil }
        var parts = token.dropFirst(5).split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "" else { return nil }
        parts.removeFirst()
        var output = Output.fp32
        if parts.last == "bf16" { output = .bf16; parts.removeLast() }
        switch parts.count {
        case 0: try self.init(output: output)
        case 1 where parts[0] == "te": try self.init(signs: .transformerEngine, output: output)
        case 1 where parts[0].hasPrefix("m"):
            guard let mask = UInt16(parts[0].dropFirst()) else { throw QuantizationError.unsuitableFormat("'\(token)': bad sign mask") }
            try self.init(signs: .explicit((0..<16).map { mask >> $0 & 1 == 1 ? -1 : 1 }), output: output)
        case 1:
            guard let seed = UInt64(parts[0]) else { throw QuantizationError.unsuitableFormat("'\(token)': use rht16[-SEED|-te|-mMASK][-bf16]") }
            try self.init(signs: .seeded(seed), output: output)
        default: throw QuantizationError.unsuitableFormat("'\(token)': use rht16[-SEED|-te|-mMASK][-bf16]")
        }
    }

    /// Transforms every run of 16 of a rows × columns row-major tensor (columns a multiple of 16).
    public func forward(_ x: [Float], columns: Int) throws -> [Float] {
        guard columns % Self.size == 0 else {
            throw QuantizationError.shapeMismatch("the 16-point RHT needs a column count that is a multiple of 16, not \(columns)")
        }
        var y = x
        let s = signVector.map { Float($0) }
        y.withUnsafeMutableBufferPointer { y in
            for g in stride(from: 0, to: y.count, by: Self.size) {
                for i in 0..<Self.size { y[g + i] *= s[i] }
                var h = 1
                while h < Self.size {
                    for i in 0..<Self.size where i & h == 0 {
                        let a = y[g + i], b = y[g + i + h]
                        y[g + i] = a + b
                        y[g + i + h] = a - b
                    }
                    h <<= 1
                }
                for i in 0..<Self.size {
                    let v = y[g + i] * 0.25
                    y[g + i] = output == .bf16 ? Float(BinaryFloatFormat.bf16.round(Double(v))) : v
                }
            }
        }
        return y
    }

    /// The inverse of one group of 16 in binary64: ŷ · H16 / 4 · diag(s).
    public func inverse(_ y: [Double]) -> [Double] {
        precondition(y.count == Self.size)
        var z = y
        var h = 1
        while h < Self.size {
            for i in 0..<Self.size where i & h == 0 {
                let a = z[i], b = z[i + h]
                z[i] = a + b
                z[i + h] = a - b
            }
            h <<= 1
        }
        return (0..<Self.size).map { z[$0] * 0.25 * Double(signVector[$0]) }
    }
}
