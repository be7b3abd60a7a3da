import Foundation
import Testing
import FuzzTargets

/// Replays the fuzzing regression corpus (Tests/Fixtures/fuzz/<harness>/: crashers once found,
/// and a sample of each harness's coverage corpus) and the malformed-input corpus through the
/// harness bodies, in process: none may trap.
@Suite struct FuzzRegressionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    @Test(arguments: FuzzTargets.harnesses.keys.sorted())
    func corpusReplaysWithoutATrap(harness: String) throws {
        setenv("DINTSIM_FUZZ_VECTORS", Self.repository + "/vectors/hadamard-g8-fp16", 1)
        let body = try #require(FuzzTargets.harnesses[harness])
        let malformed = ["npy": "npy", "codebook": "codebook", "technology": "technology", "tahq": "tahq", "dump": "dump", "safetensors": "safetensors", "liberty": "liberty"][harness]
        let inputs = Self.files(Self.repository + "/Tests/Fixtures/fuzz/" + harness)
            + (malformed.map { Self.files(Self.repository + "/Tests/Fixtures/malformed/" + $0) } ?? [])
        #expect(inputs.count >= 5, "no corpus for \(harness)")
        for path in inputs { body(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }
    }
}
