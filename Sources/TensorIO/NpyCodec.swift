/// Strict reading and writing of NumPy `.npy` files (format versions 1.0, 2.0, 3.0).
///
/// Refused with a one-line reason: a bad magic string or version, a header that is not the
/// Python dict literal NumPy writes (keys 'descr', 'fortran_order', 'shape', nothing else),
/// an unsupported dtype or a big-endian one, Fortran order, a shape that is negative or absurd,
/// and data shorter or longer than the shape needs.
public enum NpyCodec {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY

    /// What a `.npy` preamble and header say: dtype, shape and where the data starts.
    public struct Header: Sendable, Equatable {
        public let dtype: NpyArray.DType
        public let shape: [Int]
        public let dataStart: Int
        public var count: Int { shape.reduce(1, *) }
        public var dataBytes: Int { count * dtype.byteWidth }
    }

    /// Bytes a header can take at most (preamble included): what a streaming reader reads first.
    public static let maximumHeaderBytes = 12 + (1 << 20)

    /// Parses the preamble and header from the first bytes of a file (all of it, or at least
    /// `maximumHeaderBytes`); `total` is the file's size, to check the data length.
    public static func header(_ bytes: ArraySlice<UInt8>, total: Int) throws -> Header {
        let bytes = Array(bytes)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw TensorIOError.malformed("not a .npy file (magic string missing)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw TensorIOError.malformed("truncated .npy preamble") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw TensorIOError.unsupported(".npy format version \(major).\(minor)")
        }
        guard minor == 0 else { throw TensorIOError.unsupported(".npy format version \(major).\(minor)") }
        guard headerLength <= 1 << 20, headerStart + headerLength <= bytes.count else {
            throw TensorIOError.malformed("header length \(headerLength) runs past the end of the file (\(total) bytes)")
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        guard headerBytes.allSatisfy({ $0 < 0x80 }) else {
            throw TensorIOError.malformed("header is not ASCII")
        }
        let (descr, fortran, shape) = try parseHeader(String(decoding: headerBytes, as: UTF8.self))
        guard let dtype = NpyArray.DType(descr: descr) else {
            throw TensorIOError.unsupported("dtype '\(descr)' (supported: \(NpyArray.DType.allCases.map(\.rawValue).joined(separator: ", ")); little-endian only)")
        }
        guard !fortran else { throw TensorIOError.unsupported("Fortran-order array (write it with numpy.ascontiguousarray)") }
        guard let count = NpyArray.elementCount(shape) else {
            throw TensorIOError.malformed("shape \(shape) is negative or larger than 2^40 elements")
        }
        let dataStart = headerStart + headerLength
        let needed = count * dtype.byteWidth
        let available = total - dataStart
        guard available == needed else {
            throw TensorIOError.malformed(available < needed
                ? "truncated data: shape \(shape) of \(dtype.name) needs \(needed) bytes, file has \(available)"
                : "\(available - needed) bytes of trailing data after shape \(shape) of \(dtype.name)")
        }
        return Header(dtype: dtype, shape: shape, dataStart: dataStart)
    }

    public static func decode(_ bytes: [UInt8]) throws -> NpyArray {
        let h = try header(bytes[...], total: bytes.count)
        return try NpyArray(dtype: h.dtype, shape: h.shape, data: Array(bytes[h.dataStart...]))
    }

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` and its spacing variants.
    static func parseHeader(_ text: String) throws -> (String, Bool, [Int]) {
        var p = HeaderParser(Array(text.unicodeScalars))
        p.skipSpaces()
        try p.expect("{")
        var descr: String?, fortran: Bool?, shape: [Int]?
        while true {
            p.skipSpaces()
            if p.peek == "}" { p.advance(); break }
            let key = try p.string()
            p.skipSpaces(); try p.expect(":"); p.skipSpaces()
            switch key {
            case "descr": guard descr == nil else { throw p.fail("duplicate key 'descr'") }; descr = try p.string()
            case "fortran_order": guard fortran == nil else { throw p.fail("duplicate key 'fortran_order'") }; fortran = try p.bool()
            case "shape": guard shape == nil else { throw p.fail("duplicate key 'shape'") }; shape = try p.tuple()
            default: throw p.fail("unexpected header key '\(key)'")
            }
            p.skipSpaces()
            if p.peek == "," { p.advance(); continue }
            p.skipSpaces()
            try p.expect("}")
            break
        }
        p.skipSpaces()
        guard p.atEnd else { throw p.fail("text after the header dict") }
        guard let descr else { throw TensorIOError.malformed("header lacks 'descr'") }
        guard let fortran else { throw TensorIOError.malformed("header lacks 'fortran_order'") }
        guard let shape else { throw TensorIOError.malformed("header lacks 'shape'") }
        return (descr, fortran, shape)
    }

    struct HeaderParser {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }
        var atEnd: Bool { i >= s.count }
        var peek: Unicode.Scalar? { atEnd ? nil : s[i] }
        mutating func advance() { i += 1 }
        mutating func skipSpaces() { while let c = peek, c == " " || c == "\n" || c == "\t" { advance() } }
        func fail(_ why: String) -> TensorIOError { .malformed("header: \(why) at character \(i)") }
        mutating func expect(_ c: Unicode.Scalar) throws {
            guard peek == c else { throw fail("expected '\(c)'") }
            advance()
        }
        mutating func string() throws -> String {
            guard let q = peek, q == "'" || q == "\"" else { throw fail("expected a quoted string") }
            advance()
            var out = ""
            while let c = peek, c != q { out.unicodeScalars.append(c); advance(); guard out.count <= 64 else { throw fail("string too long") } }
            try expect(q)
            return out
        }
        mutating func bool() throws -> Bool {
            for (word, value) in [("True", true), ("False", false)] {
                let w = Array(word.unicodeScalars)
                if i + w.count <= s.count && Array(s[i..<(i + w.count)]) == w { i += w.count; return value }
            }
            throw fail("expected True or False")
        }
        mutating func tuple() throws -> [Int] {
            try expect("(")
            var dims: [Int] = []
            while true {
                skipSpaces()
                if peek == ")" { advance(); return dims }
                var digits = ""
                while let c = peek, ("0"..."9").contains(c) { digits.unicodeScalars.append(c); advance() }
                guard !digits.isEmpty, digits.count <= 15, let d = Int(digits) else { throw fail("expected a dimension") }
                dims.append(d)
                guard dims.count <= 32 else { throw fail("more than 32 dimensions") }
                skipSpaces()
                if peek == "," { advance(); continue }
                skipSpaces()
                try expect(")")
                return dims
            }
        }
    }

    /// Serialises as format version 1.0 (2.0 if the header needs it), header padded so the data
    /// starts on a 64-byte boundary, as NumPy does.
    public static func encode(_ array: NpyArray) -> [UInt8] {
        encodeHeader(dtype: array.dtype, shape: array.shape) + array.data
    }

    /// The preamble and header `encode` writes before the data (for files written in pieces).
    public static func encodeHeader(dtype: NpyArray.DType, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let v1 = 10 + header.utf8.count + 1 <= 65535 + 10
        let preamble = v1 ? 10 : 12
        let total = preamble + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = magic + [v1 ? 1 : 2, 0]
        let n = header.utf8.count
        out += v1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        out += Array(header.utf8)
        return out
    }
}
