import Foundation
import Formats

/// Deterministic property checking with shrinking.
///
/// Why not swift-property-based's `propertyCheck`: in 2.0.1 it seeds every run from the system
/// random source, and its fixed-seed trait always records an issue, so a run cannot be both
/// reproducible and green. Our rule is "same seed, same cases, on every machine": case i of a
/// check draws from `CounterStream(seed: CounterRandom.mix(seed, i))`, so any failing case is
/// reproduced by its (seed, index) alone.
public struct PropertyFailure<Input>: CustomStringConvertible {
    public let seed: UInt64
    public let caseIndex: Int
    public let original: Input
    public let shrunk: Input
    public let shrinkSteps: Int
    public let message: String

    public var description: String {
        "property failed on case \(caseIndex) of seed \(seed): \(message)\n  input: \(shrunk)"
            + (shrinkSteps > 0 ? "\n  (shrunk in \(shrinkSteps) steps from \(original))" : "")
    }
}

public struct PropertyReport<Input>: CustomStringConvertible {
    public let cases: Int
    public let failure: PropertyFailure<Input>?
    public var passed: Bool { failure == nil }
    public var description: String { failure.map(\.description) ?? "\(cases) cases passed" }
}

/// The share of each check's cases to run, from the environment variable
/// `DINTSIM_PROPERTY_FRACTION` (a number in (0, 1]; unset: 1). A check then runs the first
/// ⌈count · fraction⌉ of its cases — at least 100, or all of them when it has fewer — which are
/// the same cases, with the same seeds, as the full run's first ones. CI's AddressSanitizer suite
/// sets 0.25: it looks for memory errors, which every case's code path shows; the plain suite runs
/// every case (docs/robustness.md).
public let propertyCaseFraction: Double = {
    guard let text = ProcessInfo.processInfo.environment["DINTSIM_PROPERTY_FRACTION"] else { return 1 }
    guard let f = Double(text), f > 0, f <= 1 else {
        fatalError("DINTSIM_PROPERTY_FRACTION=\(text): give a number in (0, 1], e.g. 0.25, or unset it for every case")
    }
    return f
}()

/// The number of cases a check of `count` cases runs under `propertyCaseFraction`.
public func propertyCaseCount(_ count: Int) -> Int {
    propertyCaseFraction == 1 || count <= 100 ? count : max(100, Int((Double(count) * propertyCaseFraction).rounded(.up)))
}

/// Runs `property` on `count` generated inputs (scaled by `propertyCaseFraction`). `property` returns nil when it holds, or a
/// description of what went wrong. On failure, `shrink` proposes simpler inputs, and the first
/// that still fails is taken, repeatedly (greedy, at most 2000 steps).
public func checkProperty<Input>(
    seed: UInt64, count: Int,
    generate: (inout CounterStream) -> Input,
    shrink: (Input) -> [Input] = { _ in [] },
    _ property: (Input) -> String?
) -> PropertyReport<Input> {
    let count = propertyCaseCount(count)
    for i in 0..<count {
        var stream = CounterStream(seed: CounterRandom.mix(seed, UInt64(i)))
        let input = generate(&stream)
        guard var message = property(input) else { continue }
        var current = input
        var steps = 0
        shrinking: while steps < 2000 {
            for candidate in shrink(current) {
                if let m = property(candidate) {
                    current = candidate; message = m; steps += 1
                    continue shrinking
                }
            }
            break
        }
        return PropertyReport(cases: i + 1, failure: PropertyFailure(
            seed: seed, caseIndex: i, original: input, shrunk: current, shrinkSteps: steps, message: message))
    }
    return PropertyReport(cases: count, failure: nil)
}

/// Generators over `CounterStream`.
public enum Generate {
    public static func int(_ range: ClosedRange<Int>, _ s: inout CounterStream) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        return range.lowerBound + Int(span == 0 ? s.next() : s.next() % span)
    }

    public static func bool(_ s: inout CounterStream) -> Bool { s.next() & 1 == 1 }

    /// A finite binary32 with a uniformly drawn binary exponent in `exponents` (so tiny and huge
    /// magnitudes are as likely as ordinary ones), a random significand and sign. Exponents
    /// below −126 give subnormals.
    public static func float(exponents: ClosedRange<Int> = -149...127, _ s: inout CounterStream) -> Float {
        let e = int(exponents, &s)
        let significand = Float(bitPattern: 0x3F80_0000 | UInt32(truncatingIfNeeded: s.next()) & 0x007F_FFFF)
        let v = Float(sign: bool(&s) ? .minus : .plus, exponent: e, significand: significand)
        return v.isFinite ? v : (v > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude)
    }

    /// A positive binary32 scale.
    public static func scale(exponents: ClosedRange<Int> = -140...120, _ s: inout CounterStream) -> Float {
        abs(float(exponents: exponents, &s))
    }

    /// A value on or within a few ulps of a decision boundary of `format` at `scale`: a level,
    /// or the midpoint of two adjacent levels (a tie for the nearest rules), or far outside the
    /// range (saturation). Where the exact boundary is not a binary32 value the nearest one is taken.
    public static func nearBoundary(of format: LevelFormat, scale: Float, _ s: inout CounterStream) -> Float {
        let l = format.sortedLevels
        let j = int(0...(l.count - 1), &s)
        let pick = int(0...5, &s)
        let quarterSteps: Double
        switch pick {
        case 0, 1: quarterSteps = Double(2 * l[j])                              // a level
        case 2, 3, 4: quarterSteps = Double(l[j] + l[min(j + 1, l.count - 1)]) // a midpoint
        default: quarterSteps = Double(2 * l[j]) * Double(int(1...4, &s))        // beyond the range
        }
        var x = Float(quarterSteps / 4 * Double(scale))
        for _ in 0..<int(0...3, &s) { x = bool(&s) ? x.nextUp : x.nextDown }
        return x.isFinite ? x : .greatestFiniteMagnitude
    }
}

/// Shrinkers: simpler candidates first.
public enum Shrink {
    /// Towards 0, ±1, fewer significand bits and smaller exponents.
    public static func float(_ x: Float) -> [Float] {
        guard x != 0 else { return [] }
        var out: [Float] = [0]
        if abs(x) != 1 { out.append(x < 0 ? -1 : 1) }
        if x < 0 { out.append(-x) }
        let rounded = x.rounded(.towardZero)
        if rounded != x { out.append(rounded) }
        // Clear the lowest set significand bits.
        let bits = x.bitPattern
        let cleared = bits & (bits &- 1)
        if cleared != bits, Float(bitPattern: cleared).isFinite { out.append(Float(bitPattern: cleared)) }
        if (x / 2).isFinite && x / 2 != x && x / 2 != 0 { out.append(x / 2) }
        return out
    }

    /// Shrinks each component in turn.
    public static func pair<A, B>(_ p: (A, B), _ sa: (A) -> [A], _ sb: (B) -> [B]) -> [(A, B)] {
        sa(p.0).map { ($0, p.1) } + sb(p.1).map { (p.0, $0) }
    }
}
