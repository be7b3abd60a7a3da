import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The hostile-input corpus (Tests/Fixtures/malformed, made by its generate.py): bad files, and
/// the environment around them (devices, FIFOs, links, same-file outputs, locks, signals,
/// non-UTF-8 names, x/z dumps). A refused case exits with its code and exactly one stderr line
/// containing the expected text, prints nothing on stdout, and changes nothing on disk; a case
/// that succeeds changes only the paths it names. Arguments are passed as bytes (posix_spawn),
/// so `{xff}` reaches dintsim as the byte 0xFF.
@Suite struct MalformedCorpusTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let fixtures = repository + "/Tests/Fixtures/malformed"

    struct Action: Decodable, Sendable {
        let op: String
        let path: String?, from: String?, to: String?, target: String?, text: String?, dir: String?, holder: String?
    }

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String, args: [String], exit: Int32, error: String
        let setup: [Action]?
        let env: [String: String]?
        let changes: [String]?
        let stdout: String?
        let absent: String?
        let kinds: [String: String]?
        let root: Bool?
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let data = FileManager.default.contents(atPath: fixtures + "/cases.json") ?? Data()
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.cases.count >= 89)
    }

    /// `{out}`, `{fixtures}`, `{repository}` substituted; `{xff}` / `{xfe}` become raw bytes.
    static func bytes(_ text: String, out: String) -> [UInt8] {
        let s = text.replacingOccurrences(of: "{fixtures}", with: fixtures).replacingOccurrences(of: "{out}", with: out)
            .replacingOccurrences(of: "{repository}", with: repository)
        var result = [UInt8]()
        var rest = Substring(s)
        while let r = rest.range(of: "{x") {
            result += Array(rest[..<r.lowerBound].utf8)
            let hex = rest[r.upperBound...].prefix(2)
            guard let b = UInt8(hex, radix: 16), rest[r.upperBound...].dropFirst(2).first == "}" else { result += Array("{x".utf8); rest = rest[r.upperBound...]; continue }
            result.append(b)
            rest = rest[r.upperBound...].dropFirst(3)
        }
        return result + Array(rest.utf8)
    }

    /// `label: N/M unit` or `label: stage N/M unit`: a progress line, not an error.
    static func isProgress(_ line: Substring) -> Bool {
        !line.hasPrefix("dintsim:") && line.split(separator: " ").contains { part in
            let n = part.split(separator: "/")
            return n.count == 2 && n.allSatisfy { $0.allSatisfy(\.isNumber) && !$0.isEmpty }
        }
    }

    static func cPath(_ b: [UInt8]) -> [CChar] { b.map { CChar(bitPattern: $0) } + [0] }

    struct Run { let status: Int32; let stdout: [UInt8]; let stderr: String }

    /// Runs dintsim with byte arguments and extra environment, collecting stdout and stderr.
    static func run(_ args: [[UInt8]], env: [String: String]) throws -> Run {
        var argv: [UnsafeMutablePointer<CChar>?] = ([Array(CLITests.binary.utf8)] + args).map { strdup(cPath($0)) }
        argv.append(nil)
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer { for p in argv + envp { free(p) } }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        pipe(&outPipe); pipe(&errPipe)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, outPipe[0])
        posix_spawn_file_actions_addclose(&actions, errPipe[0])
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, CLITests.binary, &actions, nil, argv, envp)
        posix_spawn_file_actions_destroy(&actions)
        close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else { throw CocoaError(.fileNoSuchFile) }
        // Drain both pipes concurrently so a large stdout cannot block the child.
        nonisolated(unsafe) var out = [UInt8]()
        let outRead = outPipe[0]
        let reader = Thread { out = readAll(outRead) }
        reader.start()
        let err = readAll(errPipe[0])
        while !reader.isFinished { usleep(1000) }
        close(outPipe[0]); close(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Run(status: code, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var result = [UInt8](), buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return result }
            result += buffer[0..<n]
        }
    }

    /// Everything under `dir`, not following links: relative path bytes → kind, size, contents
    /// digest (regular files) or link target.
    static func snapshot(_ dir: [UInt8]) -> [[UInt8]: String] {
        var result = [[UInt8]: String]()
        func walk(_ relative: [UInt8]) {
            let full = relative.isEmpty ? dir : dir + [0x2F] + relative
            guard let d = opendir(cPath(full)) else { return }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                let rel = relative.isEmpty ? name : relative + [0x2F] + name
                var s = stat()
                guard lstat(cPath(dir + [0x2F] + rel), &s) == 0 else { continue }
                switch s.st_mode & S_IFMT {
                case S_IFDIR: result[rel] = "dir"; walk(rel)
                case S_IFLNK:
                    var b = [CChar](repeating: 0, count: 4096)
                    let n = readlink(cPath(dir + [0x2F] + rel), &b, 4095)
                    result[rel] = "link " + String(decoding: b[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                case S_IFREG:
                    let data = FileManager.default.contents(atPath: String(decoding: dir + [0x2F] + rel, as: UTF8.self)) ?? Data()
                    var h: UInt64 = 0xcbf29ce484222325
                    for b in data { h = (h ^ UInt64(b)) &* 0x100000001b3 }
                    result[rel] = "file \(s.st_size) \(h)"
                case S_IFIFO: result[rel] = "fifo"
                case S_IFCHR: result[rel] = "character"
                default: result[rel] = "other"
                }
            }
        }
        walk([])
        return result
    }

    /// Prepares `{out}`; returns what must be released after the run (lock holders, FIFO readers).
    static func prepare(_ actions: [Action], out: String) throws -> (cleanup: () -> Void, skip: String?) {
        var cleanups: [() -> Void] = []
        func path(_ p: String?) -> [UInt8] { bytes(out + "/" + (p ?? ""), out: out) }
        for a in actions {
            switch a.op {
            case "copy":
                let data = FileManager.default.contents(atPath: String(decoding: bytes(a.from!, out: out), as: UTF8.self))!
                let fd = open(cPath(path(a.to)), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                close(fd)
            case "write":
                let fd = open(cPath(path(a.path)), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                let t = Array(a.text!.utf8)
                _ = t.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                close(fd)
            case "mkdir": mkdir(cPath(path(a.path)), 0o755)
            case "mkfifo": mkfifo(cPath(path(a.path)), 0o644)
            case "symlink": symlink(cPath(bytes(a.target!, out: out)), cPath(path(a.path)))
            case "hardlink": link(cPath(path(a.target)), cPath(path(a.path)))
            case "mknod-null":
                if mknod(cPath(path(a.path)), S_IFCHR | 0o666, dev_t(1 << 8 | 3) /* makedev(1, 3): /dev/null */) != 0 { return ({ cleanups.forEach { $0() } }, "mknod needs root") }
            case "drain":
                // A reader for the FIFO, so that dintsim's open for writing does not block.
                let p = cPath(path(a.path))
                let reader = Thread {
                    let fd = open(p, O_RDONLY)
                    var b = [UInt8](repeating: 0, count: 65536)
                    while read(fd, &b, b.count) > 0 {}
                    close(fd)
                }
                reader.start()
                cleanups.append { while !reader.isFinished { usleep(1000) } }
            case "lock":
                // Held with flock by this (live) process, as a running dintsim would.
                let fd = open(cPath(path(a.dir! + "/.dintsim.lock")), O_RDWR | O_CREAT, 0o644)
                flock(fd, LOCK_EX)
                let text = Array("\(getpid())\n".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                cleanups.append { close(fd) }
            default: Issue.record("unknown setup op \(a.op)")
            }
        }
        return ({ cleanups.forEach { $0() } }, nil)
    }

    @Test(arguments: cases)
    func isRefusedWithOneLineNamingTheFault(_ c: Case) throws {
        let out = CLITests.scratch()
        let outBytes = Array(out.utf8)
        if c.root == true && getuid() != 0 { return }
        let (release, skip) = try Self.prepare(c.setup ?? [], out: out)
        if skip != nil { release(); return }
        let before = Self.snapshot(outBytes)
        let r = try Self.run(c.args.map { Self.bytes($0, out: out) }, env: c.env ?? [:])
        release()
        let after = Self.snapshot(outBytes)
        #expect(r.status == c.exit, "exit \(r.status): \(r.stderr)")
        if c.exit != 0 {
            // Progress lines ("vectors: 1206/3034 cases", printed when work takes over a second, as
            // it does under a sanitizer) aside, exactly one line.
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true).filter { !Self.isProgress($0) }
            #expect(lines.count == 1, "\(r.stderr)")
        }
        #expect(c.error.isEmpty || r.stderr.contains(c.error), "expected '\(c.error)' in: \(r.stderr)")
        if let absent = c.absent { #expect(!r.stderr.contains(absent), "'\(absent)' in: \(r.stderr)") }
        if let expected = c.stdout {
            #expect(String(decoding: r.stdout, as: UTF8.self).contains(expected), "stdout lacks '\(expected)'")
        } else if c.exit != 0 {
            #expect(r.stdout.isEmpty, "printed: \(String(decoding: r.stdout, as: UTF8.self))")
        }
        // Nothing changed on disk but the named paths.
        let allowed = Set((c.changes ?? []).map { Self.bytes($0, out: out) })
        for key in Set(before.keys).union(after.keys) where !allowed.contains(key) {
            #expect(before[key] == after[key], "\(String(decoding: key, as: UTF8.self)): \(before[key] ?? "absent") → \(after[key] ?? "absent")")
        }
        for (p, kind) in c.kinds ?? [:] {
            let got = after[Self.bytes(p, out: out)].map { $0.split(separator: " ").first.map(String.init) ?? "" } ?? "absent"
            let want = ["regular": "file", "symlink": "link", "fifo": "fifo", "character": "character", "absent": "absent", "directory": "dir"][kind] ?? kind
            #expect(got == want, "\(p) is \(got), expected \(kind)")
        }
    }
}
