import CProcessAffinity
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
        #expect(json["instruction_set"] as? String != nil)
        // The portable kernel replays the same set with the same toggles.
        let portable = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/dint-pe4", "--model", "toggles", "--repetitions", "2",
                                         "--instruction-set", "portable"])
        let p = try #require(try JSONSerialization.jsonObject(with: Data(portable.stdout.utf8)) as? [String: Any])
        #expect(p["instruction_set"] as? String == "portable" && p["failed"] as? Int == 0 && p["toggles"] as? Int == json["toggles"] as? Int)
    }

    @Test func badReplayInputsExitTwo() throws {
        let model = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/dint-mac", "--model", "spice"])
        #expect(model.status == 2 && model.stderr.contains("--model"))
        let quantizer = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/quantizer-int4-rne"])
        #expect(quantizer.status == 2 && quantizer.stderr.contains("replay supports"), "\(quantizer.stderr)")
        let missing = try CLITests.run(["bench", "--replay", "/nonexistent"])
        #expect(missing.status == 2)
        let set = try CLITests.run(["bench", "--replay", Self.repository + "/vectors/dint-mac", "--model", "toggles", "--instruction-set", "sse9"])
        #expect(set.status == 2 && set.stderr.contains("--instruction-set"), "\(set.stderr)")
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
        // Every figure on all cores and, where the process may use more than one CPU, on one.
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/f.json"))) as? [[String: Any]])
        #expect(figures.count == 2 && figures.allSatisfy { ($0["median"] as? Double ?? 0) > 0 })
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            #expect(figures.allSatisfy { ($0["oneCoreMedian"] as? Double ?? 0) > 0 }, "\(figures)")
        }
    }

    /// `--instruction-set` reaches the quantizers: the portable kernel and the default (the
    /// fastest this CPU has) dump the same codes and scales, byte for byte (64 rows: 8 batches
    /// of 8 groups side by side on the vector kernels).
    @Test func quantizerInstructionSetChangesSpeedNotBytes() throws {
        let dir = CLITests.scratch()
        try CLITests.writeMatrix((0..<(64 * 40)).map { Float(($0 * 37) % 29) / 4 - 3.5 }, rows: 64, columns: 40, to: dir + "/w.npy")
        try Files.writeNpy(try NpyArray(float32: (0..<(1 * 2 * 64)).map { Float($0 % 9) - 4 }, shape: [1, 2, 64]), to: dir + "/a.npy")
        for (name, extra) in [("best", [String]()), ("portable", ["--instruction-set", "portable"])] {
            let r = try CLITests.run(["bench", "--quantizers-only", "--runs", "1", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy",
                                      "--dump", dir + "/" + name] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for file in ["dint4_codes.npy", "dint4_scales.npy"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/best/" + file)), b = try Data(contentsOf: URL(fileURLWithPath: dir + "/portable/" + file))
            #expect(a == b && !a.isEmpty, "\(file)")
        }
        let bad = try CLITests.run(["bench", "--quantizers-only", "--instruction-set", "sse9"])
        #expect(bad.status == 2 && bad.stderr.contains("--instruction-set"), "\(bad.stderr)")
    }
}

/// `bench`'s one-core figures confine the whole process, every thread, to one CPU and then give
/// the threads their CPUs back (CProcessAffinity).
@Suite struct OneCoreConfinementTests {
    /// Each thread's allowed CPUs (`Cpus_allowed_list` of /proc/self/task/TID/status).
    static func allowed() -> [String: String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var out: [String: String] = [:]
        for tid in tasks {
            guard let status = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { continue }
            out[tid] = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    @Test func everyThreadGoesToOneCPUAndBack() throws {
        guard dintsim_allowed_cpu_count() > 1 else { return }   // one CPU: nothing to confine
        let before = Self.allowed()
        #expect(dintsim_confine_to_one_cpu() == 1)
        let during = Self.allowed()
        dintsim_restore_cpus()
        let after = Self.allowed()
        // Threads that existed before the call (others may come and go meanwhile).
        for (tid, cpus) in before {
            if let d = during[tid] { #expect(Int(d) != nil, "thread \(tid) during: \(d) (was \(cpus))") }
            if let a = after[tid] { #expect(a == cpus, "thread \(tid) after: \(a), before: \(cpus)") }
        }
        #expect(!before.isEmpty)
    }
}
