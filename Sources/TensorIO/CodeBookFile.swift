import Foundation
import Formats

/// Loads a user code book from JSON:
///
///     { "name": "my-book", "levels": [0, 1, 2, 4, 6, 8, 10, 12, 0, -1, -2, -4, -6, -8, -10, -12],
///       "reserved": [8] }
///
/// `levels` holds 2^bits integers (16 for a 4-bit code book), the level of each code in
/// half-steps, index = code; `reserved` (optional) lists codes the encoder must not produce.
public enum CodeBookFile {
    public static func load(_ path: String) throws -> LevelFormat {
        try parse(try Files.read(path), source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String = "code book") throws -> LevelFormat {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw TensorIOError.malformed("\(source): not valid JSON")
        }
        guard let dict = object as? [String: Any] else { throw TensorIOError.malformed("\(source): top level must be an object") }
        if let extra = dict.keys.first(where: { !["name", "levels", "reserved"].contains($0) }) {
            throw TensorIOError.malformed("\(source): unknown key '\(extra)'")
        }
        guard let name = dict["name"] as? String, !name.isEmpty, name.count <= 64 else {
            throw TensorIOError.malformed("\(source): 'name' must be a non-empty string of at most 64 characters")
        }
        let levels = try integers(dict["levels"], field: "levels", source: source)
        let reserved = try dict["reserved"].map { try integers($0, field: "reserved", source: source) } ?? []
        do {
            return try LevelFormat.codeBook(name: name, halfSteps: levels, reservedCodes: Set(reserved))
        } catch let e as FormatError {
            throw TensorIOError.malformed("\(source): \(e)")
        }
    }

    static func integers(_ value: Any?, field: String, source: String) throws -> [Int] {
        guard let array = value as? [Any] else { throw TensorIOError.malformed("\(source): '\(field)' must be an array of integers") }
        return try array.enumerated().map { (i, v) in
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c", // "c": a JSON true/false
                  let exact = Int(exactly: n.doubleValue), Double(exact) == n.doubleValue,
                  abs(exact) <= 1 << 20 else {
                throw TensorIOError.malformed("\(source): '\(field)'[\(i)] = \(v) is not an integer")
            }
            return exact
        }
    }
}
