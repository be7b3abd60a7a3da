import Foundation
import Testing

/// Outputs are written atomically: a writer killed (SIGKILL, no chance to clean up) in the middle
/// of a large vector set leaves the previous complete set — or, where there was none, no set —
/// never a truncated file. Only the hidden temporary files of the killed process remain.
@Suite(.serialized) struct KilledWriterTests {
    /// Starts a long generation into `dir`, waits until it has written a temporary file of some
    /// size, and kills it.
    static func killMidWrite(into dir: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["vectors", "generate", "--unit", "dint-mac", "--level", "2", "--count", "5000000", "--out", dir]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        var started = false
        while Date() < deadline && p.isRunning {
            let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasPrefix(".vectors.hex.tmp-\(p.processIdentifier)-") } ?? []
            if let t = temporaries.first, let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + t))?[.size] as? Int, size > 1 << 16 {
                started = true
                break
            }
            usleep(20_000)
        }
        #expect(started && p.isRunning, "the writer never got going")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        return p.processIdentifier
    }

    static func visibleFiles(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func aKilledWriterLeavesThePreviousSet() throws {
        let dir = CLITests.scratch()
        let first = try CLITests.run(["vectors", "generate", "--unit", "dint-mac", "--level", "1", "--out", dir])
        #expect(first.status == 0, "\(first.stderr)")
        let before = try Self.visibleFiles(dir).map { ($0, try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) }
        let pid = try Self.killMidWrite(into: dir)
        let after = try Self.visibleFiles(dir).map { ($0, try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) }
        #expect(after.map(\.0) == before.map(\.0))
        #expect(after.map(\.1) == before.map(\.1), "a file changed under a killed writer")
        #expect(try CLITests.run(["vectors", "verify", dir]).status == 0)
        // What is left besides the set: hidden temporaries and the lock of the killed process only.
        let hidden = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(hidden.allSatisfy { $0.contains(".tmp-\(pid)-") || $0 == ".dintsim.lock" }, "\(hidden)")
        #expect(hidden.contains(".dintsim.lock"))
        // The next writer clears the stale lock and the dead writer's temporaries.
        let next = try CLITests.run(["vectors", "generate", "--unit", "dint-mac", "--level", "1", "--out", dir])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("cleared a stale lock of pid \(pid)"), "\(next.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aKilledFirstWriterLeavesNoSet() throws {
        let dir = CLITests.scratch()
        _ = try Self.killMidWrite(into: dir)
        #expect(Self.visibleFiles(dir).isEmpty, "\(Self.visibleFiles(dir))")
    }
}
