import Testing
import Foundation
import TensorIO

@Suite struct NpyCodecTests {
    static func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
        var h = dict
        let pre = version == 1 ? 10 : 12
        h += String(repeating: " ", count: (64 - (pre + h.utf8.count + 1) % 64) % 64) + "\n"
        let n = h.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [version, 0]
            + (version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8), 0, 0]) + Array(h.utf8)
    }

    @Test func roundTripsEveryDType() throws {
        for dtype in NpyArray.DType.allCases {
            for shape in [[3, 5], [7], [2, 3, 4], [0, 4], []] {
                let n = shape.reduce(1, *) * dtype.byteWidth
                let a = try NpyArray(dtype: dtype, shape: shape, data: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37) })
                let bytes = NpyCodec.encode(a)
                #expect(try NpyCodec.decode(bytes) == a)
                #expect((bytes.count - a.data.count) % 64 == 0, "data is 64-byte aligned")
            }
        }
    }

    @Test func readsNumPyWrittenFixture() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let a = try Files.readNpy(url.appendingPathComponent("fixtures/minilm/minilm-l1-key-weight.npy").path)
        #expect(a.dtype == .float32 && a.shape == [384, 384])
        let v = try a.floatValues()
        #expect(v.allSatisfy(\.isFinite) && v.contains { $0 != 0 })
    }

    @Test func float16IsWidenedExactly() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000]
        let a = try NpyArray(dtype: .float16, shape: [5], data: bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(try a.floatValues() == bits.map { Float(Float16(bitPattern: $0)) })
    }

    /// Each malformed input is refused with an error naming the problem.
    @Test(arguments: [
        ("bad magic", Array("NOTNUMPY".utf8) + [UInt8](repeating: 0, count: 10), "magic"),
        ("version 4", [0x93] + Array("NUMPY".utf8) + [4, 0, 0, 0], "version"),
        ("header past end", [0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F], "past the end"),
        ("fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }") + [0, 0, 0, 0], "Fortran"),
        ("big endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0], "dtype"),
        ("object dtype", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0, 0, 0, 0, 0], "dtype"),
        ("truncated", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") + [UInt8](repeating: 0, count: 23), "truncated"),
        ("trailing", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }") + [UInt8](repeating: 0, count: 5), "trailing"),
        ("absurd shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }"), "larger"),
        ("negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"), "dimension"),
        ("missing key", header("{'descr': '<f4', 'shape': (1,), }") + [0, 0, 0, 0], "fortran_order"),
        ("extra key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}") + [0, 0, 0, 0], "unexpected header key"),
        ("garbage header", header("not a dict at all") + [0, 0, 0, 0], "expected"),
        ("duplicate key", header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}") + [0, 0, 0, 0], "duplicate"),
        ("empty", [UInt8](), "magic"),
    ])
    func refusesMalformed(name: String, bytes: [UInt8], expected: String) {
        do {
            _ = try NpyCodec.decode(bytes)
            Issue.record("\(name) was accepted")
        } catch {
            #expect("\(error)".contains(expected), "\(name): \(error)")
        }
    }

    @Test func version2HeaderIsAccepted() throws {
        let bytes = Self.header("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", version: 2) + [7, 9]
        #expect(try NpyCodec.decode(bytes).data == [7, 9])
    }

    @Test func typedAccessRefusesWrongDTypesAndRanks() throws {
        let a = try NpyArray(uint8: [1, 2, 3], shape: [3])
        #expect(throws: TensorIOError.self) { try a.floatValues() }
        #expect(throws: TensorIOError.self) { try a.int8Values() }
        #expect(throws: TensorIOError.self) { try a.matrixShape() }
        #expect(throws: TensorIOError.self) { try NpyArray(uint8: [1, 2], shape: [3]) }
    }
}

@Suite struct FilesTests {
    func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "dintsim-files-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func atomicWriteReplacesWholeAndLeavesNoTemporaries() throws {
        let dir = temporaryDirectory()
        let path = dir + "/out.bin"
        try Files.writeAtomically([1, 2, 3], to: path)
        try Files.writeAtomically(Array(repeating: 9, count: 100_000), to: path)
        #expect(try Files.read(path) == Array(repeating: 9, count: 100_000))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])
    }

    @Test func failedMultiFileWriteWritesNothing() throws {
        let dir = temporaryDirectory()
        #expect(throws: TensorIOError.self) {
            try Files.writeAllAtomically([(dir + "/a.npy", [1]), (dir + "/missing/b.npy", [2])])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(throws: TensorIOError.self) { try Files.read(dir + "/nothing") }
        #expect(throws: TensorIOError.self) { try Files.read(dir) }
    }

    @Test func codeBookJSON() throws {
        let ok = try CodeBookFile.parse(Array(#"{"name": "nf4ish", "levels": [0,1,2,3,4,6,8,12,0,-1,-2,-3,-4,-6,-8,-12], "reserved": [8]}"#.utf8))
        #expect(ok.name == "nf4ish" && ok.maxHalfSteps == 12 && ok.reserved[8])
        for (bad, expected) in [
            (#"{"name": "x", "levels": [0,1,2]}"#, "power of two"),
            (#"{"name": "x", "levels": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,1.5]}"#, "not an integer"),
            (#"{"name": "x", "levels": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,true]}"#, "not an integer"),
            (#"{"levels": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}"#, "name"),
            (#"{"name": "x", "levels": [1,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}"#, "level 0"),
            (#"{"name": "x", "levels": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15], "bits": 4}"#, "unknown key"),
            (#"[1, 2]"#, "object"),
            (#"{"name": "x", "#, "JSON"),
        ] {
            #expect(throws: TensorIOError.self) { try CodeBookFile.parse(Array(bad.utf8)) }
            do { _ = try CodeBookFile.parse(Array(bad.utf8)) } catch { #expect("\(error)".contains(expected), "\(bad): \(error)") }
        }
    }
}
