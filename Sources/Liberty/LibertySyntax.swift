import CZlib

/// Why a Liberty file was refused: one line naming the place and the problem.
public struct LibertyError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One value of an attribute: a bare word (number, identifier, unit such as `1ns`) or a quoted string.
public struct LibertyValue: Sendable, Equatable {
    public let text: String
    public let quoted: Bool
    public let line: Int
}

/// `name : value ;` (simple) or `name ( v1, v2, … ) ;` (complex).
public struct LibertyAttribute: Sendable, Equatable {
    public let name: String
    public let values: [LibertyValue]
    public let isComplex: Bool
    public let line: Int
}

/// `name ( arguments ) { attributes and groups }`.
public struct LibertyGroup: Sendable, Equatable {
    public let kind: String
    public let arguments: [LibertyValue]
    public var attributes: [LibertyAttribute] = []
    public var groups: [LibertyGroup] = []
    public let line: Int

    public func attribute(_ name: String) -> LibertyAttribute? { attributes.last { $0.name == name } }
    public func groups(_ kind: String) -> [LibertyGroup] { groups.filter { $0.kind == kind } }
}

/// The Liberty syntax (Liberty Reference Manual, "Syntax" chapter), strictly: groups, simple and
/// complex attributes, quoted strings, `/* */` comments and backslash-newline continuations.
/// Anything else (a missing `;`, an unbalanced brace, a stray character) is an error with its
/// line. Gzip-compressed input (`.lib.gz`) is recognised by its magic bytes and inflated first.
public enum LibertySyntax {
    /// Largest file accepted, after decompression.
    public static let maximumBytes = 1 << 30
    /// Deepest group nesting accepted (real libraries nest 5–6 deep).
    public static let maximumDepth = 64

    public static func parse(_ input: [UInt8], source: String) throws -> LibertyGroup {
        let bytes = try isGzip(input) ? gunzip(input, source: source) : input
        guard bytes.count <= maximumBytes else { throw LibertyError("\(source): larger than \(maximumBytes >> 20) MiB") }
        var parser = Parser(bytes: bytes, source: source)
        let top = try parser.group(depth: 0)
        try parser.skipSpace()
        guard parser.at >= bytes.count else { throw parser.fail("text after the library group ends") }
        return top
    }

    static func isGzip(_ b: [UInt8]) -> Bool { b.count >= 2 && b[0] == 0x1F && b[1] == 0x8B }

    /// Inflates a gzip stream (one or more members) with zlib, refusing corrupt, truncated or
    /// oversized input.
    static func gunzip(_ input: [UInt8], source: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < input.count {
            var stream = z_stream()
            guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw LibertyError("\(source): zlib could not start")
            }
            defer { inflateEnd(&stream) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var status: Int32 = Z_OK
            try input.withUnsafeBufferPointer { inBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + offset)
                stream.avail_in = UInt32(input.count - offset)
                repeat {
                    let produced: Int = chunk.withUnsafeMutableBufferPointer { c in
                        stream.next_out = c.baseAddress
                        stream.avail_out = UInt32(c.count)
                        status = inflate(&stream, Z_NO_FLUSH)
                        return c.count - Int(stream.avail_out)
                    }
                    guard status == Z_OK || status == Z_STREAM_END else {
                        throw LibertyError("\(source): corrupt gzip data (zlib status \(status)); re-compress it with gzip or give the plain .lib")
                    }
                    out += chunk[0..<produced]
                    guard out.count <= maximumBytes else { throw LibertyError("\(source): decompresses to more than \(maximumBytes >> 20) MiB") }
                    if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                        throw LibertyError("\(source): the gzip stream is truncated; download or copy the file again")
                    }
                } while status != Z_STREAM_END
                offset += Int(stream.total_in)
            }
            // Another member may follow; padding zeros after the last member are not accepted.
            if offset < input.count && !isGzip(Array(input[offset..<min(offset + 2, input.count)])) {
                throw LibertyError("\(source): bytes after the end of the gzip stream")
            }
        }
        return out
    }

    struct Parser {
        let bytes: [UInt8]
        let source: String
        var at = 0
        var line = 1

        func fail(_ why: String) -> LibertyError { LibertyError("\(source):\(line): \(why)") }

        mutating func skipSpace() throws {
            while at < bytes.count {
                let c = bytes[at]
                if c == UInt8(ascii: "\n") { line += 1; at += 1 }
                else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == 0x0C { at += 1 }
                else if c == UInt8(ascii: "\\") {
                    // Line continuation: a backslash, optional blanks, a newline.
                    var j = at + 1
                    while j < bytes.count && (bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") || bytes[j] == UInt8(ascii: "\r")) { j += 1 }
                    guard j < bytes.count && bytes[j] == UInt8(ascii: "\n") else { throw fail("a backslash outside a string must end its line") }
                    at = j
                } else if c == UInt8(ascii: "/") && at + 1 < bytes.count && bytes[at + 1] == UInt8(ascii: "*") {
                    let startLine = line
                    at += 2
                    while at + 1 < bytes.count && !(bytes[at] == UInt8(ascii: "*") && bytes[at + 1] == UInt8(ascii: "/")) {
                        if bytes[at] == UInt8(ascii: "\n") { line += 1 }
                        at += 1
                    }
                    guard at + 1 < bytes.count else { throw LibertyError("\(source):\(startLine): comment not closed (missing */)") }
                    at += 2
                } else { return }
            }
        }

        static func isWordByte(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
            case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "!"), UInt8(ascii: "["),
                 UInt8(ascii: "]"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "'"), UInt8(ascii: "&"), UInt8(ascii: "|"),
                 UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="),
                 UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "~"): return true
            default: return false
            }
        }

        mutating func peek() throws -> UInt8? {
            try skipSpace()
            return at < bytes.count ? bytes[at] : nil
        }

        mutating func expect(_ c: Character, _ context: String) throws {
            guard try peek() == c.asciiValue! else {
                let seen = at < bytes.count ? "'\(Character(UnicodeScalar(bytes[at])))'" : "the end of the file"
                throw fail("expected '\(c)' \(context), found \(seen)")
            }
            at += 1
        }

        mutating func word(_ context: String) throws -> String {
            guard let c = try peek(), Self.isWordByte(c) else {
                throw fail(at < bytes.count ? "expected a name \(context), found '\(Character(UnicodeScalar(bytes[at])))'" : "expected a name \(context), found the end of the file")
            }
            let start = at
            while at < bytes.count && Self.isWordByte(bytes[at]) { at += 1 }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func value(_ context: String) throws -> LibertyValue {
            guard let c = try peek() else { throw fail("expected a value \(context), found the end of the file") }
            let valueLine = line
            if c == UInt8(ascii: "\"") {
                at += 1
                var text: [UInt8] = []
                while true {
                    guard at < bytes.count else { throw LibertyError("\(source):\(valueLine): string not closed (missing \")") }
                    let b = bytes[at]
                    if b == UInt8(ascii: "\"") { at += 1; break }
                    if b == UInt8(ascii: "\\") && at + 1 < bytes.count {
                        // Inside strings: backslash-newline continues the line; \" is a quote.
                        var j = at + 1
                        while j < bytes.count && (bytes[j] == UInt8(ascii: "\r") || bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t")) { j += 1 }
                        if j < bytes.count && bytes[j] == UInt8(ascii: "\n") { line += 1; at = j + 1; continue }
                        if bytes[at + 1] == UInt8(ascii: "\"") { text.append(UInt8(ascii: "\"")); at += 2; continue }
                    }
                    if b == UInt8(ascii: "\n") { line += 1 }
                    text.append(b)
                    at += 1
                }
                return LibertyValue(text: String(decoding: text, as: UTF8.self), quoted: true, line: valueLine)
            }
            return LibertyValue(text: try word(context), quoted: false, line: valueLine)
        }

        /// `( v, v, … )` after a name; the opening parenthesis is next.
        mutating func arguments(of name: String) throws -> [LibertyValue] {
            try expect("(", "after '\(name)'")
            var values: [LibertyValue] = []
            if try peek() == UInt8(ascii: ")") { at += 1; return values }
            while true {
                values.append(try value("in the arguments of '\(name)'"))
                guard let c = try peek() else { throw fail("'\(name)(' not closed") }
                if c == UInt8(ascii: ",") { at += 1; continue }
                if c == UInt8(ascii: ")") { at += 1; return values }
                throw fail("expected ',' or ')' in the arguments of '\(name)', found '\(Character(UnicodeScalar(c)))'")
            }
        }

        mutating func group(depth: Int) throws -> LibertyGroup {
            let kind = try word("for the library group")
            let groupLine = line
            let args = try arguments(of: kind)
            try expect("{", "to open group '\(kind)'")
            return try body(kind: kind, arguments: args, line: groupLine, depth: depth)
        }

        mutating func body(kind: String, arguments: [LibertyValue], line groupLine: Int, depth: Int) throws -> LibertyGroup {
            guard depth < LibertySyntax.maximumDepth else { throw fail("groups nested more than \(LibertySyntax.maximumDepth) deep") }
            var g = LibertyGroup(kind: kind, arguments: arguments, line: groupLine)
            while true {
                guard let c = try peek() else { throw LibertyError("\(source):\(groupLine): group '\(kind)' not closed (missing }) ") }
                if c == UInt8(ascii: "}") { at += 1; return g }
                let name = try word("for an attribute or group in '\(kind)'")
                let statementLine = line
                guard let next = try peek() else { throw fail("'\(name)' is cut off by the end of the file") }
                if next == UInt8(ascii: ":") {
                    at += 1
                    let v = try value("for attribute '\(name)'")
                    try expect(";", "after the value of '\(name)'")
                    g.attributes.append(LibertyAttribute(name: name, values: [v], isComplex: false, line: statementLine))
                } else if next == UInt8(ascii: "(") {
                    let args = try self.arguments(of: name)
                    guard let after = try peek() else { throw fail("'\(name)(…)' is cut off by the end of the file") }
                    if after == UInt8(ascii: "{") {
                        at += 1
                        g.groups.append(try body(kind: name, arguments: args, line: statementLine, depth: depth + 1))
                    } else {
                        try expect(";", "after '\(name)(…)'")
                        g.attributes.append(LibertyAttribute(name: name, values: args, isComplex: true, line: statementLine))
                    }
                } else {
                    throw fail("expected ':' or '(' after '\(name)', found '\(Character(UnicodeScalar(next)))'")
                }
            }
        }
    }
}
