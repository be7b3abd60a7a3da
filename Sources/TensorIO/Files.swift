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

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to
    /// disk, then renamed over `path`. A process killed at any point leaves either the old file
    /// (or none) or the complete new one, never a truncated file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TensorIOError.io("\(path): cannot create a file in \(directory) (\(String(cString: strerror(errno))))") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { buffer -> String? in
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return String(cString: strerror(errno)) }
                written += n
            }
            return nil
        }
        if let failure { close(fd); throw TensorIOError.io("\(path): write failed (\(failure))") }
        guard fsync(fd) == 0, close(fd) == 0 else { throw TensorIOError.io("\(path): flush failed (\(String(cString: strerror(errno))))") }
        guard rename(temporary, path) == 0 else { throw TensorIOError.io("\(path): rename failed (\(String(cString: strerror(errno))))") }
        ok = true
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
