import Formats

/// What a quantizer call did to its input, for every call.
public struct QuantizationStatistics: Equatable, Sendable, Codable {
    public var elementCount = 0
    public var nonzeroCount = 0
    /// Non-zero inputs that became the zero level.
    public var underflowCount = 0
    /// Inputs clipped by saturation: exact x / scale beyond the outermost level by at least half
    /// the outermost gap (see `LevelSelector.isClipped`); ±∞ under the saturate policy.
    public var clipCount = 0
    public var sumSquaredError = 0.0
    public var sumSquaredSignal = 0.0

    public init() {}

    public var underflowRate: Double { nonzeroCount == 0 ? 0 : Double(underflowCount) / Double(nonzeroCount) }
    public var clipRate: Double { elementCount == 0 ? 0 : Double(clipCount) / Double(elementCount) }
    public var meanSquaredError: Double { elementCount == 0 ? 0 : sumSquaredError / Double(elementCount) }
    /// 10·log10(Σx² / Σ(x − x̂)²) in dB; +∞ when the error is zero.
    public var sqnrDecibels: Double {
        sumSquaredError == 0 ? .infinity : 10 * DeterministicMath.log10(sumSquaredSignal / sumSquaredError)
    }

    public mutating func merge(_ other: QuantizationStatistics) {
        elementCount += other.elementCount
        nonzeroCount += other.nonzeroCount
        underflowCount += other.underflowCount
        clipCount += other.clipCount
        sumSquaredError += other.sumSquaredError
        sumSquaredSignal += other.sumSquaredSignal
    }

    enum CodingKeys: String, CodingKey {
        case elementCount = "elements", nonzeroCount = "nonzero", underflowCount = "underflow_count",
             clipCount = "clip_count", sumSquaredError = "sum_squared_error", sumSquaredSignal = "sum_squared_signal"
        case underflowRate = "underflow_rate", clipRate = "clip_rate", mse, sqnrDecibels = "sqnr_db"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        elementCount = try c.decode(Int.self, forKey: .elementCount)
        nonzeroCount = try c.decode(Int.self, forKey: .nonzeroCount)
        underflowCount = try c.decode(Int.self, forKey: .underflowCount)
        clipCount = try c.decode(Int.self, forKey: .clipCount)
        sumSquaredError = try c.decode(Double.self, forKey: .sumSquaredError)
        sumSquaredSignal = try c.decode(Double.self, forKey: .sumSquaredSignal)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(elementCount, forKey: .elementCount)
        try c.encode(nonzeroCount, forKey: .nonzeroCount)
        try c.encode(underflowCount, forKey: .underflowCount)
        try c.encode(clipCount, forKey: .clipCount)
        try c.encode(sumSquaredError, forKey: .sumSquaredError)
        try c.encode(sumSquaredSignal, forKey: .sumSquaredSignal)
        try c.encode(underflowRate, forKey: .underflowRate)
        try c.encode(clipRate, forKey: .clipRate)
        try c.encode(meanSquaredError, forKey: .mse)
        if sqnrDecibels.isFinite { try c.encode(sqnrDecibels, forKey: .sqnrDecibels) } else { try c.encodeNil(forKey: .sqnrDecibels) }
    }
}
