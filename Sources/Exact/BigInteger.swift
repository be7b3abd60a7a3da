import CGMP

/// An arbitrary-precision integer backed by GMP's `mpz_t`.
///
/// Values are immutable: every operation allocates a fresh GMP object, owned by a class whose
/// `deinit` releases it, so the type has value semantics and cannot leak or alias GMP memory.
public struct BigInteger: Sendable, Hashable, Comparable, CustomStringConvertible {
    final class Storage: @unchecked Sendable { // immutable after init
        let pointer: UnsafeMutablePointer<__mpz_struct>
        init() {
            pointer = .allocate(capacity: 1)
            __gmpz_init(pointer)
        }
        deinit {
            __gmpz_clear(pointer)
            pointer.deallocate()
        }
    }

    let storage: Storage
    var raw: UnsafePointer<__mpz_struct> { UnsafePointer(storage.pointer) }

    /// Builds a value by letting `body` write into a freshly initialised `mpz_t`.
    init(_ body: (UnsafeMutablePointer<__mpz_struct>) -> Void) {
        storage = Storage()
        body(storage.pointer)
    }

    public init(_ value: Int) {
        self.init { __gmpz_set_si($0, value) }
    }

    /// Parses a base-10 integer with optional leading '-'; nil if malformed.
    public init?(_ text: String) {
        let s = Storage()
        let ok = text.withCString { __gmpz_set_str(s.pointer, $0, 10) } == 0
        guard ok, !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "+" }) else { return nil }
        storage = s
    }

    public var signum: Int { Int(raw.pointee._mp_size.signum()) }

    /// The value as an Int if it fits.
    public var intValue: Int? { __gmpz_fits_slong_p(raw) != 0 ? __gmpz_get_si(raw) : nil }

    /// Number of bits of |self| (0 for zero).
    public var magnitudeBitWidth: Int { signum == 0 ? 0 : Int(__gmpz_sizeinbase(raw, 2)) }

    public var description: String {
        guard let c = __gmpz_get_str(nil, 10, raw) else { return "?" }
        defer { free(c) }
        return String(cString: c)
    }

    public static func + (a: BigInteger, b: BigInteger) -> BigInteger { BigInteger { __gmpz_add($0, a.raw, b.raw) } }
    public static func - (a: BigInteger, b: BigInteger) -> BigInteger { BigInteger { __gmpz_sub($0, a.raw, b.raw) } }
    public static func * (a: BigInteger, b: BigInteger) -> BigInteger { BigInteger { __gmpz_mul($0, a.raw, b.raw) } }
    public static prefix func - (a: BigInteger) -> BigInteger { BigInteger { __gmpz_neg($0, a.raw) } }

    /// self · 2^k (k ≥ 0).
    public func shiftedLeft(_ k: Int) -> BigInteger {
        precondition(k >= 0)
        return BigInteger { __gmpz_mul_2exp($0, raw, mp_bitcnt_t(k)) }
    }

    /// ⌊√self⌋ (self ≥ 0).
    public var squareRootFloor: BigInteger {
        precondition(signum >= 0, "square root of a negative integer")
        return BigInteger { __gmpz_sqrt($0, raw) }
    }

    /// Floor division and the matching non-negative remainder (divisor > 0).
    public func floorDivided(by d: BigInteger) -> (quotient: BigInteger, remainder: BigInteger) {
        precondition(d.signum > 0, "divisor must be positive")
        let r = Storage()
        let q = BigInteger { __gmpz_fdiv_qr($0, r.pointer, raw, d.raw) }
        return (q, BigInteger(storage: r))
    }

    init(storage: Storage) { self.storage = storage }

    public func isBitSet(_ bit: Int) -> Bool { __gmpz_tstbit(raw, mp_bitcnt_t(bit)) != 0 }

    public static func == (a: BigInteger, b: BigInteger) -> Bool { __gmpz_cmp(a.raw, b.raw) == 0 }
    public static func < (a: BigInteger, b: BigInteger) -> Bool { __gmpz_cmp(a.raw, b.raw) < 0 }
    public func hash(into h: inout Hasher) { h.combine(description) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
