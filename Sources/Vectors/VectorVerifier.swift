import Foundation
import TensorIO

/// One failed check of `vectors verify` or `check`, for the text line and the JUnit/JSON reports.
public struct CheckFailure: Sendable, Codable {
    /// The 0-based line (= cycle) where it was seen, when it is about one line.
    public var cycle: Int?
    public var caseIndex: Int?
    public var category: String?
    public var step: Int?
    /// The line whose transaction produced the wrong output (a pipelined MAC's result appears
    /// D − 1 cycles after its inputs).
    public var transactionCycle: Int?
    public var inputs: [String: String]?
    public var observed: [String: String]?
    public var expected: [String: String]?
    /// Per differing output: the differing bit numbers, or "x" for unknown digits.
    public var bitsDiffer: [String: String]?
    public var flags: [String]?
    public var message: String

    enum CodingKeys: String, CodingKey {
        case cycle, caseIndex = "case", category, step, transactionCycle = "transaction_cycle", inputs, observed, expected
        case bitsDiffer = "bits_differ", flags, message
    }
    public init(message: String) { self.message = message }
}

/// Outcome of `vectors verify` or `check`: counts, per-category counts, and the failures
/// (the first `limit` kept).
public struct CheckReport: Sendable, Codable {
    public var passed = 0
    public var failed = 0
    /// Passed and failed per case category (lines for `check`, cases for `verify`).
    public var categories = [String: Counts]()
    public var failures = [CheckFailure]()
    /// Whether failures beyond the limit were left out.
    public var truncated = false
    public struct Counts: Sendable, Codable { public var passed = 0, failed = 0 }

    public var messages: [String] { failures.map(\.message) + (truncated ? ["… further mismatches not shown"] : []) }
    public var summary: String { "\(passed) passed, \(failed) failed" }

    mutating func pass(category: String?) {
        passed += 1
        if let category { categories[category, default: Counts()].passed += 1 }
    }
    mutating func fail(_ failure: CheckFailure, limit: Int) {
        failed += 1
        if let c = failure.category { categories[c, default: Counts()].failed += 1 }
        if failures.count < limit { failures.append(failure) } else { truncated = true }
    }
    mutating func fail(_ message: String, category: String? = nil, limit: Int) {
        var f = CheckFailure(message: message)
        f.category = category
        fail(f, limit: limit)
    }

    /// JUnit XML (the schema Jenkins, GitLab and GitHub readers accept): one test case per
    /// category, failed with its first failures' lines when any line of it failed.
    public func junit(suite: String) -> String {
        func esc(_ s: String) -> String {
            var o = ""
            for ch in s.unicodeScalars {
                switch ch {
                case "&": o += "&amp;"
                case "<": o += "&lt;"
                case ">": o += "&gt;"
                case "\"": o += "&quot;"
                default: o += ch.value < 0x20 && ch != "\n" && ch != "\t" ? " " : String(ch)
                }
            }
            return o
        }
        var cases = categories.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let uncategorised = failures.filter { $0.category == nil }
        if !uncategorised.isEmpty { cases.append(("set", Counts(passed: 0, failed: uncategorised.count))) }
        let failing = cases.filter { $0.1.failed > 0 }.count
        var o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        o += "<testsuites tests=\"\(cases.count)\" failures=\"\(failing)\">\n"
        o += "  <testsuite name=\"\(esc(suite))\" tests=\"\(cases.count)\" failures=\"\(failing)\" errors=\"0\">\n"
        for (name, counts) in cases {
            o += "    <testcase classname=\"\(esc(suite))\" name=\"\(esc(name))\">\n"
            if counts.failed > 0 {
                let lines = (name == "set" && !categories.keys.contains("set") ? uncategorised : failures.filter { $0.category == name }).map(\.message)
                o += "      <failure message=\"\(counts.failed) of \(counts.passed + counts.failed) failed\">\(esc(lines.joined(separator: "\n")))</failure>\n"
            }
            o += "      <system-out>\(counts.passed) passed, \(counts.failed) failed</system-out>\n"
            o += "    </testcase>\n"
        }
        o += "  </testsuite>\n</testsuites>\n"
        return o
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
        // The JSON-lines twin is optional (`vectors generate --no-jsonl`); when listed it must agree.
        let jsonl = manifest.files[VectorFiles.jsonl] == nil ? nil : try LineReader(path: directory + "/" + VectorFiles.jsonl)
        let range = manifest.shard.range(of: unit.caseCount(level: manifest.level, count: manifest.count))
        var expectedCase = range.lowerBound
        var pending: VectorCase? = nil
        var lines = 0
        var pendingLength = 0

        func finish(_ c: VectorCase) {
            let reference = unit.makeCase(c.index, seed: manifest.seed)
            let exact = unit.exact(c)
            var ok = reference.category == c.category && reference.lines.count == c.lines.count
            if !ok { report.fail("case \(c.index): not the case the generator makes for seed \(manifest.seed) (category or length differs)", category: c.category, limit: errorLimit) }
            for (k, v) in c.lines.enumerated() where ok {
                let firstOutput = layout.outputRange.lowerBound
                if Array(v[..<firstOutput]) != Array(reference.lines[k][..<firstOutput]) {
                    report.fail("case \(c.index) step \(k): inputs differ from the generator's for seed \(manifest.seed)", category: c.category, limit: errorLimit); ok = false
                } else if Array(v[layout.outputRange]) != exact.outputs[k] {
                    report.fail("case \(c.index) step \(k): expected \(layout.describe(v, layout.outputRange)) but the exact reference gives \(layout.describe(exact.outputs[k], layout.outputRange, offset: firstOutput))", category: c.category, limit: errorLimit); ok = false
                } else if v[v.count - 1] != exact.flags[k] {
                    report.fail("case \(c.index) step \(k): flags \(v[v.count - 1]) but the exact reference gives \(exact.flags[k])", category: c.category, limit: errorLimit); ok = false
                }
            }
            if ok { report.pass(category: c.category) }
        }

        while let h = try hex.next() {
            let values: [UInt64]
            switch layout.parseHex(h, 0..<layout.valueCount) {
            case .success(let v): values = v
            case .failure(let e): throw VectorError.malformed("\(VectorFiles.hex) line \(hex.lineNumber): \(e)")
            }
            let index: Int, step: Int, category: String
            if let jsonl {
                guard let j = try jsonl.next() else { throw VectorError.malformed("\(VectorFiles.jsonl): ends at line \(jsonl.lineNumber), before \(VectorFiles.hex)") }
                (index, step, category) = try parseJSONLine(j, layout: layout, values: values, line: jsonl.lineNumber)
            } else {
                // Without the twin, case boundaries come from the generator's case lengths.
                if let p = pending, p.lines.count < pendingLength {
                    (index, step, category) = (p.index, p.lines.count, p.category)
                } else {
                    guard expectedCase < range.upperBound else { throw VectorError.malformed("\(VectorFiles.hex) line \(hex.lineNumber): beyond the last case of the manifest's shard") }
                    let reference = unit.makeCase(expectedCase, seed: manifest.seed)
                    (index, step, category, pendingLength) = (expectedCase, 0, reference.category, reference.lines.count)
                }
            }
            if pending?.index != index {
                if let p = pending { finish(p) }
                guard index == expectedCase, step == 0 else {
                    throw VectorError.malformed("\(jsonl.map { "\(VectorFiles.jsonl) line \($0.lineNumber)" } ?? "\(VectorFiles.hex) line \(hex.lineNumber)"): case \(index) step \(step) where case \(expectedCase) step 0 was due")
                }
                expectedCase += 1
                pending = VectorCase(index: index, category: category, lines: [])
            } else if step != pending!.lines.count {
                throw VectorError.malformed("\(jsonl.map { "\(VectorFiles.jsonl) line \($0.lineNumber)" } ?? "\(VectorFiles.hex) line \(hex.lineNumber)"): step \(step) out of order")
            }
            pending!.lines.append(values)
            lines += 1
        }
        if let p = pending { finish(p) }
        if let jsonl, try jsonl.next() != nil { throw VectorError.malformed("\(VectorFiles.jsonl): has lines beyond \(VectorFiles.hex)'s \(lines)") }
        if expectedCase != range.upperBound { report.fail("only cases \(range.lowerBound)..<\(expectedCase) present; the manifest's shard holds \(range)", limit: errorLimit) }
        if lines != manifest.lines { report.fail("\(lines) lines, the manifest says \(manifest.lines)", limit: errorLimit) }
        return report
    }

    static func checksum(_ path: String) throws -> String {
        let reader: FileReader
        do { reader = try FileReader(path: path) } catch { throw VectorError.malformed("\(path): listed in the manifest but cannot be read (\(ErrorText.describe(error)))") }
        var hasher = SHA256()
        while let chunk = try reader.next() { hasher.update(chunk) }
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
    /// `dump` is a regular file or "-" (standard input); anything else is refused. Every dump
    /// line is compared with the set's line of the same cycle; `x`/`z` digits are mismatches.
    /// Case numbers and categories come from the generator (the manifest's seed); a mismatch names
    /// the line whose transaction produced the output (`outputLatency` lines earlier in the case).
    public static func check(directory: String, dump: String, errorLimit: Int = 20) throws -> CheckReport {
        let manifest = try VectorManifest(directory: directory)
        let unit = manifest.unit, layout = unit.layout
        let outputs = layout.outputRange
        let names = layout.elementNames
        let flagNames = unit.flagNames
        let vectors = try LineReader(path: directory + "/" + VectorFiles.hex)
        if dump != "-" {
            guard let status = try? FileStatus.of(dump) else { throw VectorError.malformed("\(dump): no such file") }
            guard status.kind == .regular else { throw VectorError.invalid("\(dump): is \(status.kind.rawValue); --dump takes a regular file or - (standard input)") }
        }
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
        func named(_ values: [UInt64], _ range: Range<Int>, offset: Int) -> [String: String] {
            Dictionary(uniqueKeysWithValues: range.map { i in (names[i].name, String(values[i - offset], radix: 16).leftPadded(to: (names[i].width + 3) / 4)) })
        }
        let range = manifest.shard.range(of: unit.caseCount(level: manifest.level, count: manifest.count))
        for index in range {
            let reference = unit.makeCase(index, seed: manifest.seed)
            var lines = [[UInt64]]()
            for _ in reference.lines {
                guard let v = try vectors.next() else { throw VectorError.malformed("\(VectorFiles.hex): ends inside case \(index)") }
                switch layout.parseHex(v, 0..<layout.valueCount) {
                case .success(let x): lines.append(x)
                case .failure(let e): throw VectorError.malformed("\(VectorFiles.hex) line \(vectors.lineNumber): \(e)")
                }
            }
            let first = cycle
            for (step, values) in lines.enumerated() {
                defer { cycle += 1 }
                guard let d = try nextDumpLine() else {
                    let missing = manifest.lines - cycle
                    report.failed += missing
                    report.categories[reference.category, default: CheckReport.Counts()].failed += missing
                    var f = CheckFailure(message: "dump ends after \(cycle) of \(manifest.lines) lines: \(missing) counted as failed")
                    f.cycle = cycle
                    report.failures.append(f)
                    return report
                }
                let got = try parseObserved(d, layout: layout, line: observed.lineNumber, dump: dump)
                let expected = Array(values[outputs])
                if got.values == expected && got.unknown.isEmpty { report.pass(category: reference.category); continue }
                var differing = [String: String]()
                for (k, i) in outputs.enumerated() {
                    if got.unknown.contains(k) { differing[names[i].name] = "x"; continue }
                    guard got.values[k] != expected[k] else { continue }
                    let x = got.values[k] ^ expected[k]
                    differing[names[i].name] = (0..<64).reversed().filter { x >> UInt64($0) & 1 == 1 }.map(String.init).joined(separator: ",")
                }
                let transactionStep = max(0, step - unit.outputLatency)
                let transaction = lines[transactionStep]
                let flags = transaction[transaction.count - 1]
                let flagList = flagNames.indices.filter { flags >> UInt64($0) & 1 == 1 }.map { flagNames[$0] }
                var f = CheckFailure(message: "")
                f.cycle = cycle; f.caseIndex = index; f.category = reference.category; f.step = step
                f.transactionCycle = first + transactionStep
                f.inputs = named(transaction, 0..<outputs.lowerBound, offset: 0)
                f.expected = named(values, outputs, offset: 0)
                var obs = named(got.values, outputs, offset: outputs.lowerBound)
                for (k, i) in outputs.enumerated() where got.unknown.contains(k) { obs[names[i].name] = got.text[k] }
                f.observed = obs
                f.bitsDiffer = differing
                f.flags = flagList
                let order = outputs.map { names[$0].name }
                let observedText = order.map { "\($0)=\(obs[$0]!)" }.joined(separator: " ")
                let bitsText = order.compactMap { n in differing[n].map { "\(n)[\($0)]" } }.joined(separator: " ")
                let origin = transactionStep == step ? "" : " from the transaction of cycle \(first + transactionStep)"
                f.message = "cycle \(cycle) (case \(index) \(reference.category), step \(step))\(origin): \(layout.describe(transaction, 0..<outputs.lowerBound)) => \(observedText) expected: \(layout.describe(values, outputs)) (bits differ: \(bitsText))" + (flagList.isEmpty ? "" : " flags: \(flagList.joined(separator: ","))")
                report.fail(f, limit: errorLimit)
            }
        }
        if try vectors.next() != nil { throw VectorError.malformed("\(VectorFiles.hex): has lines beyond the manifest's \(range.count) cases") }
        if try nextDumpLine() != nil { throw VectorError.malformed("\(dump): more lines than the \(cycle) vectors") }
        return report
    }

    /// A dump line's output fields: values, and the elements with `x`/`z` digits (unknown).
    static func parseObserved(_ line: Substring, layout: VectorLayout, line number: Int, dump: String) throws -> (values: [UInt64], unknown: Set<Int>, text: [String]) {
        let outputs = layout.outputRange
        let parts = line.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        var unknown = Set<Int>()
        var cleaned = parts
        if parts.count == outputs.count {
            let names = layout.elementNames
            for (k, p) in parts.enumerated() where p.contains(where: { "xXzZ".contains($0) }) {
                let digits = (names[outputs.lowerBound + k].width + 3) / 4
                guard p.count == digits, p.allSatisfy({ $0.isHexDigit || "xXzZ".contains($0) }) else { continue }
                unknown.insert(k)
                cleaned[k] = String(repeating: "0", count: digits)
            }
        }
        switch layout.parseHex(Substring(cleaned.joined(separator: "_")), outputs) {
        case .success(let x): return (x, unknown, parts)
        case .failure(let e): throw VectorError.malformed("\(dump) line \(number): \(e)")
        }
    }
}
