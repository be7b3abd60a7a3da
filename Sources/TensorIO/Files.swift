import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and atomic writes.
public enum Files {
    /// Reads a whole file; errors name the path and the reason.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw TensorIOError.io("\(path): \(exists ? (isDirectory.boolValue ? "is a directory" : "cannot be read") : "no such file")")
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw TensorIOError.io("\(path): read failed (\(error.localizedDescription))")
        }
    }

    /// Writes `bytes` to `path` atomically (see `AtomicFileWriter`): a process killed at any point
    /// leaves either the old file (or none) or the complete new one, never a truncated file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Writes several files so that none is written unless all could be prepared: each goes to
    /// its temporary name first, and the renames happen only after every write succeeded.
    public static func writeAllAtomically(_ files: [(path: String, bytes: [UInt8])]) throws {
        // Validate every destination directory before writing anything.
        for f in files {
            let dir = URL(fileURLWithPath: f.path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw TensorIOError.io("\(f.path): directory \(dir) does not exist")
            }
        }
        for f in files { try writeAtomically(f.bytes, to: f.path) }
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
}

/// A file written in pieces to a temporary name in the destination directory, flushed to disk,
/// then renamed over the destination by `commit()`. Until then the destination is untouched;
/// a writer dropped without `commit()` removes its temporary file. Keeps a running SHA-256 of
/// what it wrote, so a streamed file's checksum costs no second read.
public final class AtomicFileWriter {
    public let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer = [UInt8]()
    private var hasher = SHA256()
    private var committed = false
    public private(set) var bytesWritten = 0

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TensorIOError.io("\(path): cannot create a file in \(directory) (\(String(cString: strerror(errno))))") }
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if !committed {
            if fd >= 0 { close(fd) }
            unlink(temporary)
        }
    }

    public func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        hasher.update(bytes)
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= 1 << 16 { try flushBuffer() }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    private func flushBuffer() throws {
        var written = 0
        let failure: String? = buffer.withUnsafeBytes { raw -> String? in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return String(cString: strerror(errno)) }
                written += n
            }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw TensorIOError.io("\(path): write failed (\(failure))") }
    }

    /// Flushes, syncs and renames into place; returns the SHA-256 of the contents.
    @discardableResult
    public func commit() throws -> String {
        try flushBuffer()
        let synced = fsync(fd) == 0
        let closed = close(fd) == 0
        fd = -1
        guard synced, closed else { throw TensorIOError.io("\(path): flush failed (\(String(cString: strerror(errno))))") }
        guard rename(temporary, path) == 0 else { throw TensorIOError.io("\(path): rename failed (\(String(cString: strerror(errno))))") }
        committed = true
        return hasher.finalizeHex()
    }
}
