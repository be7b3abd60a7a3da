/// Writes a Value Change Dump (IEEE 1364 §18) of named buses of one simulated instance, for
/// GTKWave (docs/mac.md, "Waveforms"). Cycle c spans times 2c and 2c + 1: at 2c the values of
/// the cycle (inputs, combinational outputs and register outputs, sampled after `evaluate`)
/// with `clk` low, at 2c + 1 the rising edge that ends it (`clk` high). `rst` shows the
/// synchronous reset presented in the cycle. Signals sit in nested scopes (`scopes[i]`, e.g.
/// block, then lane), written only when they change.
public final class VCDWriter {
    public let signals: [(name: String, bus: Bus)]
    public let instance: Int
    public private(set) var text = ""
    /// Cycles recorded (`finish` fixes it): the waveform lasts 2 · cycles time units.
    public private(set) var cycles = 0
    var last: [UInt64?]
    var lastReset: Bool?
    let identifiers: [String]
    let clockIdentifier: String, resetIdentifier: String

    public init(signals: [(name: String, bus: Bus)], scopes: [[String]]? = nil, instance: Int = 0, module: String = "dintsim") {
        precondition(scopes.map { $0.count == signals.count } ?? true, "one scope path per signal")
        self.signals = signals
        self.instance = instance
        last = Array(repeating: nil, count: signals.count)
        identifiers = signals.indices.map(Self.identifier)
        clockIdentifier = Self.identifier(signals.count)
        resetIdentifier = Self.identifier(signals.count + 1)
        text = "$date dintsim $end\n$version dintsim VCD writer $end\n$timescale 1ns $end\n$scope module \(Self.sanitize(module)) $end\n"
        text += "$var wire 1 \(clockIdentifier) clk $end\n$var wire 1 \(resetIdentifier) rst $end\n"
        // Signals grouped by scope path, paths in first-appearance order.
        let paths = scopes ?? Array(repeating: [], count: signals.count)
        var order: [[String]] = []
        for p in paths where !order.contains(p) { order.append(p) }
        for path in order {
            for name in path { text += "$scope module \(Self.sanitize(name)) $end\n" }
            for (i, s) in signals.enumerated() where paths[i] == path {
                text += "$var wire \(s.bus.count) \(identifiers[i]) \(Self.sanitize(s.name))\(s.bus.count > 1 ? " [\(s.bus.count - 1):0]" : "") $end\n"
            }
            for _ in path { text += "$upscope $end\n" }
        }
        text += "$upscope $end\n$enddefinitions $end\n"
    }

    /// Scope paths for a netlist's signals: the block each was named in, then `<index>k` for a
    /// name ending in a number k < `count` when `count` > 1 (a lane of an N-lane PE, an element
    /// of a decoder tile).
    public static func scopes(_ netlist: Netlist, index: String, count: Int) -> [[String]] {
        zip(netlist.signals, netlist.signalBlocks).map { s, block in
            let digits = s.name.reversed().prefix { $0.isNumber }
            guard count > 1, !digits.isEmpty, digits.count < s.name.count, let k = Int(String(digits.reversed())), k < count else { return [block] }
            return [block, "\(index)\(k)"]
        }
    }

    /// VCD identifiers: printable ASCII 33…126, base 94.
    static func identifier(_ i: Int) -> String {
        var n = i, s = ""
        repeat { s.append(Character(Unicode.Scalar(UInt8(33 + n % 94)))); n /= 94 } while n > 0
        return s
    }

    static func sanitize(_ name: String) -> String { String(name.map { $0 == " " ? "_" : $0 }) }

    /// Records cycle `cycle` (one call per cycle, after `evaluate`; `reset`: rst presented in it).
    public func sample(_ sim: Simulator, time cycle: Int, reset: Bool = false) {
        var changes = "0\(clockIdentifier)\n"
        if lastReset != reset { lastReset = reset; changes += "\(reset ? 1 : 0)\(resetIdentifier)\n" }
        for (i, s) in signals.enumerated() {
            var v: UInt64 = 0
            for (bit, node) in s.bus.enumerated() where (sim.word(node) >> UInt64(instance)) & 1 == 1 { v |= 1 << UInt64(bit) }
            if last[i] != v {
                last[i] = v
                if s.bus.count == 1 { changes += "\(v)\(identifiers[i])\n" }
                else { changes += "b\(String(v, radix: 2)) \(identifiers[i])\n" }
            }
        }
        text += "#\(2 * cycle)\n" + changes + "#\(2 * cycle + 1)\n1\(clockIdentifier)\n"
        cycles = max(cycles, cycle + 1)
    }

    /// Ends the waveform after `cycles` cycles (time 2 · cycles).
    public func finish(cycles n: Int) {
        cycles = n
        text += "#\(2 * n)\n"
    }
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
