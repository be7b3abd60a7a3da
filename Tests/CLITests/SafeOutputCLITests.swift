import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Concurrent writers, the check reports (JUnit, JSON), and sets without the JSON twin.
@Suite struct SafeOutputCLITests {
    /// Two runs started together on one directory: one is refused with the lock message, or they
    /// run one after the other; the set left always verifies (before the lock, a third of such
    /// pairs left hex from one run and the manifest from the other).
    @Test func concurrentWritersLeaveAConsistentSet() throws {
        for trial in 0..<4 {
            let dir = CLITests.scratch() + "/set"
            let counts = ["400", "200"]
            nonisolated(unsafe) var results = [CLITests.Run?](repeating: nil, count: 2)
            let threads = (0..<2).map { k in
                Thread { results[k] = try? CLITests.run(["vectors", "generate", "--unit", "dint-mac", "--level", "2", "--count", counts[k], "--out", dir]) }
            }
            threads.forEach { $0.start() }
            while threads.contains(where: { !$0.isFinished }) { usleep(5000) }
            for r in results {
                guard let r else { Issue.record("a run did not start"); continue }
                #expect(r.status == 0 || (r.status == 2 && r.stderr.contains("is being written by another dintsim run (pid")), "trial \(trial): \(r.stderr)")
            }
            let verify = try CLITests.run(["vectors", "verify", dir])
            #expect(verify.status == 0, "trial \(trial): \(verify.stdout)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/.dintsim.lock"))
        }
    }

    @Test func checkWritesJUnitAndJSONNamingTheTransaction() throws {
        let repository = MalformedCorpusTests.repository
        let dir = CLITests.scratch()
        let r = try CLITests.run(["check", "--vectors", repository + "/vectors/dint-pe4", "--dump", MalformedCorpusTests.fixtures + "/dump/pe4-flip.dump",
                                  "--junit", dir + "/j.xml", "--json", dir + "/j.json"])
        #expect(r.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/j.json"))) as! [String: Any]
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repository + "/vectors/dint-pe4/MANIFEST.json"))) as! [String: Any]
        #expect(json["failed"] as? Int == 1 && json["passed"] as? Int == (manifest["lines"] as! Int) - 1)
        let failure = (json["failures"] as! [[String: Any]])[0]
        #expect(failure["cycle"] as? Int == 1000 && failure["transaction_cycle"] as? Int == 998 && failure["case"] as? Int == 3)
        #expect(failure["category"] as? String == "exhaustive-products")
        #expect((failure["bits_differ"] as? [String: String])?["acc"] == "3,1,0")
        #expect((failure["inputs"] as? [String: String])?["w0"] == "f")
        // The JUnit file parses as XML: one failing test case, the category, with the line.
        let xml = try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/j.xml"))
        let failing = try xml.nodes(forXPath: "//testcase[failure]")
        #expect(failing.count == 1)
        #expect((failing.first as? XMLElement)?.attribute(forName: "name")?.stringValue == "exhaustive-products")
        #expect(try xml.nodes(forXPath: "//testsuite/@failures").first?.stringValue == "1")
        // A clean dump from standard input passes, with an all-green JUnit file.
        let clean = try CLITests.run(["vectors", "verify", repository + "/vectors/dint-pe4", "--junit", dir + "/v.xml"])
        #expect(clean.status == 0)
        #expect(try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/v.xml")).nodes(forXPath: "//failure").isEmpty)
    }

    @Test func aSetWithoutTheJSONTwinVerifiesAndCatchesAChangedLine() throws {
        let dir = CLITests.scratch() + "/set"
        let g = try CLITests.run(["vectors", "generate", "--unit", "dint-mac", "--pipeline", "2", "--level", "2", "--count", "50", "--out", dir, "--no-jsonl"])
        #expect(g.status == 0, "\(g.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/vectors.jsonl"))
        #expect(try CLITests.run(["vectors", "verify", dir]).status == 0)
        // Change one expected output and fix the checksum: verify must still find it.
        var hex = try String(contentsOfFile: dir + "/vectors.hex", encoding: .utf8).split(separator: "\n").map(String.init)
        var fields = hex[100].split(separator: "_").map(String.init)
        let accIndex = fields.count - 3
        fields[accIndex] = String(UInt64(fields[accIndex], radix: 16)! ^ 1, radix: 16).leftPadded(to: fields[accIndex].count)
        hex[100] = fields.joined(separator: "_")
        let text = hex.joined(separator: "\n") + "\n"
        try text.write(toFile: dir + "/vectors.hex", atomically: true, encoding: .utf8)
        var manifest = try String(contentsOfFile: dir + "/MANIFEST.json", encoding: .utf8)
        let old = manifest.components(separatedBy: "\"vectors.hex\": {\"sha256\": \"")[1].prefix(64)
        manifest = manifest.replacingOccurrences(of: String(old), with: sha256(Array(text.utf8)))
        try manifest.write(toFile: dir + "/MANIFEST.json", atomically: true, encoding: .utf8)
        let v = try CLITests.run(["vectors", "verify", dir])
        #expect(v.status == 1 && v.stdout.contains("step"), "\(v.stdout) \(v.stderr)")
    }

    func sha256(_ bytes: [UInt8]) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let i = Pipe(), o = Pipe()
        p.standardInput = i; p.standardOutput = o
        try! p.run()
        i.fileHandleForWriting.write(Data(bytes)); try! i.fileHandleForWriting.close()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
