import Testing
import Foundation
import Formats
import TensorIO

/// The README's "A short tour" block, run as written (with `B` the binary under test), in a
/// scratch directory holding a link to `fixtures/`: every command must succeed, and the chain
/// quantize → simulate → report must connect — the simulated sums are the integer dot products
/// of the codes quantize wrote, and the dequantized outputs are those sums times the two rows'
/// scales.
@Suite struct ReadmeTourTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The tour's shell lines: the first ```sh block after "## A short tour", minus the build line.
    static func tour() throws -> String {
        let readme = try String(contentsOfFile: repository + "/README.md", encoding: .utf8)
        guard let section = readme.range(of: "## A short tour"),
              let open = readme.range(of: "```sh\n", range: section.upperBound..<readme.endIndex),
              let close = readme.range(of: "\n```", range: open.upperBound..<readme.endIndex) else {
            Issue.record("README has no tour block")
            return ""
        }
        return readme[open.upperBound..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("swift build") }.joined(separator: "\n")
    }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    @Test func tourRunsEndToEnd() throws {
        let script = try Self.tour()
        #expect(script.contains("$B quantize") && script.contains("$B simulate") && script.contains("$B report"))
        let dir = CLITests.scratch()
        try FileManager.default.createSymbolicLink(atPath: dir + "/fixtures", withDestinationPath: Self.repository + "/fixtures")
        try ("set -euo pipefail\n" + script + "\n").write(toFile: dir + "/tour.sh", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["tour.sh"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.environment = ProcessInfo.processInfo.environment.merging(["B": CLITests.binary]) { $1 }
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "the tour failed: \(stderr.suffix(2000))")
        guard p.terminationStatus == 0 else { return }

        // quantize → simulate: the sums are the integer dot products of the written codes,
        // computed here from the dINT4 table, token-major (--pairing matmul).
        let w = try Files.readNpy(dir + "/w.npy"), a = try Files.readNpy(dir + "/a.npy")
        let ws = try Files.readNpy(dir + "/ws.npy").floatValues(), sa = try Files.readNpy(dir + "/as.npy").floatValues()
        let (outputs, length) = try w.matrixShape(), (tokens, _) = try a.matrixShape()
        let codes = try w.uint8Values(), acts = try a.uint8Values().map { Int(Int8(bitPattern: $0)) }
        let run = try Self.json(dir + "/run.json")
        #expect(run["unit"] as? String == "dint-mac" && run["lanes"] as? Int == 16 && run["pipeline_depth"] as? Int == 2)
        #expect(run["result_shape"] as? [Int] == [tokens, outputs])
        let results = try #require(run["results"] as? [Int])
        #expect(results.count == tokens * outputs)
        var checked = 0
        for t in stride(from: 0, to: tokens, by: 7) {
            for o in stride(from: 0, to: outputs, by: 5) {
                var sum = 0
                for k in 0..<length { sum += LevelFormat.dint4.decodeHalfSteps(codes[o * length + k]) * acts[t * length + k] }
                #expect(results[t * outputs + o] == sum, "token \(t), output \(o)")
                checked += 1
            }
        }
        #expect(checked > 1000)

        // simulate → y.npy: each sum times ½ (half-steps) and its rows' scales, to binary32.
        let y = try Files.readNpy(dir + "/y.npy")
        #expect(y.dtype == .float32 && y.shape == [tokens, outputs])
        let values = try y.floatValues()
        var offByMoreThanAnUlp = 0
        for t in 0..<tokens {
            for o in 0..<outputs {
                let expected = Float(Double(results[t * outputs + o]) * 0.5 * Double(ws[o]) * Double(sa[t]))
                let got = values[t * outputs + o]
                if got != expected && got.nextUp != expected && got.nextDown != expected { offByMoreThanAnUlp += 1 }
            }
        }
        #expect(offByMoreThanAnUlp == 0)

        // report on the same layer; the waveform of the second simulate; the TAH-Quant round trip.
        let report = try Self.json(dir + "/report.json")
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["unit"] as? String }) == ["int8-mac", "dint-mac", "fp4-mac"])
        #expect(rows.allSatisfy { ($0["data"] as? String)?.contains("ffn-down") == true })
        let vcd = try String(contentsOfFile: dir + "/wave.vcd", encoding: .utf8)
        #expect(vcd.contains("$enddefinitions"))
        #expect(try Files.readNpy(dir + "/a-decoded.npy").shape == [tokens, length])
    }
}
