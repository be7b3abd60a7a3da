import Foundation
import Testing
import TensorIO

/// `dintsim bench`: the replay mode's JSON and exit codes, the dump the numpy comparison reads,
/// and bad options.
@Suite struct BenchCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func replayPrintsOneJSONLineAndExitsZero() throws {
        let r = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/dint-pe4", "--model", "toggles", "--repetitions", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["failed"] as? Int == 0)
        #expect((json["cycles"] as? Int ?? 0) > 0 && (json["toggles"] as? Int ?? 0) > 0)
    }

    @Test func badReplayInputsExitTwo() throws {
        let model = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/dint-mac", "--model", "spice"])
        #expect(model.status == 2 && model.stderr.contains("--model"))
        let quantizer = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/quantizer-int4-rne"])
        #expect(quantizer.status == 2 && quantizer.stderr.contains("replay supports"), "\(quantizer.stderr)")
        let missing = try CLITests.run(["bench", "--replay", "/nonexistent"])
        #expect(missing.status == 2)
    }

    /// The quantizer-only bench on small files writes the arrays scripts/performance_report.py compares.
    @Test func quantizersOnlyDumpsCodes() throws {
        let dir = CLITests.scratch()
        try CLITests.writeMatrix((0..<(64 * 32)).map { Float($0 % 17) - 8 }, rows: 64, columns: 32, to: dir + "/w.npy")
        try Files.writeNpy(try NpyArray(float32: (0..<(2 * 4 * 64)).map { Float(($0 * 7) % 23) - 11 }, shape: [2, 4, 64]), to: dir + "/a.npy")
        let r = try CLITests.run(["bench", "--quantizers-only", "--runs", "1", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy",
                                  "--dump", dir + "/out", "--json", dir + "/f.json"])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["dint4_codes", "dint4_scales", "tah_bits", "tah_flagged", "tah_pivots", "tah_scales", "tah_zeros", "tah_codes"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/\(name).npy"), "\(name)")
        }
        #expect(try Files.readNpy(dir + "/out/tah_codes.npy").shape == [8, 64])
    }
}
