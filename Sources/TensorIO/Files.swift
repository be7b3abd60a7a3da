#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reading and writing files under dintsim's one output policy (docs/cli.md, "Outputs"). Every
/// file operation goes through POSIX calls on the path's original bytes (`FilePaths`).
public enum Files {
    /// `strerror` text for an errno, lowercased ("no such file or directory").
    public static func reason(_ code: Int32) -> String {
        let s = String(cString: strerror(code))
        return s.prefix(1).lowercased() + s.dropFirst()
    }

    /// Opens `path` for reading ("-" is standard input); a directory is refused.
    static func openForReading(_ path: String) throws -> (fd: Int32, owned: Bool) {
        if path == "-" { return (0, false) }
        let fd = FilePaths.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            let e = errno
            throw TensorIOError.io("\(path): \(e == ENOENT ? "no such file" : reason(e))")
        }
        if FileStatus.of(descriptor: fd)?.kind == .directory {
            close(fd)
            throw TensorIOError.io("\(path): is a directory; give a file")
        }
        return (fd, true)
    }

    /// Reads a whole file ("-" reads standard input); errors name the path and the reason.
    public static func read(_ path: String) throws -> [UInt8] {
        let reader = try FileReader(path: path)
        var out = [UInt8]()
        while let chunk = try reader.next(), !chunk.isEmpty { out.append(contentsOf: chunk) }
        return out
    }

    /// Whether `path` names a directory (links followed).
    public static func isDirectory(_ path: String) -> Bool { (try? FileStatus.of(path))??.kind == .directory }
    /// Whether anything is at `path` (links followed).
    public static func exists(_ path: String) -> Bool { ((try? FileStatus.of(path)) ?? nil) != nil }

    /// `mkdir -p`: creates `path` and its missing parents; an existing directory is fine.
    public static func createDirectory(_ path: String) throws {
        if let s = try FileStatus.of(path) {
            guard s.kind == .directory else { throw TensorIOError.io("\(path): exists and is \(s.kind.rawValue), not a directory") }
            return
        }
        let parent = FilePaths.split(path).directory
        if parent != path && parent != "." && parent != "/" { try createDirectory(parent) }
        if FilePaths.withCString(path, { mkdir($0, 0o777) }) != 0 && errno != EEXIST {
            throw TensorIOError.io("\(path): cannot create the directory (\(reason(errno)))")
        }
    }

    /// Writes `bytes` to `path` under the output policy (`OutputFile`).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let writer = try OutputFile(path: path)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Writes several outputs so that none is committed unless all were written: each goes to its
    /// temporary first, and the renames happen only after every write succeeded.
    public static func writeAllAtomically(_ files: [(path: String, bytes: [UInt8])]) throws {
        try checkDistinct(inputs: [], outputs: files.map(\.path))
        let writers = try files.map { try OutputFile(path: $0.path) }
        for (w, f) in zip(writers, files) { try w.write(f.bytes) }
        for w in writers { try w.finish() }
        for w in writers { try w.commit() }
    }

    public static func readNpy(_ path: String) throws -> NpyArray {
        do { return try NpyCodec.decode(try read(path)) } catch let e as TensorIOError {
            switch e {
            case .io: throw e
            case .malformed(let s): throw TensorIOError.malformed("\(path): \(s)")
            case .unsupported(let s): throw TensorIOError.unsupported("\(path): \(s)")
            }
        }
    }

    public static func writeNpy(_ array: NpyArray, to path: String) throws {
        try writeAtomically(NpyCodec.encode(array), to: path)
    }

    // MARK: - Same-file check

    /// What a path names for the same-file check: the device and inode of an existing file, or of
    /// the directory a new file would be created in plus its name.
    struct Identity: Hashable {
        let device: UInt64, inode: UInt64, name: String?
    }

    static func identity(input path: String) throws -> (Identity, FileStatus)? {
        if path == "-" { return FileStatus.of(descriptor: 0).map { (Identity(device: $0.device, inode: $0.inode, name: nil), $0) } }
        guard let s = try FileStatus.of(path) else { return nil }
        return (Identity(device: s.device, inode: s.inode, name: nil), s)
    }

    static func identity(output path: String) throws -> (Identity, FileStatus?) {
        if path == "-" {
            let s = FileStatus.of(descriptor: 1)
            return (Identity(device: s?.device ?? 0, inode: s?.inode ?? 0, name: s == nil ? "-" : nil), s)
        }
        if let s = try FileStatus.of(path) { return (Identity(device: s.device, inode: s.inode, name: nil), s) }
        let final = try OutputFile.resolveNew(path)
        let (dir, name) = FilePaths.split(final)
        guard let d = try FileStatus.of(dir), d.kind == .directory else {
            throw TensorIOError.io("\(path): directory \(dir) does not exist; create it first")
        }
        return (Identity(device: d.device, inode: d.inode, name: name), nil)
    }

    /// Refuses, before any work, an output that is the same file as an input or as another output
    /// of the run (device and inode compared, so links and `./` spellings are caught), an output
    /// that is a directory, block device or socket, and an output whose directory does not exist.
    /// Character devices (`/dev/null`, a terminal) may be named by several outputs.
    /// `outputDirectories` are directories the run writes into: none may be an input directory.
    public static func checkDistinct(inputs: [String], outputs: [String], inputDirectories: [String] = [], outputDirectories: [String] = []) throws {
        var seen = [Identity: String]()
        for path in inputs {
            if let (id, _) = try identity(input: path) { seen[id] = seen[id] ?? path }
        }
        var directoryInputs = [Identity: String]()
        for path in inputDirectories {
            if let s = try FileStatus.of(path) { directoryInputs[Identity(device: s.device, inode: s.inode, name: nil)] = path }
        }
        var outputsSeen = [Identity: String]()
        for path in outputs {
            let (id, status) = try identity(output: path)
            if let status {
                switch status.kind {
                case .directory: throw TensorIOError.io("\(path): is a directory; give a file name for this output")
                case .block: throw TensorIOError.io("\(path): is a block device; dintsim does not write to block devices")
                case .socket, .other: throw TensorIOError.io("\(path): is \(status.kind.rawValue); give a regular file, a FIFO, a character device or -")
                default: break
                }
            }
            if let other = seen[id] {
                throw TensorIOError.io("\(path): is the same file as the input \(other); writing it would destroy the input — choose another output path")
            }
            if status?.kind != .character, let other = outputsSeen[id] {
                throw TensorIOError.io("\(path): is the same file as the output \(other); give each output its own path")
            }
            outputsSeen[id] = path
        }
        for path in outputDirectories {
            guard let s = try FileStatus.of(path) else { continue }
            guard s.kind == .directory else { throw TensorIOError.io("\(path): exists and is \(s.kind.rawValue), not a directory; choose another output directory") }
            let id = Identity(device: s.device, inode: s.inode, name: nil)
            if let other = directoryInputs[id] {
                throw TensorIOError.io("\(path): is the same directory as the input \(other); writing into it would replace inputs — choose another output directory")
            }
        }
    }
}

/// Reads a file ("-" is standard input) in chunks without holding it whole.
public final class FileReader {
    public let path: String
    private let fd: Int32
    private let owned: Bool
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)

    public init(path: String) throws {
        self.path = path
        (fd, owned) = try Files.openForReading(path)
    }
    deinit { if owned { close(fd) } }

    public var status: FileStatus? { FileStatus.of(descriptor: fd) }

    /// The next chunk (up to 1 MiB), or nil at the end.
    public func next() throws -> ArraySlice<UInt8>? {
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TensorIOError.io("\(path): read failed (\(Files.reason(errno)))")
            }
            return n == 0 ? nil : chunk[0..<n]
        }
    }
}

/// One output written under the policy of docs/cli.md ("Outputs"):
/// - a regular file (or a new name) is written to a temporary in the target's directory, synced,
///   and renamed over the target by `commit()`; until then the target is untouched, and a writer
///   dropped without `commit()` (or a SIGINT/SIGTERM, see `Interrupts`) removes its temporary;
/// - a symbolic link is followed and its final target replaced the same way (the link stays);
/// - a FIFO, a character device or `-` (standard output) is written through, never replaced;
/// - a directory, block device or socket is refused.
/// With `checksum: true` it keeps a running SHA-256 of what it wrote (`sha256` after `commit`), so
/// a streamed file's checksum costs no second read.
public final class OutputFile {
    public let path: String
    /// The file the output lands in (the link's target for a link).
    public let target: String
    /// Whether the output is written through (FIFO, device, stdout) rather than replaced.
    public let writesThrough: Bool
    private let temporary: String?
    private var fd: Int32
    private var buffer = [UInt8]()
    private var hasher: SHA256?
    /// The SHA-256 of the contents, after `commit` of a writer made with `checksum: true`.
    public private(set) var sha256: String?
    private var registration: Int?
    private var committed = false
    public private(set) var bytesWritten = 0

    public init(path: String, checksum: Bool = false) throws {
        self.path = path
        if checksum { hasher = SHA256() }
        if path == "-" {
            target = path; writesThrough = true; temporary = nil; fd = 1
            return
        }
        if let s = try FileStatus.of(path) {
            switch s.kind {
            case .regular:
                target = FileStatus.isLink(path) ? try Self.realPath(path) : path
            case .fifo, .character:
                fd = FilePaths.withCString(path) { open($0, O_WRONLY | O_CLOEXEC | O_NOCTTY) }
                guard fd >= 0 else { throw TensorIOError.io("\(path): cannot be opened for writing (\(Files.reason(errno)))") }
                target = path; writesThrough = true; temporary = nil
                return
            case .directory: throw TensorIOError.io("\(path): is a directory; give a file name for this output")
            case .block: throw TensorIOError.io("\(path): is a block device; dintsim does not write to block devices")
            default: throw TensorIOError.io("\(path): is \(s.kind.rawValue); give a regular file, a FIFO, a character device or -")
            }
        } else {
            target = try Self.resolveNew(path)
        }
        writesThrough = false
        let (directory, name) = FilePaths.split(target)
        let temp = (directory == "/" ? "" : directory) + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        temporary = temp
        // The temporary is registered before it exists, so an interrupt between the two still removes it.
        registration = Temporaries.register(temp)
        let mode = ((try? FileStatus.mode(of: target)) ?? nil) ?? 0o644
        fd = FilePaths.withCString(temp) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        guard fd >= 0 else {
            let e = errno
            Temporaries.unregister(registration!); registration = nil
            throw TensorIOError.io("\(path): cannot create a file in \(directory) (\(Files.reason(e)))")
        }
        if mode != 0o644 { fchmod(fd, mode) }
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if !committed {
            if fd > 2 || (fd >= 0 && temporary != nil) { close(fd) }
            if let temporary { _ = FilePaths.withCString(temporary) { unlink($0) } }
            if let registration { Temporaries.unregister(registration) }
        }
    }

    /// The real path of an existing file reached through links.
    static func realPath(_ path: String) throws -> String {
        guard let p = FilePaths.withCString(path, { realpath($0, nil) }) else { throw TensorIOError.io("\(path): cannot resolve the link (\(Files.reason(errno)))") }
        defer { free(p) }
        return FilePaths.decode(Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))))
    }

    /// Where a new file named by `path` is created: `path` itself, or for a dangling link the end
    /// of its chain (the link is kept and comes to point at the new file).
    static func resolveNew(_ path: String) throws -> String {
        var p = path
        for _ in 0..<40 {
            guard FileStatus.isLink(p) else { return p }
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = FilePaths.withCString(p) { readlink($0, &buffer, 4096) }
            guard n > 0 else { throw TensorIOError.io("\(path): cannot read the link (\(Files.reason(errno)))") }
            let link = FilePaths.decode(buffer[0..<n].map { UInt8(bitPattern: $0) })
            p = link.hasPrefix("/") ? link : FilePaths.split(p).directory + "/" + link
        }
        throw TensorIOError.io("\(path): too many levels of symbolic links")
    }

    public func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        hasher?.update(bytes)
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= 1 << 16 { try flushBuffer() }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    private func flushBuffer() throws {
        var written = 0
        let failure: Int32? = buffer.withUnsafeBytes { raw -> Int32? in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return errno }
                written += n
            }
            return nil
        }
        Interrupts.faultInjection(afterWriting: buffer.count)
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw TensorIOError.io("\(path): write failed (\(Files.reason(failure)))") }
    }

    private var finished = false
    /// Flushes and syncs without renaming: after it, `commit()` can no longer fail for lack of space.
    public func finish() throws {
        guard !finished else { return }
        try flushBuffer()
        finished = true
        guard temporary != nil else { return }
        guard fsync(fd) == 0 else { throw TensorIOError.io("\(path): flush failed (\(Files.reason(errno)))") }
    }

    /// Flushes, syncs and renames into place (or, written through, just flushes).
    public func commit() throws {
        try finish()
        sha256 = hasher?.finalizeHex()
        guard let temporary else {
            if fd > 2 { close(fd) }
            fd = -1; committed = true
            return
        }
        let closed = close(fd) == 0
        fd = -1
        guard closed else { throw TensorIOError.io("\(path): flush failed (\(Files.reason(errno)))") }
        let failure = Temporaries.commit(registration!) {
            FilePaths.withCString(temporary) { t in FilePaths.withCString(target) { rename(t, $0) } } == 0 ? nil : errno
        }
        registration = nil
        if let failure {
            _ = FilePaths.withCString(temporary) { unlink($0) }
            throw TensorIOError.io("\(path): rename failed (\(Files.reason(failure)))")
        }
        committed = true
    }
}

extension FileStatus {
    /// The permission bits of an existing file, nil when there is none.
    static func mode(of path: String) throws -> mode_t? {
        var s = stat()
        guard FilePaths.withCString(path, { stat($0, &s) }) == 0 else { return nil }
        return s.st_mode & 0o7777
    }
}

/// The temporaries this process has not yet renamed into place (and the directory locks it
/// holds), so that an interrupt can remove them. Registration and the rename in `commit` take
/// the same lock, so an interrupt sees each temporary either registered or already renamed.
public enum Temporaries {
    nonisolated(unsafe) private static var paths = [Int: UnsafeMutablePointer<CChar>]()
    nonisolated(unsafe) private static var nextID = 0
    private static let lock = NSLock()

    static func register(_ path: String) -> Int {
        let c = FilePaths.withCString(path) { strdup($0)! }
        lock.lock(); defer { lock.unlock() }
        nextID += 1
        paths[nextID] = c
        return nextID
    }

    static func unregister(_ id: Int) {
        lock.lock(); defer { lock.unlock() }
        if let c = paths.removeValue(forKey: id) { free(c) }
    }

    /// Runs `rename` and unregisters atomically with respect to `removeAllForExit`.
    static func commit(_ id: Int, _ rename: () -> Int32?) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        let result = rename()
        if let c = paths.removeValue(forKey: id) { free(c) }
        return result
    }

    /// Unlinks every registered path and keeps the lock, so nothing is renamed afterwards;
    /// returns how many were removed. Only for a process about to exit.
    static func removeAllForExit() -> Int {
        lock.lock()
        var removed = 0
        for c in paths.values where unlink(c) == 0 { removed += 1 }
        return removed
    }

    /// How many temporaries are registered now (tests).
    public static var count: Int { lock.lock(); defer { lock.unlock() }; return paths.count }
}

/// SIGINT, SIGTERM and SIGHUP handling for the command-line tool: `install()` blocks them in every
/// thread and waits for them in one thread of its own, which removes this run's temporaries and
/// lock files, prints one line and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
public enum Interrupts {
    nonisolated(unsafe) private static var faultSignal: Int32 = 0
    nonisolated(unsafe) private static var faultBytes = Int.max
    nonisolated(unsafe) private static var written = 0

    /// Call first in `main`, before any thread exists (threads inherit the blocked mask).
    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A write to a closed pipe fails with EPIPE (and is reported) instead of killing the
        // process with its temporaries left behind.
        signal(SIGPIPE, SIG_IGN)
        let blocked = set
        let thread = Thread {
            var set = blocked
            var signalNumber: Int32 = 0
            while sigwait(&set, &signalNumber) != 0 {}
            let removed = Temporaries.removeAllForExit()
            let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signalNumber] ?? "signal \(signalNumber)"
            let line = "dintsim: interrupted by \(name); removed \(removed) temporary file\(removed == 1 ? "" : "s"), no output replaced\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
            _exit(128 + signalNumber)
        }
        thread.start()
        // Test hook (docs/testing.md): DINTSIM_FAULT_SIGNAL=INT@BYTES sends the signal to this
        // process once BYTES bytes have been written to outputs, to test interrupts at a chosen point.
        if let spec = getenv("DINTSIM_FAULT_SIGNAL").map({ String(cString: $0) }) {
            let parts = spec.split(separator: "@")
            if parts.count == 2, let n = Int(parts[1]) {
                faultSignal = ["INT": SIGINT, "TERM": SIGTERM, "HUP": SIGHUP][String(parts[0])] ?? 0
                faultBytes = n
            }
        }
    }

    static func faultInjection(afterWriting count: Int) {
        guard faultSignal != 0 else { return }
        written += count
        if written >= faultBytes {
            let s = faultSignal
            faultSignal = 0
            kill(getpid(), s)
            // Wait for the signal thread to finish the process: the write must not go on.
            while true { pause() }
        }
    }
}

/// Exclusive ownership of an output directory while a run writes it: `.dintsim.lock` in the
/// directory, held with `flock` and holding the writer's pid. A second writer gets an error naming
/// the holder; a lock file left by a process that died (its `flock` went with it) is taken over.
public final class DirectoryLock {
    public static let fileName = ".dintsim.lock"
    public let directory: String
    private let path: String
    private var fd: Int32 = -1
    private var registration: Int?
    /// The pid recorded by a dead writer whose lock was cleared, if any.
    public private(set) var clearedStalePid: Int32?
    /// How many of that writer's temporaries were removed.
    public private(set) var removedTemporaries = 0

    public init(directory: String) throws {
        self.directory = directory
        path = directory + "/" + Self.fileName
        for _ in 0..<8 {
            let fd = FilePaths.withCString(path) { open($0, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
            guard fd >= 0 else { throw TensorIOError.io("\(directory): cannot create the lock file \(Self.fileName) (\(Files.reason(errno)))") }
            let previous = Self.readPid(fd)
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                close(fd)
                let holder = previous.map { "pid \($0)" } ?? "another process"
                throw TensorIOError.io("\(directory): is being written by another dintsim run (\(holder)); wait for it to finish or choose another output directory")
            }
            // The file may have been removed by the previous holder between open and flock.
            guard let mine = FileStatus.of(descriptor: fd), let now = try? FileStatus.of(path), mine.inode == now.inode, mine.device == now.device else {
                close(fd); continue
            }
            // Holding the flock means whoever wrote a pid here is gone: a stale lock, taken over,
            // and the temporaries that writer left (it was killed) removed.
            if let previous, previous != getpid() {
                clearedStalePid = previous
                removedTemporaries = Self.removeTemporaries(in: directory, of: previous)
            }
            let text = "\(getpid())\n"
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
            self.fd = fd
            registration = Temporaries.register(path)
            return
        }
        throw TensorIOError.io("\(directory): the lock file \(Self.fileName) keeps changing; another run is starting — try again")
    }

    /// Removes `.NAME.tmp-PID-*` files (`OutputFile`'s temporaries) of process `pid` in `directory`.
    static func removeTemporaries(in directory: String, of pid: Int32) -> Int {
        guard let dir = FilePaths.withCString(directory, { opendir($0) }) else { return 0 }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return FilePaths.decode(Array(bytes))
            }
            if name.hasPrefix("."), name.contains(".tmp-\(pid)-") { names.append(name) }
        }
        return names.filter { n in FilePaths.withCString(directory + "/" + n) { unlink($0) } == 0 }.count
    }

    static func readPid(_ fd: Int32) -> Int32? {
        var b = [UInt8](repeating: 0, count: 32)
        let n = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 31, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: b[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Removes the lock file and releases the lock (also on deinit).
    public func release() {
        guard fd >= 0 else { return }
        if let registration {
            _ = Temporaries.commit(registration) { _ = FilePaths.withCString(path) { unlink($0) }; return nil }
        }
        registration = nil
        close(fd)
        fd = -1
    }

    deinit { release() }
}
