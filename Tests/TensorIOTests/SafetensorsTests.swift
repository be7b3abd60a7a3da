import Testing
import Foundation
import TensorIO

/// Well-formed files come from the library's writer; malformed ones replace its header or add
/// trailing bytes.
enum SafetensorsBuilder {
    static func file(_ tensors: [(String, String, [Int], [UInt8])], headerOverride: String? = nil, trailing: [UInt8] = []) -> [UInt8] {
        let data = tensors.flatMap(\.3)
        guard let headerOverride else {
            return SafetensorsFile.serialize(tensors.map { ($0.0, $0.1, $0.2, $0.3) }, metadata: ["format": "pt"]) + trailing
        }
        let header = Array(headerOverride.utf8)
        let n = UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) } + header + data + trailing
    }

    static func f32(_ v: [Float]) -> [UInt8] { SafetensorsFile.float32Bytes(v) }
}

@Suite struct SafetensorsTests {
    @Test func readsF32F16AndBF16Exactly() throws {
        let values: [Float] = [0, -1.5, 3.140625, 65504, -0.000061035156, 7]
        let f16 = values.flatMap { v -> [UInt8] in let b = Float16(v).bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8)] }
        let bf16 = values.flatMap { v -> [UInt8] in let b = v.bitPattern >> 16; return [UInt8(b & 0xFF), UInt8(b >> 8)] }
        let bytes = SafetensorsBuilder.file([("w.f32", "F32", [2, 3], SafetensorsBuilder.f32(values)), ("w.f16", "F16", [3, 2], f16),
                                             ("ids", "I64", [1, 2], [UInt8](repeating: 0, count: 16)), ("w.bf16", "BF16", [6], bf16)])
        let file = try SafetensorsFile(bytes: bytes)
        #expect(file.entries.map(\.name) == ["w.f32", "w.f16", "ids", "w.bf16"])
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.floatValues("w.f32") == (values, [2, 3]))
        #expect(try file.floatValues("w.f16").values == values.map { Float(Float16($0)) })
        #expect(try file.floatValues("w.bf16").values == values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
        #expect(throws: TensorIOError.self) { try file.floatValues("ids") }
        #expect(throws: TensorIOError.self) { try file.floatValues("absent") }
        #expect(try file.matrixNames(matching: "^w\\.") == ["w.f32", "w.f16"])
        #expect(throws: TensorIOError.self) { try file.matrixNames(matching: "(") }
    }

    @Test func refusesMalformedFiles() {
        let good = SafetensorsBuilder.f32([1, 2])
        let entry = { (offsets: String, shape: String, dtype: String) in
            "{\"t\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
        }
        let cases: [(String, [UInt8], String)] = [
            ("short", [1, 2, 3], "shorter than the 8-byte header length"),
            ("huge header", [0, 0, 0, 0, 0, 0, 0, 1] + good, "exceeds"),
            ("header past end", [200, 0, 0, 0, 0, 0, 0, 0, 123], "runs past the end"),
            ("not json", SafetensorsBuilder.file([], headerOverride: "{nope"), "not valid JSON"),
            ("not object", SafetensorsBuilder.file([], headerOverride: "[1]"), "not a JSON object"),
            ("unknown dtype", SafetensorsBuilder.file([], headerOverride: entry("[0,8]", "[2]", "F12")) + good, "unknown dtype"),
            ("outside", SafetensorsBuilder.file([], headerOverride: entry("[0,16]", "[4]", "F32")) + good, "lie outside"),
            ("size mismatch", SafetensorsBuilder.file([], headerOverride: entry("[0,8]", "[3]", "F32")) + good, "needs 12 bytes"),
            ("negative shape", SafetensorsBuilder.file([], headerOverride: entry("[0,8]", "[-2]", "F32")) + good, "non-negative integers"),
            ("bool shape", SafetensorsBuilder.file([], headerOverride: entry("[0,8]", "[true, 2]", "F32")) + good, "non-negative integers"),
            ("fractional offset", SafetensorsBuilder.file([], headerOverride: entry("[0,8.0]", "[2]", "F32")) + good, "two integers"),
            ("reversed offsets", SafetensorsBuilder.file([], headerOverride: entry("[8,0]", "[2]", "F32")) + good, "begin ≤ end"),
            ("unknown key", SafetensorsBuilder.file([], headerOverride: "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}") + good, "unknown key 'x'"),
            ("overlap", SafetensorsBuilder.file([], headerOverride: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}") + good, "overlaps"),
            ("gap", SafetensorsBuilder.file([], headerOverride: entry("[4,8]", "[1]", "F32")) + good, "gap"),
            ("trailing", SafetensorsBuilder.file([("t", "F32", [2], good)], trailing: [0]), "1 bytes after the last tensor"),
            ("metadata", SafetensorsBuilder.file([], headerOverride: "{\"__metadata__\":{\"a\":1}}"), "is not a string"),
        ]
        for (label, bytes, expected) in cases {
            do {
                _ = try SafetensorsFile(bytes: bytes)
                Issue.record("\(label): accepted")
            } catch {
                #expect("\(error)".contains(expected), "\(label): \(error)")
            }
        }
    }
}
