import CGMP
import Formats

/// An exact rational number backed by GMP's `mpq_t`, always in canonical form (lowest terms,
/// positive denominator). Immutable with value semantics, like `BigInteger`.
public struct Rational: Sendable, Hashable, Comparable, CustomStringConvertible {
    final class Storage: @unchecked Sendable { // immutable after init
        let pointer: UnsafeMutablePointer<__mpq_struct>
        init() {
            pointer = .allocate(capacity: 1)
            __gmpq_init(pointer)
        }
        deinit {
            __gmpq_clear(pointer)
            pointer.deallocate()
        }
    }

    let storage: Storage
    var raw: UnsafePointer<__mpq_struct> { UnsafePointer(storage.pointer) }

    init(_ body: (UnsafeMutablePointer<__mpq_struct>) -> Void) {
        storage = Storage()
        body(storage.pointer)
    }

    public static let zero = Rational(0)
    public static let one = Rational(1)

    public init(_ value: Int) { self.init { __gmpq_set_si($0, value, 1) } }

    /// numerator / denominator; the denominator must not be zero.
    public init(_ numerator: BigInteger, _ denominator: BigInteger) {
        precondition(denominator.signum != 0, "zero denominator")
        self.init { q in
            __gmpz_set(&q.pointee._mp_num, numerator.raw)
            __gmpz_set(&q.pointee._mp_den, denominator.raw)
            __gmpq_canonicalize(q)
        }
    }

    public init(_ numerator: Int, _ denominator: Int) {
        self.init(BigInteger(numerator), BigInteger(denominator))
    }

    public init(_ integer: BigInteger) { self.init(integer, BigInteger(1)) }

    /// The exact value of a finite Double (every FP32/FP16/BF16 value is one); nil for NaN/±∞.
    public init?(exactly x: Double) {
        guard x.isFinite else { return nil }
        self.init { __gmpq_set_d($0, x) }
    }

    /// The exact value of the float encoded by `bits` in `format`; nil for NaN/±∞.
    public init?(bits: UInt32, format: BinaryFloatFormat) {
        self.init(exactly: format.decode(bits))
    }

    /// Parses "a" or "a/b" (base 10); nil if malformed or b = 0.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let n = BigInteger(String(parts[0])) else { return nil }
        let d = parts.count == 2 ? BigInteger(String(parts[1])) : BigInteger(1)
        guard let d, d.signum != 0 else { return nil }
        self.init(n, d)
    }

    public var numerator: BigInteger { BigInteger { __gmpz_set($0, &storage.pointer.pointee._mp_num) } }
    public var denominator: BigInteger { BigInteger { __gmpz_set($0, &storage.pointer.pointee._mp_den) } }
    public var signum: Int { Int(raw.pointee._mp_num._mp_size.signum()) }
    public var isInteger: Bool { __gmpz_cmp_si(&storage.pointer.pointee._mp_den, 1) == 0 }
    public var magnitude: Rational { signum < 0 ? -self : self }

    /// The nearest Double (GMP truncates; used only for display, never for decisions).
    public var approximateDouble: Double { __gmpq_get_d(raw) }

    public var description: String {
        guard let c = __gmpq_get_str(nil, 10, raw) else { return "?" }
        defer { free(c) }
        return String(cString: c)
    }

    public static func + (a: Rational, b: Rational) -> Rational { Rational { __gmpq_add($0, a.raw, b.raw) } }
    public static func - (a: Rational, b: Rational) -> Rational { Rational { __gmpq_sub($0, a.raw, b.raw) } }
    public static func * (a: Rational, b: Rational) -> Rational { Rational { __gmpq_mul($0, a.raw, b.raw) } }
    public static func / (a: Rational, b: Rational) -> Rational {
        precondition(b.signum != 0, "division by zero")
        return Rational { __gmpq_div($0, a.raw, b.raw) }
    }
    public static prefix func - (a: Rational) -> Rational { Rational { __gmpq_neg($0, a.raw) } }

    /// self · 2^k for any integer k.
    public func timesPowerOfTwo(_ k: Int) -> Rational {
        k >= 0 ? Rational { __gmpq_mul_2exp($0, raw, mp_bitcnt_t(k)) }
               : Rational { __gmpq_div_2exp($0, raw, mp_bitcnt_t(-k)) }
    }

    /// ⌊self⌋ and self − ⌊self⌋ ∈ [0, 1).
    public var floorAndFraction: (floor: BigInteger, fraction: Rational) {
        let (q, r) = numerator.floorDivided(by: denominator)
        return (q, Rational(r, denominator))
    }

    /// ⌊log2 |self|⌋ for self ≠ 0.
    public var binaryExponent: Int {
        precondition(signum != 0)
        let m = magnitude
        var e = m.numerator.magnitudeBitWidth - m.denominator.magnitudeBitWidth
        // 2^e ≤ |self| < 2^(e+1) after at most one correction.
        if m < Rational.one.timesPowerOfTwo(e) { e -= 1 }
        return e
    }

    public static func == (a: Rational, b: Rational) -> Bool { __gmpq_equal(a.raw, b.raw) != 0 }
    public static func < (a: Rational, b: Rational) -> Bool { __gmpq_cmp(a.raw, b.raw) < 0 }
    public func hash(into h: inout Hasher) { h.combine(description) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
