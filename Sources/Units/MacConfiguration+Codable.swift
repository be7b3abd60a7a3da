import Circuits
import Foundation
import Formats

/// The one serialization of a MAC configuration (docs/vectors.md, "MAC configuration"):
///
///     {"unit": "dint-mac", "lanes": 4, "pipeline_depth": 3, "accumulator_width": 20,
///      "overflow": "saturate", "multiplier": "array", "adder": "ripple"}
///
/// plus, for `codebook-mac` only, `"codebook": {"name", "bit_width", "layout", "half_steps",
/// "reserved_codes"}`. Decoding goes through the checking initializer, so a decoded value is
/// valid; `multiplier` and `adder` may be left out (array, ripple), every other key is required.
extension MacConfiguration: Codable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case unit, codebook, lanes
        case pipelineDepth = "pipeline_depth", accumulatorWidth = "accumulator_width"
        case overflow, multiplier, adder
    }

    enum CodeBookKeys: String, CodingKey {
        case name, bitWidth = "bit_width", layout, halfSteps = "half_steps", reservedCodes = "reserved_codes"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let unit = try c.decode(String.self, forKey: .unit)
        let kind: MacKind
        if let fixed = MacKind(unitName: unit) {
            guard !c.contains(.codebook) else {
                throw DecodingError.dataCorruptedError(forKey: .codebook, in: c, debugDescription: "'codebook' applies to \(MacKind.codeBookUnitName), not \(unit)")
            }
            kind = fixed
        } else if unit == MacKind.codeBookUnitName {
            let b = try c.nestedContainer(keyedBy: CodeBookKeys.self, forKey: .codebook)
            let layoutName = try b.decode(String.self, forKey: .layout)
            guard let layout = LevelFormat.Layout(rawValue: layoutName) else {
                throw DecodingError.dataCorruptedError(forKey: .layout, in: b, debugDescription: "unknown code-book layout '\(layoutName)'")
            }
            kind = .codeBook(try LevelFormat(name: try b.decode(String.self, forKey: .name), bitWidth: try b.decode(Int.self, forKey: .bitWidth),
                                             layout: layout, halfSteps: try b.decode([Int].self, forKey: .halfSteps),
                                             reservedCodes: Set(try b.decode([Int].self, forKey: .reservedCodes))))
        } else {
            throw DecodingError.dataCorruptedError(forKey: .unit, in: c, debugDescription: "unknown unit '\(unit)' (known: \(MacKind.unitNames.joined(separator: ", ")))")
        }
        try self.init(kind: kind, lanes: try c.decode(Int.self, forKey: .lanes), pipelineDepth: try c.decode(Int.self, forKey: .pipelineDepth),
                      accumulatorWidth: try c.decode(Int.self, forKey: .accumulatorWidth), overflow: try c.decode(OverflowRule.self, forKey: .overflow),
                      multiplier: try c.decodeIfPresent(MultiplierArchitecture.self, forKey: .multiplier) ?? .array,
                      adder: try c.decodeIfPresent(AdderArchitecture.self, forKey: .adder) ?? .ripple)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.unitName, forKey: .unit)
        if case .codeBook(let f) = kind {
            var b = c.nestedContainer(keyedBy: CodeBookKeys.self, forKey: .codebook)
            try b.encode(f.name, forKey: .name)
            try b.encode(f.bitWidth, forKey: .bitWidth)
            try b.encode(f.layout.rawValue, forKey: .layout)
            try b.encode(f.halfSteps, forKey: .halfSteps)
            try b.encode(f.reserved.indices.filter { f.reserved[$0] }, forKey: .reservedCodes)
        }
        try c.encode(lanes, forKey: .lanes)
        try c.encode(pipelineDepth, forKey: .pipelineDepth)
        try c.encode(accumulatorWidth, forKey: .accumulatorWidth)
        try c.encode(overflow, forKey: .overflow)
        try c.encode(multiplier, forKey: .multiplier)
        try c.encode(adder, forKey: .adder)
    }

    /// The serialization as one line of JSON, keys sorted: what manifests and reports embed.
    public var json: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! e.encode(self), as: UTF8.self)   // every field encodes
    }

    /// Decodes the serialization from JSON bytes; errors name the key at fault.
    public static func decode(json data: Data) throws -> MacConfiguration {
        do {
            return try JSONDecoder().decode(MacConfiguration.self, from: data)
        } catch let e as DecodingError {
            throw MacConfigurationError.invalid(Self.describe(e))
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String { c.codingPath.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, _): return "configuration key '\(k.stringValue)' is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "configuration key '\(path(c))' has the wrong type"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? c.debugDescription : "configuration key '\(path(c))': \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
