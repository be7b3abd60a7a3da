/// A dense array as stored in a NumPy `.npy` file (C order only).
public struct NpyArray: Sendable, Equatable {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4", float16 = "<f2", float64 = "<f8", uint8 = "|u1", int8 = "|i1"
        case int32 = "<i4", int64 = "<i8", uint32 = "<u4"

        public var byteWidth: Int {
            switch self {
            case .uint8, .int8: return 1
            case .float16: return 2
            case .float32, .int32, .uint32: return 4
            case .float64, .int64: return 8
            }
        }

        public var name: String {
            switch self {
            case .float32: return "float32"
            case .float16: return "float16"
            case .float64: return "float64"
            case .uint8: return "uint8"
            case .int8: return "int8"
            case .int32: return "int32"
            case .int64: return "int64"
            case .uint32: return "uint32"
            }
        }

        /// Accepts the spellings NumPy writes ('<f4', '|u1', and '=' / no-prefix forms for 1-byte types).
        init?(descr: String) {
            switch descr {
            case "<f4": self = .float32
            case "<f2": self = .float16
            case "<f8": self = .float64
            case "|u1", "<u1", "u1", "=u1", ">u1": self = .uint8
            case "|i1", "<i1", "i1", "=i1", ">i1": self = .int8
            case "<i4": self = .int32
            case "<i8": self = .int64
            case "<u4": self = .uint32
            default: return nil
            }
        }
    }

    public let dtype: DType
    public let shape: [Int]
    /// Little-endian element bytes, C order.
    public let data: [UInt8]

    public init(dtype: DType, shape: [Int], data: [UInt8]) throws {
        guard let count = NpyArray.elementCount(shape) else {
            throw TensorIOError.malformed("shape \(shape) is negative or too large")
        }
        guard data.count == count * dtype.byteWidth else {
            throw TensorIOError.malformed("\(data.count) data bytes for shape \(shape) of \(dtype.name) (need \(count * dtype.byteWidth))")
        }
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public var count: Int { shape.reduce(1, *) }

    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 40 else { return nil }
            n = p
        }
        return n
    }

    // MARK: typed construction

    public init(float32 values: [Float], shape: [Int]) throws {
        try self.init(dtype: .float32, shape: shape, data: Self.float32Bytes(values))
    }

    /// Little-endian binary32 bytes of `values` (a float32 array's data).
    public static func float32Bytes(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](); bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    /// Elements of float32 or float16 `data` as binary32 (float16 widened exactly).
    public static func floatValues(_ data: ArraySlice<UInt8>, dtype: DType) throws -> [Float] {
        let base = data.startIndex
        switch dtype {
        case .float32:
            return stride(from: 0, to: data.count, by: 4).map { k in
                let i = base + k
                return Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
            }
        case .float16:
            return stride(from: 0, to: data.count, by: 2).map { k in
                let i = base + k
                return Float(Float16(bitPattern: UInt16(data[i]) | UInt16(data[i + 1]) << 8))
            }
        default:
            throw TensorIOError.unsupported("dtype \(dtype.name) where float32 or float16 is required")
        }
    }

    public init(uint8 values: [UInt8], shape: [Int]) throws {
        try self.init(dtype: .uint8, shape: shape, data: values)
    }

    public init(int8 values: [Int8], shape: [Int]) throws {
        try self.init(dtype: .int8, shape: shape, data: values.map { UInt8(bitPattern: $0) })
    }

    // MARK: typed access

    /// Elements as binary32: float32 as stored; float16 widened exactly. Other dtypes throw.
    public func floatValues() throws -> [Float] { try Self.floatValues(data[...], dtype: dtype) }

    public func uint8Values() throws -> [UInt8] {
        guard dtype == .uint8 else { throw TensorIOError.unsupported("dtype \(dtype.name) where uint8 is required") }
        return data
    }

    public func int8Values() throws -> [Int8] {
        guard dtype == .int8 else { throw TensorIOError.unsupported("dtype \(dtype.name) where int8 is required") }
        return data.map { Int8(bitPattern: $0) }
    }

    /// The shape as (rows, columns), for arrays that must be 2-D.
    public func matrixShape() throws -> (rows: Int, columns: Int) {
        guard shape.count == 2 else { throw TensorIOError.unsupported("rank \(shape.count) array (shape \(shape)) where a 2-D array is required") }
        return (shape[0], shape[1])
    }
}

public enum TensorIOError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupported(String)
    case io(String)

    public var description: String {
        switch self {
        case .malformed(let s): return "malformed: \(s)"
        case .unsupported(let s): return "unsupported: \(s)"
        case .io(let s): return s
        }
    }
}
