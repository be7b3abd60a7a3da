import Foundation
import Testing
@testable import TensorIO
#if canImport(Glibc)
import Glibc
#endif

/// The output policy (docs/cli.md, "Outputs") and byte paths, in process.
@Suite struct OutputPolicyTests {
    static func scratch() -> String {
        let dir = NSTemporaryDirectory() + "dintsim-policy-\(UUID().uuidString)"
        try! Files.createDirectory(dir)
        return dir
    }

    /// Every byte string of length ≤ 2 over a mixed alphabet, and random longer ones, survive the
    /// lossless path encoding; valid UTF-8 without escapes is unchanged.
    @Test func pathEncodingIsLossless() {
        let alphabet: [UInt8] = [0x41, 0x2F, 0x7F, 0x80, 0xBF, 0xC2, 0xC3, 0xE0, 0xEF, 0x9E, 0xF0, 0xF4, 0xF5, 0xFF, 0xA9]
        var strings: [[UInt8]] = [[]]
        for a in alphabet { strings.append([a]); for b in alphabet { strings.append([a, b]) } }
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            strings.append((0..<Int(state % 12)).map { _ in state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: state >> 56) })
        }
        // A scalar inside the escape range (U+F780, EF 9E 80) must round-trip too.
        strings.append([0x61, 0xEF, 0x9E, 0x80, 0x62])
        for s in strings {
            #expect(FilePaths.bytes(FilePaths.decode(s)) == s, "\(s)")
        }
        #expect(FilePaths.decode(Array("plain/é.npy".utf8)) == "plain/é.npy")
        #expect(FilePaths.display(FilePaths.decode([0x61, 0xFF, 0x62])) == "a\\xFFb")
    }

    @Test func aRegularFileIsReplacedAtomicallyAndKeepsItsMode() throws {
        let dir = Self.scratch(), path = dir + "/f"
        try Files.writeAtomically(Array("old".utf8), to: path)
        chmod(path, 0o600)
        let w = try OutputFile(path: path)
        try w.write(Array("new".utf8))
        #expect(String(decoding: try Files.read(path), as: UTF8.self) == "old", "replaced before commit")
        #expect(Temporaries.count >= 1)
        try w.commit()
        #expect(String(decoding: try Files.read(path), as: UTF8.self) == "new")
        var s = stat(); stat(path, &s)
        #expect(s.st_mode & 0o777 == 0o600)
        // A writer dropped without commit leaves nothing behind.
        do { let d = try OutputFile(path: dir + "/g"); try d.write([1, 2, 3]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
    }

    @Test func linksAreFollowedAndDevicesWrittenThrough() throws {
        let dir = Self.scratch()
        try Files.writeAtomically([1], to: dir + "/target")
        symlink("target", dir + "/link")
        try Files.writeAtomically([2], to: dir + "/link")
        #expect(FileStatus.isLink(dir + "/link"))
        #expect(try Files.read(dir + "/target") == [2])
        symlink("sub/../new", dir + "/dangling")
        mkdir(dir + "/sub", 0o755)
        try Files.writeAtomically([3], to: dir + "/dangling")
        let created = try Files.read(dir + "/new")
        #expect(FileStatus.isLink(dir + "/dangling") && created == [3])
        let null = try OutputFile(path: "/dev/null")
        #expect(null.writesThrough)
        try null.write([1, 2, 3]); try null.commit()
        #expect(try FileStatus.of("/dev/null")?.kind == .character)
        #expect(throws: TensorIOError.self) { try Files.writeAtomically([1], to: "/dev/full") }
        #expect(throws: TensorIOError.self) { try Files.writeAtomically([1], to: dir + "/sub") }
    }

    @Test func sameFilesAreRefusedByInodeNotSpelling() throws {
        let dir = Self.scratch()
        try Files.writeAtomically([1], to: dir + "/in")
        link(dir + "/in", dir + "/hard")
        symlink("in", dir + "/soft")
        for alias in [dir + "/in", dir + "/./in", dir + "/hard", dir + "/soft", dir + "/sub/../in"] {
            mkdir(dir + "/sub", 0o755)
            #expect(throws: TensorIOError.self, "\(alias)") { try Files.checkDistinct(inputs: [dir + "/in"], outputs: [alias]) }
        }
        #expect(throws: TensorIOError.self) { try Files.checkDistinct(inputs: [], outputs: [dir + "/new", dir + "/./new"]) }
        try Files.checkDistinct(inputs: [dir + "/in"], outputs: [dir + "/a", dir + "/b", "/dev/null", "/dev/null"])
        #expect(throws: TensorIOError.self) { try Files.checkDistinct(inputs: [], outputs: [], inputDirectories: [dir], outputDirectories: [dir + "/."]) }
    }

    @Test func aLockedDirectoryRefusesASecondWriterAndAStaleLockIsCleared() throws {
        let dir = Self.scratch()
        let first = try DirectoryLock(directory: dir)
        #expect(throws: TensorIOError.self) { try DirectoryLock(directory: dir) }
        first.release()
        #expect(!Files.exists(dir + "/" + DirectoryLock.fileName))
        // A dead writer's lock file and temporaries.
        try Files.writeAtomically(Array("999999\n".utf8), to: dir + "/" + DirectoryLock.fileName)
        try Files.writeAtomically([0], to: dir + "/.vectors.hex.tmp-999999-42")
        try Files.writeAtomically([0], to: dir + "/.vectors.hex.tmp-1-42")
        let second = try DirectoryLock(directory: dir)
        #expect(second.clearedStalePid == 999999 && second.removedTemporaries == 1)
        #expect(!Files.exists(dir + "/.vectors.hex.tmp-999999-42") && Files.exists(dir + "/.vectors.hex.tmp-1-42"))
        second.release()
    }
}
