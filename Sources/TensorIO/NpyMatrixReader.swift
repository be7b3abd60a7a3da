#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a 2-D float32/float16 `.npy` in row blocks without holding it whole: the header is
/// checked up front (as strictly as `NpyCodec.decode`, the data length against the file size),
/// then rows are read with `pread` on demand, so any block can be read again (two-pass
/// algorithms). An input that cannot be read at offsets (a FIFO, standard input) is read whole
/// into memory first.
public final class NpyMatrixReader {
    public let path: String
    public let header: NpyCodec.Header
    public let rows: Int
    public let columns: Int
    private let fd: Int32
    private let owned: Bool
    private let memory: [UInt8]?

    public init(path: String) throws {
        self.path = path
        let (fd, owned) = try Files.openForReading(path)
        self.fd = fd; self.owned = owned
        do {
            if let status = FileStatus.of(descriptor: fd), status.kind == .regular {
                let total = Int(status.size)
                var prefix = [UInt8](repeating: 0, count: min(total, NpyCodec.maximumHeaderBytes))
                let n = prefix.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
                guard n == prefix.count else { throw TensorIOError.io("\(path): read failed (\(Files.reason(errno)))") }
                header = try NpyCodec.header(prefix[...], total: total)
                memory = nil
            } else {
                let bytes = try Files.read(path)
                header = try NpyCodec.header(bytes[...], total: bytes.count)
                memory = bytes
            }
            guard header.shape.count == 2 else {
                throw TensorIOError.unsupported("rank \(header.shape.count) array (shape \(header.shape)) where a 2-D array is required")
            }
            guard header.dtype == .float32 || header.dtype == .float16 else {
                throw TensorIOError.unsupported("dtype \(header.dtype.name) where float32 or float16 is required")
            }
        } catch let e as TensorIOError {
            if owned { close(fd) }
            switch e {
            case .io: throw e
            case .malformed(let s): throw TensorIOError.malformed("\(path): \(s)")
            case .unsupported(let s): throw TensorIOError.unsupported("\(path): \(s)")
            }
        }
        rows = header.shape[0]; columns = header.shape[1]
    }

    deinit { if owned { close(fd) } }

    /// Rows `range` as binary32, row-major.
    public func values(rows range: Range<Int>) throws -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        let width = header.dtype.byteWidth
        let offset = header.dataStart + range.lowerBound * columns * width
        let length = range.count * columns * width
        if let memory { return try NpyArray.floatValues(memory[offset..<(offset + length)], dtype: header.dtype) }
        var raw = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = raw.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw TensorIOError.io("\(path): read failed (\(n == 0 ? "the file shrank while being read" : Files.reason(errno)))") }
            done += n
        }
        return try NpyArray.floatValues(raw[...], dtype: header.dtype)
    }

}

/// A 2-D binary32 tensor read in row blocks: a streamed `.npy`, or values already in memory.
public protocol RowSource {
    var rows: Int { get }
    var columns: Int { get }
    /// Rows `range` as binary32, row-major.
    func values(rows range: Range<Int>) throws -> [Float]
}

extension RowSource {
    /// The row blocks of about `bytes` bytes of binary32 each (at least one row), in order.
    public func blocks(bytes: Int = 16 << 20) -> [Range<Int>] {
        let step = max(1, bytes / max(1, 4 * columns))
        return stride(from: 0, to: rows, by: step).map { $0..<min(rows, $0 + step) }
    }
}

extension NpyMatrixReader: RowSource {}

/// A tensor already in memory (a checkpoint's tensor, synthetic data).
public struct InMemoryMatrix: RowSource, Sendable {
    public let data: [Float]
    public let rows: Int
    public let columns: Int
    public init(_ data: [Float], rows: Int, columns: Int) { self.data = data; self.rows = rows; self.columns = columns }
    public func values(rows range: Range<Int>) throws -> [Float] { Array(data[(range.lowerBound * columns)..<(range.upperBound * columns)]) }
}
