/// Writes a Value Change Dump (IEEE 1364 §18) of named buses of one simulated instance, for
/// GTKWave. One time unit = one clock cycle; values are sampled after `evaluate` (so inputs,
/// combinational outputs and register outputs of that cycle), written only when they change.
public final class VCDWriter {
    public let signals: [(name: String, bus: Bus)]
    public let instance: Int
    public private(set) var text = ""
    var last: [UInt64?]
    let identifiers: [String]
    var headerWritten = false

    public init(signals: [(name: String, bus: Bus)], instance: Int = 0, module: String = "dintsim") {
        self.signals = signals
        self.instance = instance
        last = Array(repeating: nil, count: signals.count)
        identifiers = signals.indices.map(Self.identifier)
        text = "$date dintsim $end\n$version dintsim VCD writer $end\n$timescale 1ns $end\n$scope module \(module) $end\n"
        for (i, s) in signals.enumerated() {
            text += "$var wire \(s.bus.count) \(identifiers[i]) \(Self.sanitize(s.name))\(s.bus.count > 1 ? " [\(s.bus.count - 1):0]" : "") $end\n"
        }
        text += "$upscope $end\n$enddefinitions $end\n"
    }

    /// VCD identifiers: printable ASCII 33…126, base 94.
    static func identifier(_ i: Int) -> String {
        var n = i, s = ""
        repeat { s.append(Character(Unicode.Scalar(UInt8(33 + n % 94)))); n /= 94 } while n > 0
        return s
    }

    static func sanitize(_ name: String) -> String { String(name.map { $0 == " " ? "_" : $0 }) }

    /// Records the values at `time` (one call per cycle, after `evaluate`).
    public func sample(_ sim: Simulator, time: Int) {
        var changes = ""
        for (i, s) in signals.enumerated() {
            var v: UInt64 = 0
            for (bit, node) in s.bus.enumerated() where (sim.word(node) >> UInt64(instance)) & 1 == 1 { v |= 1 << UInt64(bit) }
            if last[i] != v {
                last[i] = v
                if s.bus.count == 1 { changes += "\(v)\(identifiers[i])\n" }
                else { changes += "b\(String(v, radix: 2)) \(identifiers[i])\n" }
            }
        }
        if !changes.isEmpty { text += "#\(time)\n" + changes }
    }

    public func finish(time: Int) { text += "#\(time)\n" }
}

/// Reads back a VCD written by `VCDWriter` (or any VCD with wire vectors of ≤ 64 bits):
/// signal name → (time, value) changes in order.
public enum VCDReader {
    public enum Failure: Error, CustomStringConvertible {
        case malformed(line: Int, String)
        public var description: String { if case .malformed(let l, let s) = self { return "VCD line \(l): \(s)" }; return "" }
    }

    public static func parse(_ text: String) throws -> [String: [(time: Int, value: UInt64)]] {
        var names: [String: String] = [:] // identifier → name
        var out: [String: [(time: Int, value: UInt64)]] = [:]
        var time = 0
        var inDefinitions = true
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = trimmed(raw)
            if line.isEmpty { continue }
            if inDefinitions {
                let words = line.split(separator: " ").map(String.init)
                if words.first == "$var" {
                    guard words.count >= 6 else { throw Failure.malformed(line: number + 1, "short $var") }
                    names[words[3]] = words[4]
                    out[words[4]] = []
                } else if words.first == "$enddefinitions" { inDefinitions = false }
                continue
            }
            if line.hasPrefix("#") {
                guard let t = Int(line.dropFirst()) else { throw Failure.malformed(line: number + 1, "bad time") }
                time = t
            } else if line.hasPrefix("b") {
                let parts = line.dropFirst().split(separator: " ")
                guard parts.count == 2, let v = UInt64(parts[0], radix: 2), let name = names[String(parts[1])] else {
                    throw Failure.malformed(line: number + 1, "bad vector change")
                }
                out[name]!.append((time, v))
            } else if let first = line.first, first == "0" || first == "1" {
                guard let name = names[String(line.dropFirst())] else { throw Failure.malformed(line: number + 1, "unknown identifier") }
                out[name]!.append((time, first == "1" ? 1 : 0))
            } else if !line.hasPrefix("$") {
                throw Failure.malformed(line: number + 1, "unexpected '\(line)'")
            }
        }
        return out
    }
}

func trimmed(_ s: Substring) -> String {
    var s = s
    while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
    return String(s)
}
