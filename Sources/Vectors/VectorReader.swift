import Foundation
import Formats
import Quantization
import TensorIO
import Units

/// A vector directory's manifest, read strictly.
public struct VectorManifest {
    public let unit: VectorUnit
    public let level: Int
    public let seed: UInt64
    public let count: Int
    public let shard: Shard
    public let lines: Int
    public let files: [String: String]
    public let categoryLines: [String: Int]
    public let categoryCases: [String: Int]
    public let flagCounts: [String: Int]
    /// Cases this directory holds, and the whole sequence's count.
    public let cases: Int
    public let totalCases: Int
    /// The mutation score recorded at generation ("mutation_score"); nil when null or absent.
    public let recordedScore: MutationScore.Record?

    public init(directory: String) throws {
        let path = directory + "/" + VectorFiles.manifest
        try self.init(manifest: try Files.read(path), path: path)
    }

    /// Parses a MANIFEST.json's bytes; `path` names it in errors.
    public init(manifest bytes: [UInt8], path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let m = object as? [String: Any] else {
            throw VectorError.malformed("\(path): not a JSON object")
        }
        func field<T>(_ key: String, _ type: T.Type) throws -> T {
            guard let v = m[key] as? T else { throw VectorError.malformed("\(path): field '\(key)' missing or of the wrong type") }
            return v
        }
        guard try field("format", String.self) == VectorFiles.formatName else { throw VectorError.malformed("\(path): 'format' is not \(VectorFiles.formatName)") }
        guard try field("format_version", Int.self) == VectorFiles.formatVersion else { throw VectorError.malformed("\(path): unsupported format_version") }
        let unitName = try field("unit", String.self)
        let config = try field("configuration", [String: Any].self)
        func c<T>(_ key: String, _ type: T.Type) throws -> T {
            guard let v = config[key] as? T else { throw VectorError.malformed("\(path): configuration field '\(key)' missing or of the wrong type") }
            return v
        }
        do {
            switch unitName {
            case let name where MacKind(unitName: name) != nil:
                let mac = try MacConfiguration.decode(json: try JSONSerialization.data(withJSONObject: config))
                guard mac.kind.unitName == name else { throw VectorError.malformed("\(path): configuration unit '\(mac.kind.unitName)' differs from unit '\(name)'") }
                unit = try MacVectors(mac)
            case "quantizer":
                guard let rule = RoundingRule(rawValue: try c("rounding", String.self)) else { throw VectorError.malformed("\(path): unknown rounding rule") }
                var signedZero = SignedZero.keep
                if let name = config["signed_zero"] {
                    guard let z = (name as? String).flatMap(SignedZero.init(rawValue:)) else { throw VectorError.malformed("\(path): signed_zero is not \(SignedZero.allCases.map(\.rawValue).joined(separator: ", "))") }
                    signedZero = z
                }
                unit = QuantizerVectors(format: try LevelFormat.preset(named: try c("format", String.self)), rule: rule, signedZero: signedZero)
            case "block-quantizer":
                for (key, value) in [("format", "mxfp4"), ("rounding", "toNearestOrEven"), ("signed_zero", "keep")] {
                    guard try c(key, String.self) == value else { throw VectorError.malformed("\(path): block-quantizer sets are \(key) \(value)") }
                }
                guard let rule = MXScaleRule(rawValue: try c("scale_rule", String.self)), MXScaleRule.deterministic.contains(rule) else {
                    throw VectorError.malformed("\(path): block-quantizer scale_rule is one of \(MXScaleRule.deterministic.map(\.rawValue).joined(separator: ", "))")
                }
                unit = try BlockQuantizerVectors(blockSize: try c("block_size", Int.self), scaleRule: rule)
            case "nvfp4-quantizer":
                for (key, value) in NVFP4QuantizerVectors.convention {
                    guard try c(key, String.self) == value else { throw VectorError.malformed("\(path): nvfp4-quantizer sets are \(key) \(value)") }
                }
                unit = try NVFP4QuantizerVectors(blockSize: try c("block_size", Int.self))
            case "hadamard-decoder":
                let name = try c("output", String.self)
                guard let output = BinaryFloatFormat.all.first(where: { $0.name == name }) else { throw VectorError.malformed("\(path): unknown output format '\(name)'") }
                unit = try DecoderVectors(tileSize: try c("tile_size", Int.self), output: output)
            default:
                throw VectorError.malformed("\(path): unknown unit '\(unitName)'")
            }
        } catch let e as VectorError { throw e } catch {
            throw VectorError.malformed("\(path): bad configuration (\(ErrorText.describe(error)))")
        }
        level = try field("level", Int.self)
        guard let s = m["seed"] as? NSNumber, s.int64Value >= 0 || s.uint64Value > 0 else { throw VectorError.malformed("\(path): field 'seed' missing") }
        seed = s.uint64Value
        count = try field("count", Int.self)
        shard = try Shard(parsing: try field("shard", String.self))
        lines = try field("lines", Int.self)
        let f = try field("files", [String: Any].self)
        var files = [String: String]()
        for (name, v) in f {
            guard let d = v as? [String: Any], let sum = d["sha256"] as? String, sum.count == 64 else { throw VectorError.malformed("\(path): files.\(name) has no sha256") }
            guard !name.contains("/") else { throw VectorError.malformed("\(path): file name '\(name)' leaves the directory") }
            files[name] = sum
        }
        for required in [VectorFiles.hex] where files[required] == nil { throw VectorError.malformed("\(path): files lacks \(required)") }
        self.files = files
        categoryLines = ((m["categories"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? [String: Any])?["lines"] as? Int }
        categoryCases = ((m["categories"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? [String: Any])?["cases"] as? Int }
        cases = try field("cases", Int.self)
        totalCases = try field("total_cases", Int.self)
        flagCounts = ((m["flag_counts"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? Int }
        if let r = m["mutation_score"] as? [String: Any] {
            guard let catalogue = r["catalogue"] as? String, let lines = r["killing_lines"] as? [String: Any],
                  let killing = Optional(lines.mapValues { $0 as? Int }), lines.values.allSatisfy({ $0 is Int || $0 is NSNull }) else {
                throw VectorError.malformed("\(path): 'mutation_score' lacks its catalogue or killing_lines")
            }
            recordedScore = MutationScore.Record(catalogue: catalogue, killingLines: killing, margin: r["margin"] as? Int)
        } else {
            recordedScore = nil
        }
    }
}

/// Reads a text file line by line without holding it whole (vector files can be large).
final class LineReader {
    let path: String
    private let reader: FileReader
    private var buffer = [UInt8]()
    private var position = 0
    private var eof = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        do { reader = try FileReader(path: path) } catch let e as TensorIOError { throw VectorError.malformed(e.description) }
        self.path = path
    }

    /// The next line's bytes without its newline (nor a final carriage return), or nil at the end.
    func nextBytes() throws -> ArraySlice<UInt8>? {
        while true {
            if let nl = buffer[position...].firstIndex(of: 10) {
                var line = buffer[position..<nl]
                position = nl + 1
                lineNumber += 1
                if line.last == 13 { line = line.dropLast() }
                return line
            }
            if eof {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count; lineNumber += 1
                return line
            }
            buffer.removeFirst(position); position = 0
            if let chunk = try reader.next() { buffer.append(contentsOf: chunk) } else { eof = true }
        }
    }

    /// The next line without its newline, or nil at the end.
    func next() throws -> Substring? {
        try nextBytes().map { Substring(String(decoding: $0, as: UTF8.self)) }
    }
}
