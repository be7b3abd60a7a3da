/// A Liberty `function` expression (`"(!((S A) + (!S B)))"`, `"A^B"`, `"IQ"`).
///
/// Operators, loosest first (the precedence of OpenSTA's Liberty expression grammar):
/// `+` and `|` (or), `*`, `&` and juxtaposition (and), `^` (xor), then prefix `!` and postfix `'`
/// (not). Constants `0` and `1`; names are pins or flip-flop state variables.
public indirect enum BooleanFunction: Sendable, Equatable, CustomStringConvertible {
    case constant(Bool)
    case variable(String)
    case not(BooleanFunction)
    case and(BooleanFunction, BooleanFunction)
    case or(BooleanFunction, BooleanFunction)
    case xor(BooleanFunction, BooleanFunction)

    public var description: String {
        switch self {
        case .constant(let b): return b ? "1" : "0"
        case .variable(let v): return v
        case .not(let a): return "!\(a)"
        case .and(let a, let b): return "(\(a) \(b))"
        case .or(let a, let b): return "(\(a)+\(b))"
        case .xor(let a, let b): return "(\(a)^\(b))"
        }
    }

    public var variables: Set<String> {
        switch self {
        case .constant: return []
        case .variable(let v): return [v]
        case .not(let a): return a.variables
        case .and(let a, let b), .or(let a, let b), .xor(let a, let b): return a.variables.union(b.variables)
        }
    }

    /// Bit-parallel evaluation: each variable's word holds one assignment per bit.
    public func evaluate(_ value: (String) -> UInt64) -> UInt64 {
        switch self {
        case .constant(let b): return b ? ~0 : 0
        case .variable(let v): return value(v)
        case .not(let a): return ~a.evaluate(value)
        case .and(let a, let b): return a.evaluate(value) & b.evaluate(value)
        case .or(let a, let b): return a.evaluate(value) | b.evaluate(value)
        case .xor(let a, let b): return a.evaluate(value) ^ b.evaluate(value)
        }
    }

    /// The truth table over `inputs` (≤ 6): bit m is the value when input i has bit i of m.
    /// Nil when the expression names anything else.
    public func truthTable(over inputs: [String]) -> UInt64? {
        precondition(inputs.count <= 6)
        guard variables.isSubset(of: Set(inputs)) else { return nil }
        let rows = 1 << inputs.count
        let mask: UInt64 = rows == 64 ? ~0 : (1 << UInt64(rows)) - 1
        // Variable i's column: bit m set when bit i of m is set.
        func column(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for m in 0..<rows where (m >> i) & 1 == 1 { w |= 1 << UInt64(m) }
            return w
        }
        return evaluate { name in column(inputs.firstIndex(of: name)!) } & mask
    }

    public static func parse(_ text: String) throws -> BooleanFunction {
        var p = ExpressionParser(chars: Array(text.unicodeScalars), text: text)
        let e = try p.or()
        p.skip()
        guard p.at == p.chars.count else { throw LibertyError("function \"\(text)\": unexpected '\(p.chars[p.at])'") }
        return e
    }

    struct ExpressionParser {
        let chars: [Unicode.Scalar]
        let text: String
        var at = 0
        mutating func skip() { while at < chars.count && (chars[at] == " " || chars[at] == "\t") { at += 1 } }
        func fail(_ why: String) -> LibertyError { LibertyError("function \"\(text)\": \(why)") }
        var depth = 0

        mutating func or() throws -> BooleanFunction {
            var left = try and()
            while true {
                skip()
                guard at < chars.count, chars[at] == "+" || chars[at] == "|" else { return left }
                at += 1
                left = .or(left, try and())
            }
        }

        mutating func and() throws -> BooleanFunction {
            var left = try xor()
            while true {
                skip()
                guard at < chars.count else { return left }
                let c = chars[at]
                if c == "*" || c == "&" { at += 1; left = .and(left, try xor()); continue }
                // Juxtaposition: another operand starts here.
                if c == "(" || c == "!" || Self.isNameByte(c) { left = .and(left, try xor()); continue }
                return left
            }
        }

        mutating func xor() throws -> BooleanFunction {
            var left = try unary()
            while true {
                skip()
                guard at < chars.count, chars[at] == "^" else { return left }
                at += 1
                left = .xor(left, try unary())
            }
        }

        mutating func unary() throws -> BooleanFunction {
            skip()
            guard at < chars.count else { throw fail("an operand is missing at the end") }
            var e: BooleanFunction
            let c = chars[at]
            if c == "!" {
                at += 1
                e = .not(try unary())
            } else if c == "(" {
                depth += 1
                guard depth <= 64 else { throw fail("parentheses nested more than 64 deep") }
                at += 1
                e = try or()
                skip()
                guard at < chars.count, chars[at] == ")" else { throw fail("'(' not closed") }
                at += 1
                depth -= 1
            } else if Self.isNameByte(c) {
                let start = at
                while at < chars.count && Self.isNameByte(chars[at]) { at += 1 }
                let name = String(String.UnicodeScalarView(chars[start..<at]))
                e = name == "0" ? .constant(false) : name == "1" ? .constant(true) : .variable(name)
            } else {
                throw fail("unexpected '\(c)'")
            }
            while true {
                skip()
                guard at < chars.count, chars[at] == "'" else { return e }
                at += 1
                e = .not(e)
            }
        }

        static func isNameByte(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "[" || c == "]" || c == "."
        }
    }
}
