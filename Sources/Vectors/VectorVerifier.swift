import Foundation
import TensorIO

/// Outcome of `vectors verify` or `check`: counts and the mismatch messages (capped).
public struct CheckReport: Sendable {
    public var passed = 0
    public var failed = 0
    public var messages = [String]()
    public var summary: String { "\(passed) passed, \(failed) failed" }
    mutating func fail(_ message: String, limit: Int) {
        failed += 1
        if messages.count < limit { messages.append(message) } else if messages.count == limit { messages.append("… further mismatches not shown") }
    }
}

public enum VectorVerifier {
    /// Recomputes every checksum, every expected output and flag (by the unit's exact reference)
    /// and the inputs themselves (by the generator for the manifest's seed); the JSON-lines twin
    /// must carry the same values as the hex file. Malformed files throw.
    public static func verify(directory: String, errorLimit: Int = 20) throws -> CheckReport {
        let manifest = try VectorManifest(directory: directory)
        var report = CheckReport()
        for (name, expected) in manifest.files.sorted(by: { $0.key < $1.key }) {
            let sum = try checksum(directory + "/" + name)
            if sum != expected { report.fail("\(name): sha256 \(sum) differs from the manifest's \(expected)", limit: errorLimit) }
        }
        // Contents that are not what the manifest describes are not worth reading further.
        if report.failed > 0 { return report }
        let unit = manifest.unit, layout = unit.layout
        let hex = try LineReader(path: directory + "/" + VectorFiles.hex)
        let jsonl = try LineReader(path: directory + "/" + VectorFiles.jsonl)
        let range = manifest.shard.range(of: unit.caseCount(level: manifest.level, count: manifest.count))
        var expectedCase = range.lowerBound
        var pending: VectorCase? = nil
        var lines = 0

        func finish(_ c: VectorCase) {
            let reference = unit.makeCase(c.index, seed: manifest.seed)
            let exact = unit.exact(c)
            var ok = reference.category == c.category && reference.lines.count == c.lines.count
            if !ok { report.fail("case \(c.index): not the case the generator makes for seed \(manifest.seed) (category or length differs)", limit: errorLimit) }
            for (k, v) in c.lines.enumerated() where ok {
                let firstOutput = layout.outputRange.lowerBound
                if Array(v[..<firstOutput]) != Array(reference.lines[k][..<firstOutput]) {
                    report.fail("case \(c.index) step \(k): inputs differ from the generator's for seed \(manifest.seed)", limit: errorLimit); ok = false
                } else if Array(v[layout.outputRange]) != exact.outputs[k] {
                    report.fail("case \(c.index) step \(k): expected \(layout.describe(v, layout.outputRange)) but the exact reference gives \(layout.describe(exact.outputs[k], layout.outputRange, offset: firstOutput))", limit: errorLimit); ok = false
                } else if v[v.count - 1] != exact.flags[k] {
                    report.fail("case \(c.index) step \(k): flags \(v[v.count - 1]) but the exact reference gives \(exact.flags[k])", limit: errorLimit); ok = false
                }
            }
            if ok { report.passed += 1 }
        }

        while let h = try hex.next() {
            guard let j = try jsonl.next() else { throw VectorError.malformed("\(VectorFiles.jsonl): ends at line \(jsonl.lineNumber), before \(VectorFiles.hex)") }
            let values: [UInt64]
            switch layout.parseHex(h, 0..<layout.valueCount) {
            case .success(let v): values = v
            case .failure(let e): throw VectorError.malformed("\(VectorFiles.hex) line \(hex.lineNumber): \(e)")
            }
            let (index, step, category) = try parseJSONLine(j, layout: layout, values: values, line: jsonl.lineNumber)
            if pending?.index != index {
                if let p = pending { finish(p) }
                guard index == expectedCase, step == 0 else {
                    throw VectorError.malformed("\(VectorFiles.jsonl) line \(jsonl.lineNumber): case \(index) step \(step) where case \(expectedCase) step 0 was due")
                }
                expectedCase += 1
                pending = VectorCase(index: index, category: category, lines: [])
            } else if step != pending!.lines.count {
                throw VectorError.malformed("\(VectorFiles.jsonl) line \(jsonl.lineNumber): step \(step) out of order")
            }
            pending!.lines.append(values)
            lines += 1
        }
        if let p = pending { finish(p) }
        if try jsonl.next() != nil { throw VectorError.malformed("\(VectorFiles.jsonl): has lines beyond \(VectorFiles.hex)'s \(lines)") }
        if expectedCase != range.upperBound { report.fail("only cases \(range.lowerBound)..<\(expectedCase) present; the manifest's shard holds \(range)", limit: errorLimit) }
        if lines != manifest.lines { report.fail("\(lines) lines, the manifest says \(manifest.lines)", limit: errorLimit) }
        return report
    }

    static func checksum(_ path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { throw VectorError.malformed("\(path): listed in the manifest but cannot be read") }
        defer { try? h.close() }
        var hasher = SHA256()
        while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
    }

    /// The JSON twin of one line must name the same values as the hex line.
    static func parseJSONLine(_ text: Substring, layout: VectorLayout, values: [UInt64], line: Int) throws -> (Int, Int, String) {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let index = o["case"] as? Int, let step = o["step"] as? Int, let category = (o["category"] as? String) ?? (step > 0 ? "" : nil) else {
            throw VectorError.malformed("\(VectorFiles.jsonl) line \(line): not an object with case, step (and category on step 0)")
        }
        var i = 0
        for f in layout.fields {
            let got: [UInt64]?
            if f.count == 1 { got = (o[f.name] as? NSNumber).map { [$0.uint64Value] } } else { got = (o[f.name] as? [NSNumber])?.map(\.uint64Value) }
            guard let got, got == Array(values[i..<(i + f.count)]) else {
                throw VectorError.malformed("\(VectorFiles.jsonl) line \(line): field '\(f.name)' differs from \(VectorFiles.hex)")
            }
            i += f.count
        }
        return (index, step, category)
    }
}

extension VectorLayout {
    /// `name=hex` for the values in `range` (values indexed from `offset`).
    func describe(_ values: [UInt64], _ range: Range<Int>, offset: Int = 0) -> String {
        let names = elementNames
        return range.map { i in
            let e = names[i]
            return "\(e.name)=" + String(values[i - offset], radix: 16).leftPadded(to: (e.width + 3) / 4)
        }.joined(separator: " ")
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// Compares a DUT's dump with a vector set (docs/vectors.md, "Dump format").
public enum DumpChecker {
    public static func check(directory: String, dump: String, errorLimit: Int = 20) throws -> CheckReport {
        let manifest = try VectorManifest(directory: directory)
        let layout = manifest.unit.layout
        let outputs = layout.outputRange
        let names = layout.elementNames
        let flagNames = manifest.unit.flagNames
        let vectors = try LineReader(path: directory + "/" + VectorFiles.hex)
        let observed = try LineReader(path: dump)
        var report = CheckReport()
        var cycle = 0
        func nextDumpLine() throws -> Substring? {
            while let l = try observed.next() {
                let t = l.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("//") || t.hasPrefix("#") { continue }
                return Substring(t)
            }
            return nil
        }
        while let v = try vectors.next() {
            let values: [UInt64]
            switch layout.parseHex(v, 0..<layout.valueCount) {
            case .success(let x): values = x
            case .failure(let e): throw VectorError.malformed("\(VectorFiles.hex) line \(vectors.lineNumber): \(e)")
            }
            guard let d = try nextDumpLine() else {
                let missing = manifest.lines - cycle
                report.failed += missing
                report.messages.append("dump ends after \(cycle) of \(manifest.lines) lines: \(missing) counted as failed")
                return report
            }
            let got: [UInt64]
            switch layout.parseHex(d, outputs) {
            case .success(let x): got = x
            case .failure(let e): throw VectorError.malformed("\(dump) line \(observed.lineNumber): \(e)")
            }
            let expected = Array(values[outputs])
            if got == expected { report.passed += 1 } else {
                let inputs = layout.describe(values, 0..<outputs.lowerBound)
                var differing = [String]()
                for (k, i) in outputs.enumerated() where got[k] != expected[k] {
                    let x = got[k] ^ expected[k]
                    differing.append("\(names[i].name)[" + (0..<64).reversed().filter { x >> UInt64($0) & 1 == 1 }.map(String.init).joined(separator: ",") + "]")
                }
                let flags = values[values.count - 1]
                let flagText = flagNames.indices.filter { flags >> UInt64($0) & 1 == 1 }.map { flagNames[$0] }.joined(separator: ",")
                report.fail("cycle \(cycle): \(inputs) => \(layout.describe(got, outputs, offset: outputs.lowerBound)) expected: \(layout.describe(values, outputs)) (bits differ: \(differing.joined(separator: " ")))" + (flagText.isEmpty ? "" : " flags: \(flagText)"), limit: errorLimit)
            }
            cycle += 1
        }
        if try nextDumpLine() != nil { throw VectorError.malformed("\(dump): more lines than the \(cycle) vectors") }
        return report
    }
}
