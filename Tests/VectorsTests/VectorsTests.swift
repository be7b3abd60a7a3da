import Foundation
import Testing
import TensorIO
import Units
@testable import Vectors

@Suite struct VectorsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func scratch() -> String {
        let dir = NSTemporaryDirectory() + "dintsim-vectors-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func bytes(_ path: String) throws -> [UInt8] { try Files.read(path) }

    /// The committed sets are what the generator makes today, byte for byte. (One case per set,
    /// so that the sets regenerate in parallel.)
    @Test(arguments: try! CanonicalVectors.sets.map(\.directory))
    func committedVectorsRegenerateIdentically(directory: String) throws {
        let dir = Self.scratch()
        for set in [try #require(try CanonicalVectors.sets.first { $0.directory == directory })] {
            let out = dir + "/" + set.directory
            _ = try VectorGenerator.generate(set.unit, level: set.level, seed: set.seed, count: set.count, directory: out)
            for name in [VectorFiles.hex, VectorFiles.jsonl, VectorFiles.verilogLayout, VectorFiles.manifest] {
                let committed = try Self.bytes(Self.repository + "/vectors/" + set.directory + "/" + name)
                #expect(try Self.bytes(out + "/" + name) == committed, "vectors/\(set.directory)/\(name) differs from a fresh generation")
            }
        }
    }

    /// Shards are disjoint and, concatenated in order, identical to one run, for every n.
    @Test(arguments: [
        try! MacVectors(try MacConfiguration(kind: .dint, lanes: 2, pipelineDepth: 3, accumulatorWidth: 14, overflow: .saturate)) as VectorUnit,
        QuantizerVectors(format: .dint4, rule: .stochastic) as VectorUnit,
        try! DecoderVectors(tileSize: 8, output: .bf16) as VectorUnit,
    ])
    func shardsConcatenateToTheWholeSet(unit: VectorUnit) throws {
        let dir = Self.scratch()
        _ = try VectorGenerator.generate(unit, level: 2, seed: 7, count: 40, directory: dir + "/whole")
        let whole = try Self.bytes(dir + "/whole/" + VectorFiles.hex), wholeJSON = try Self.bytes(dir + "/whole/" + VectorFiles.jsonl)
        for n in [2, 3, 5] {
            var hex = [UInt8](), json = [UInt8]()
            for i in 0..<n {
                let d = dir + "/s\(i)of\(n)"
                _ = try VectorGenerator.generate(unit, level: 2, seed: 7, count: 40, shard: try Shard(index: i, count: n), directory: d)
                hex += try Self.bytes(d + "/" + VectorFiles.hex); json += try Self.bytes(d + "/" + VectorFiles.jsonl)
                #expect(try VectorVerifier.verify(directory: d).failed == 0)
            }
            #expect(hex == whole && json == wholeJSON, "\(n) shards")
        }
        // A different seed changes the random cases.
        _ = try VectorGenerator.generate(unit, level: 2, seed: 8, count: 40, directory: dir + "/other")
        #expect(try Self.bytes(dir + "/other/" + VectorFiles.hex) != whole)
    }

    /// Rewrite line `k`'s expected output (hex and JSON twin) and fix the checksums: only the
    /// exact reference can notice.
    static func tamper(_ dir: String, line k: Int, field: String, xor: UInt64) throws {
        let m = try VectorManifest(directory: dir)
        let layout = m.unit.layout
        let (f, offset) = layout.field(field)!
        precondition(f.count == 1)
        var hex = String(decoding: try bytes(dir + "/" + VectorFiles.hex), as: UTF8.self).split(separator: "\n").map(String.init)
        var values = try layout.parseHex(Substring(hex[k]), 0..<layout.valueCount).get()
        values[offset] ^= xor
        hex[k] = layout.hexLine(values)
        var json = String(decoding: try bytes(dir + "/" + VectorFiles.jsonl), as: UTF8.self).split(separator: "\n").map(String.init)
        let old = (values[offset] ^ xor), new = values[offset]
        json[k] = json[k].replacingOccurrences(of: "\"\(field)\":\(old)", with: "\"\(field)\":\(new)")
        let hexBytes = Array((hex.joined(separator: "\n") + "\n").utf8), jsonBytes = Array((json.joined(separator: "\n") + "\n").utf8)
        try Files.writeAtomically(hexBytes, to: dir + "/" + VectorFiles.hex)
        try Files.writeAtomically(jsonBytes, to: dir + "/" + VectorFiles.jsonl)
        var manifest = String(decoding: try bytes(dir + "/" + VectorFiles.manifest), as: UTF8.self)
        manifest = manifest.replacingOccurrences(of: m.files[VectorFiles.hex]!, with: SHA256.hex(hexBytes))
        manifest = manifest.replacingOccurrences(of: m.files[VectorFiles.jsonl]!, with: SHA256.hex(jsonBytes))
        try Files.writeAtomically(Array(manifest.utf8), to: dir + "/" + VectorFiles.manifest)
    }

    /// An NVFP4-quantizer set: a changed block-scale code is caught by the exact reference, and a
    /// manifest naming another convention (here the reciprocal element division) is refused.
    @Test func nvfp4SetsAreVerifiedAndTheirConventionChecked() throws {
        let dir = Self.scratch()
        _ = try VectorGenerator.generate(try NVFP4QuantizerVectors(blockSize: 16), level: 1, seed: 1, count: 0, directory: dir)
        #expect(try VectorVerifier.verify(directory: dir).failed == 0)
        try Self.tamper(dir, line: 40, field: "scale", xor: 1)
        let r = try VectorVerifier.verify(directory: dir)
        #expect(r.failed == 1 && r.messages.first?.contains("exact reference") == true, "\(r.messages)")
        let manifest = String(decoding: try Self.bytes(dir + "/" + VectorFiles.manifest), as: UTF8.self)
        #expect(manifest.contains("\"element_division\": \"exact\""))
        try Files.writeAtomically(Array(manifest.replacingOccurrences(of: "\"element_division\": \"exact\"", with: "\"element_division\": \"reciprocal\"").utf8),
                                  to: dir + "/" + VectorFiles.manifest)
        #expect(throws: VectorError.self) { try VectorManifest(directory: dir) }
        do { _ = try VectorManifest(directory: dir) } catch { #expect("\(error)".contains("element_division exact"), "\(error)") }
    }

    @Test func verifyCatchesAWrongExpectedValueAndAWrongChecksum() throws {
        let unit = try MacVectors(try MacConfiguration(kind: .dint, lanes: 1, pipelineDepth: 2, accumulatorWidth: 16))
        let dir = Self.scratch()
        _ = try VectorGenerator.generate(unit, level: 1, seed: 1, count: 0, directory: dir)
        #expect(try VectorVerifier.verify(directory: dir).failed == 0)
        try Self.tamper(dir, line: 100, field: "acc", xor: 4)
        let r = try VectorVerifier.verify(directory: dir)
        #expect(r.failed == 1)
        #expect(r.messages.first?.contains("exact reference") == true)
        // A changed byte without a fixed checksum is caught by the checksum.
        let q = Self.scratch()
        _ = try VectorGenerator.generate(QuantizerVectors(format: .int4, rule: .toNearestOrEven), level: 1, seed: 1, count: 0, directory: q)
        var bytes = try Self.bytes(q + "/" + VectorFiles.hex)
        bytes[3] = bytes[3] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try Files.writeAtomically(bytes, to: q + "/" + VectorFiles.hex)
        #expect(try VectorVerifier.verify(directory: q).messages.contains { $0.contains("sha256") })
    }

    @Test func checkerReportsEachMismatchWithItsBitsAndRefusesMalformedDumps() throws {
        let unit = try DecoderVectors(tileSize: 8, output: .fp32)
        let dir = Self.scratch()
        _ = try VectorGenerator.generate(unit, level: 1, seed: 1, count: 0, directory: dir)
        let layout = unit.layout
        let lines = String(decoding: try Self.bytes(dir + "/" + VectorFiles.hex), as: UTF8.self).split(separator: "\n")
        var dump = lines.map { l -> String in
            let v = try! layout.parseHex(l, 0..<layout.valueCount).get()
            var b = [UInt8](); layout.appendHex(v, layout.outputRange, to: &b); return String(decoding: b, as: UTF8.self)
        }
        try Files.writeAtomically(Array(("// DUT dump\n" + dump.joined(separator: "\n") + "\n").utf8), to: dir + "/ok.dump")
        let ok = try DumpChecker.check(directory: dir, dump: dir + "/ok.dump")
        #expect(ok.failed == 0 && ok.passed == lines.count)
        // Flip bit 0 of y3 on line 5.
        var fields = dump[5].split(separator: "_").map(String.init)
        fields[3] = String(UInt64(fields[3], radix: 16)! ^ 1, radix: 16).leftPadded(to: 8)
        dump[5] = fields.joined(separator: "_")
        try Files.writeAtomically(Array((dump.joined(separator: "\n") + "\n").utf8), to: dir + "/bad.dump")
        let bad = try DumpChecker.check(directory: dir, dump: dir + "/bad.dump")
        #expect(bad.failed == 1 && bad.passed == lines.count - 1)
        #expect(bad.messages.first?.hasPrefix("cycle 5 (case 5 ") == true && bad.messages.first?.contains(", step 0): q0=") == true, "\(bad.messages)")
        #expect(bad.failures.first?.cycle == 5 && bad.failures.first?.transactionCycle == 5 && bad.failures.first?.bitsDiffer?["y3"] == "0")
        #expect(bad.messages.first?.contains("(bits differ: y3[0])") == true)
        #expect(bad.summary == "\(lines.count - 1) passed, 1 failed")
        // A short dump counts the missing lines as failures; a garbled one is refused.
        try Files.writeAtomically(Array((dump.prefix(10).joined(separator: "\n") + "\n").utf8), to: dir + "/short.dump")
        #expect(try DumpChecker.check(directory: dir, dump: dir + "/short.dump").failed == lines.count - 10 + 1) // + the flipped line 5
        try Files.writeAtomically(Array("zz_12\n".utf8), to: dir + "/garbled.dump")
        #expect(throws: VectorError.self) { try DumpChecker.check(directory: dir, dump: dir + "/garbled.dump") }
    }

    @Test func levelOneCoversEveryProductAndTheAccumulatorEdges() throws {
        for lanes in [1, 4] {
            let unit = try MacVectors(try MacConfiguration(kind: .dint, lanes: lanes, pipelineDepth: 1, accumulatorWidth: 16, overflow: .wrap))
            var pairs = Set<Int>(), flags: UInt64 = 0
            for i in 0..<unit.levelOneCaseCount {
                let c = unit.makeCase(i, seed: 1)
                let f = unit.exact(c).flags
                for (k, v) in c.lines.enumerated() where v[0] == 0 && v[1] == 1 {
                    flags |= f[k]
                    if c.category == "exhaustive-products" { for j in 0..<lanes { pairs.insert(Int(v[3 + j]) * 256 + Int(v[3 + lanes + j])) } }
                }
            }
            #expect(pairs.count == 16 * 256)
            #expect(flags & 0b11101 == 0b11101) // wrapped, denormal, reserved, extreme product
        }
    }
}
