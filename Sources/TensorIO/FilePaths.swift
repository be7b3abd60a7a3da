#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths are bytes (docs/cli.md, "Paths"). A POSIX file name is any byte string without NUL, but a
/// Swift `String` holds Unicode; `CommandLine.arguments` replaces invalid UTF-8 with U+FFFD, which
/// would make an existing input "missing" and write an output under another name. dintsim keeps
/// paths as `String`s with a lossless encoding: a byte that is not part of valid UTF-8 becomes the
/// private-use scalar U+F700 + byte (U+F780…U+F7FF), and so does every byte of a scalar already in
/// that range, so decoding is exact. Every file operation turns the `String` back into the
/// original bytes (`withCString`); messages show such bytes as `\xHH` (`display`).
public enum FilePaths {
    static let escapeBase: UInt32 = 0xF700
    static func isEscape(_ v: UInt32) -> Bool { (0xF780...0xF7FF).contains(v) }

    /// The lossless `String` for the bytes of a C string (an `argv` element).
    public static func decode(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let (scalar, length) = decodeScalar(bytes, at: i)
            if let scalar, !isEscape(scalar.value) {
                scalars.append(scalar)
            } else {
                for b in bytes[i..<(i + length)] { scalars.append(Unicode.Scalar(escapeBase + UInt32(b))!) }
            }
            i += length
        }
        return String(scalars)
    }

    /// One scalar of strict UTF-8 at `i`, or nil and 1 byte when the bytes there are not one.
    static func decodeScalar(_ b: [UInt8], at i: Int) -> (Unicode.Scalar?, Int) {
        let lead = b[i]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int, minimum: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80
        case 0xE0...0xEF: length = 3; minimum = 0x800
        case 0xF0...0xF4: length = 4; minimum = 0x10000
        default: return (nil, 1)
        }
        guard i + length <= b.count else { return (nil, 1) }
        var v = UInt32(lead) & (0xFF >> (length + 1))
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return (nil, 1) }
            v = v << 6 | UInt32(c & 0x3F)
        }
        guard v >= minimum, let s = Unicode.Scalar(v) else { return (nil, 1) }
        return (s, length)
    }

    /// The original bytes of a path (without the terminating NUL).
    public static func bytes(_ path: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(path.utf8.count)
        for s in path.unicodeScalars {
            if isEscape(s.value) { out.append(UInt8(s.value - escapeBase)) } else { out.append(contentsOf: String(s).utf8) }
        }
        return out
    }

    /// Calls `body` with the path's original bytes as a NUL-terminated C string.
    public static func withCString<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var b = bytes(path).map { CChar(bitPattern: $0) }
        b.append(0)
        return try b.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Text for messages: escaped bytes as `\xHH`, everything else as is. Applied to whole lines.
    public static func display(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isEscape($0.value) }) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isEscape(s.value) {
                let h = String(s.value - escapeBase, radix: 16, uppercase: true)
                out.append(contentsOf: "\\x\(h)".unicodeScalars)
            } else { out.append(s) }
        }
        return String(out)
    }

    /// The process's arguments, decoded losslessly (`CommandLine.arguments` is lossy).
    public static func arguments() -> [String] {
        (0..<Int(CommandLine.argc)).map { i in
            guard let p = CommandLine.unsafeArgv[i] else { return "" }
            return decode(Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))))
        }
    }

    /// The directory part of a path ("." when there is none) and the last component.
    public static func split(_ path: String) -> (directory: String, name: String) {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
        let dir = p[..<slash]
        return (dir.isEmpty ? "/" : String(dir), String(p[p.index(after: slash)...]))
    }
}

/// What a path names, by `stat` (following links) and `lstat`.
public struct FileStatus: Equatable, Sendable {
    public enum Kind: String, Sendable { case regular = "a regular file", directory = "a directory", fifo = "a FIFO", character = "a character device", block = "a block device", socket = "a socket", other = "an unknown file type" }
    public let kind: Kind
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64

    /// The status of what `path` names (links followed), nil when nothing is there (or a dangling
    /// link); other failures throw.
    public static func of(_ path: String) throws -> FileStatus? {
        var s = stat()
        let r = FilePaths.withCString(path) { stat($0, &s) }
        if r != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw TensorIOError.io("\(path): \(Files.reason(errno))")
        }
        return FileStatus(s)
    }

    public static func of(descriptor fd: Int32) -> FileStatus? {
        var s = stat()
        return fstat(fd, &s) == 0 ? FileStatus(s) : nil
    }

    init(_ s: stat) {
        switch s.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .character
        case S_IFBLK: kind = .block
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        device = UInt64(s.st_dev); inode = UInt64(s.st_ino); size = Int64(s.st_size)
    }

    /// Whether `path` itself is a symbolic link (`lstat`).
    public static func isLink(_ path: String) -> Bool {
        var s = stat()
        return FilePaths.withCString(path) { lstat($0, &s) } == 0 && s.st_mode & S_IFMT == S_IFLNK
    }
}
