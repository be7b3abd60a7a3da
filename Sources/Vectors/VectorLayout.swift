/// How one line of a vector file is laid out: named fields of fixed width, inputs first, then
/// the expected outputs, then the flag byte(s), as in TestFloat.
///
/// Text form (`.hex`): every field element is printed as ⌈width/4⌉ lowercase hex digits; the
/// elements are joined by `_`, so a line is also one `$readmemh` word (Verilog allows `_` in
/// hex numbers) whose bit positions `layout.vh` names. JSON form (`.jsonl`): one object per line
/// with the same values as unsigned integers.
public struct VectorField: Sendable, Equatable {
    public enum Role: String, Sendable { case input, output, flags }
    public let name: String
    /// Bits of one element.
    public let width: Int
    /// Elements (lanes, tile elements); 1 for a scalar field.
    public let count: Int
    public let role: Role

    public init(_ name: String, width: Int, count: Int = 1, role: Role) {
        precondition((1...64).contains(width) && count >= 1)
        self.name = name; self.width = width; self.count = count; self.role = role
    }

    public var digits: Int { (width + 3) / 4 }
    public var mask: UInt64 { width == 64 ? ~0 : (1 << UInt64(width)) - 1 }
}

public struct VectorLayout: Sendable, Equatable {
    public let fields: [VectorField]

    public init(_ fields: [VectorField]) { self.fields = fields }

    /// Values per line: one per field element.
    public var valueCount: Int { fields.reduce(0) { $0 + $1.count } }
    /// Hex digits per line, separators excluded; the `$readmemh` word is 4× this many bits.
    public var digits: Int { fields.reduce(0) { $0 + $1.digits * $1.count } }
    public var lineBits: Int { 4 * digits }

    /// Index of each field's first element in a line's value array.
    public var offsets: [Int] {
        var o = [Int](), at = 0
        for f in fields { o.append(at); at += f.count }
        return o
    }

    public func field(_ name: String) -> (field: VectorField, offset: Int)? {
        guard let i = fields.firstIndex(where: { $0.name == name }) else { return nil }
        return (fields[i], offsets[i])
    }

    /// Value indices of the outputs (what a DUT dump carries, in this order).
    public var outputRange: Range<Int> {
        let o = offsets
        let first = fields.firstIndex { $0.role == .output }!, last = fields.lastIndex { $0.role == .output }!
        return o[first]..<(o[last] + fields[last].count)
    }

    /// (element name, element width) for every value of a line, e.g. `w0`, `w1`, `acc`.
    public var elementNames: [(name: String, width: Int, role: VectorField.Role)] {
        fields.flatMap { f in (0..<f.count).map { (f.count == 1 ? f.name : "\(f.name)\($0)", f.width, f.role) } }
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends values[range] as `_`-joined fixed-width hex to `out`.
    func appendHex(_ values: [UInt64], _ range: Range<Int>, to out: inout [UInt8]) {
        let widths = elementNames
        for i in range {
            if i != range.lowerBound { out.append(UInt8(ascii: "_")) }
            let d = (widths[i].width + 3) / 4
            for k in stride(from: d - 1, through: 0, by: -1) { out.append(Self.hexDigits[Int((values[i] >> UInt64(4 * k)) & 15)]) }
        }
    }

    public func hexLine(_ values: [UInt64]) -> String {
        var b = [UInt8](); appendHex(values, 0..<valueCount, to: &b); return String(decoding: b, as: UTF8.self)
    }

    /// Parses `_`-joined hex fields for the value indices in `range`; nil names the problem.
    /// A whole `vectors.hex` line: every field's value, or why the line is malformed.
    public func parseLine(_ text: Substring) -> Result<[UInt64], VectorError> { parseHex(text, 0..<valueCount) }

    func parseHex(_ text: Substring, _ range: Range<Int>) -> Result<[UInt64], VectorError> {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == range.count else {
            return .failure(.malformed("expected \(range.count) '_'-separated hex fields, found \(parts.count)"))
        }
        let names = elementNames
        var values = [UInt64]()
        values.reserveCapacity(parts.count)
        for (part, i) in zip(parts, range) {
            let e = names[i]
            guard part.count == (e.width + 3) / 4, let v = UInt64(part, radix: 16), part.allSatisfy(\.isHexDigit) else {
                return .failure(.malformed("field \(e.name): '\(part)' is not \((e.width + 3) / 4) hex digits"))
            }
            guard v <= (e.width == 64 ? UInt64.max : (1 << UInt64(e.width)) - 1) else {
                return .failure(.malformed("field \(e.name): \(part) does not fit \(e.width) bits"))
            }
            values.append(v)
        }
        return .success(values)
    }
}

public enum VectorError: Error, Equatable, CustomStringConvertible {
    /// A file that does not follow docs/vectors.md.
    case malformed(String)
    /// Bad generation parameters (unknown unit, level, shard …).
    case invalid(String)
    public var description: String {
        switch self {
        case .malformed(let s), .invalid(let s): return s
        }
    }
}
