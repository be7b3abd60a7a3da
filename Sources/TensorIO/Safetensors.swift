import Foundation

/// A `.safetensors` checkpoint: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"NAME": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`), then the
/// tensors' bytes. Parsed strictly (docs/tensorio.md): every entry's offsets lie inside the data,
/// its byte length is shape × dtype width, and the entries tile the data exactly — no overlap,
/// no gap, nothing after.
public struct SafetensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the file.
        public let bytes: Range<Int>
        /// F32, F16 or BF16: readable as binary32.
        public var isFloat: Bool { ["F32", "F16", "BF16"].contains(dtype) }
    }

    /// Entries in file order (by data offset).
    public let entries: [Entry]
    public let metadata: [String: String]
    let data: [UInt8]

    /// Element widths of the dtypes the format defines.
    static let widths: [String: Int] = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                                        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1]
    /// The reference implementation's limit on the header.
    public static let maximumHeaderBytes = 100_000_000

    public static func load(_ path: String) throws -> SafetensorsFile {
        do { return try SafetensorsFile(bytes: try Files.read(path)) } catch let TensorIOError.malformed(why) {
            throw TensorIOError.malformed("\(path): \(why)")
        }
    }

    public init(bytes: [UInt8]) throws {
        func bad(_ why: String) -> TensorIOError { .malformed("safetensors: \(why)") }
        guard bytes.count >= 8 else { throw bad("\(bytes.count) bytes, shorter than the 8-byte header length") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << UInt64(8 * $1) }
        guard n <= UInt64(Self.maximumHeaderBytes) else { throw bad("header length \(n) exceeds \(Self.maximumHeaderBytes)") }
        guard 8 + Int(n) <= bytes.count else { throw bad("header length \(n) runs past the end of the \(bytes.count)-byte file") }
        let headerBytes = bytes[8..<(8 + Int(n))]
        guard headerBytes.first == UInt8(ascii: "{") else { throw bad("the header is not a JSON object") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(headerBytes)), let header = object as? [String: Any] else {
            throw bad("the header is not valid JSON")
        }
        let dataStart = 8 + Int(n)
        let dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__ value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let e = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            if let extra = Set(e.keys).subtracting(["dtype", "shape", "data_offsets"]).sorted().first {
                throw bad("entry '\(name)' has an unknown key '\(extra)'")
            }
            guard let dtype = e["dtype"] as? String, let width = Self.widths[dtype] else {
                throw bad("entry '\(name)': missing or unknown dtype \(String(describing: e["dtype"] ?? "nil"))")
            }
            guard let shape = Self.integers(e["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("entry '\(name)': shape must be a list of non-negative integers")
            }
            guard let offsets = Self.integers(e["data_offsets"]), offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw bad("entry '\(name)': data_offsets must be two integers, begin ≤ end")
            }
            guard offsets[1] <= dataLength else {
                throw bad("entry '\(name)': data_offsets [\(offsets[0]), \(offsets[1])] lie outside the \(dataLength) data bytes")
            }
            var count = width
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("entry '\(name)': shape \(shape) overflows") }
                count = product
            }
            guard count == offsets[1] - offsets[0] else {
                throw bad("entry '\(name)': shape \(shape) of \(dtype) needs \(count) bytes, data_offsets give \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: (dataStart + offsets[0])..<(dataStart + offsets[1])))
        }
        entries.sort { ($0.bytes.lowerBound, $0.bytes.upperBound, $0.name) < ($1.bytes.lowerBound, $1.bytes.upperBound, $1.name) }
        var end = dataStart
        for e in entries where !e.bytes.isEmpty {
            if e.bytes.lowerBound < end { throw bad("entry '\(e.name)' overlaps the entry before it") }
            if e.bytes.lowerBound > end { throw bad("the data has a gap before entry '\(e.name)' (bytes \(end - dataStart)..<\(e.bytes.lowerBound - dataStart))") }
            end = e.bytes.upperBound
        }
        if end != bytes.count { throw bad("\(bytes.count - end) bytes after the last tensor") }
        self.entries = entries
        self.metadata = metadata
        self.data = bytes
    }

    static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in list {
            // JSONSerialization gives NSNumber for numbers and booleans alike: accept JSON integers
            // only ("c" is true/false; "d"/"f" a fraction, an exponent or a number beyond Int64).
            guard let number = v as? NSNumber, !["c", "d", "f"].contains(String(cString: number.objCType)) else { return nil }
            out.append(number.intValue)
        }
        return out
    }

    public func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw TensorIOError.unsupported("no tensor '\(name)' in the checkpoint (\(entries.count) tensors; e.g. \(entries.prefix(3).map(\.name).joined(separator: ", ")))")
        }
        return e
    }

    /// A tensor's elements as binary32 (F32 as stored; F16 and BF16 widened exactly).
    public func floatValues(_ name: String) throws -> (values: [Float], shape: [Int]) {
        let e = try entry(name)
        let b = e.bytes.lowerBound
        let values: [Float]
        switch e.dtype {
        case "F32":
            values = stride(from: b, to: e.bytes.upperBound, by: 4).map { i in
                Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
            }
        case "F16":
            values = stride(from: b, to: e.bytes.upperBound, by: 2).map { i in Float(Float16(bitPattern: UInt16(data[i]) | UInt16(data[i + 1]) << 8)) }
        case "BF16":
            values = stride(from: b, to: e.bytes.upperBound, by: 2).map { i in Float(bitPattern: (UInt32(data[i]) | UInt32(data[i + 1]) << 8) << 16) }
        default:
            throw TensorIOError.unsupported("tensor '\(name)' is \(e.dtype); F32, F16 or BF16 is required")
        }
        return (values, e.shape)
    }

    /// The names of the 2-D float tensors whose name matches `pattern` (a regular expression,
    /// searched anywhere in the name), in file order.
    public func matrixNames(matching pattern: String) throws -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else {
            throw TensorIOError.unsupported("--tensors '\(pattern)' is not a valid regular expression")
        }
        return entries.filter { e in
            e.isFloat && e.shape.count == 2
                && regex.firstMatch(in: e.name, range: NSRange(e.name.startIndex..., in: e.name)) != nil
        }.map(\.name)
    }

    /// A `.safetensors` file holding `tensors` (name, dtype, shape, raw little-endian bytes) in
    /// this order, with `metadata`; header keys in the same order, no padding.
    public static func serialize(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])],
                                 metadata: [String: String] = [:]) -> [UInt8] {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var entries: [String] = []
        if !metadata.isEmpty {
            entries.append("\"__metadata__\":{" + metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in tensors {
            entries.append("\(quoted(t.name)):{\"dtype\":\(quoted(t.dtype)),\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        let n = UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) } + header + tensors.flatMap(\.bytes)
    }

    /// Little-endian bytes of binary32 values (the F32 dtype).
    public static func float32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> UInt32(8 * $0)) } }
    }
}
