import Foundation
import Formats
import Quantization
import TAHQuant
import Units

/// A plausible misreading of the MAC/PE specification (docs/vectors.md, "Mutation score"): a
/// reference model with one rule changed. A vector set *kills* a mutant when at least one of
/// its lines expects outputs the mutant does not produce.
public enum MacMutant: String, CaseIterable, Sendable {
    /// The ±½ denormal codes decoded as 0 (the level below).
    case denormalAsZero = "denormal-as-zero"
    /// The ±½ denormal codes decoded as ±1 (the level above).
    case denormalAsOne = "denormal-as-one"
    /// dINT's reserved code 1000 read as a two's complement −8 steps instead of 0.
    case reservedNotZero = "reserved-not-zero"
    /// The conditional negate of a negative-weight product without its +1 carry-in (one's
    /// complement: w·a − 1 for every negative weight).
    case missingNegateCarry = "missing-negate-carry"
    /// `clear` without `valid` clears the accumulator.
    case clearWithoutValidClears = "clear-without-valid-clears"
    /// One pipeline stage more (latency D + 1).
    case latencyPlusOne = "latency-plus-one"
    /// One pipeline stage fewer (latency D − 1).
    case latencyMinusOne = "latency-minus-one"
    /// Once saturated, the accumulator stays at the clamp until a clear.
    case stickySaturation = "sticky-saturation"
    /// Wrap where the unit saturates, saturate where it wraps.
    case overflowRuleSwapped = "overflow-rule-swapped"
    /// `rst` clears the accumulator and valid_out but not the transactions in flight.
    case resetKeepsPipeline = "reset-keeps-pipeline"
    /// An accumulator one bit narrower (W − 1), sign-extended to W.
    case narrowAccumulator = "narrow-accumulator"
    /// `valid_out` raised for every transaction reaching the accumulator, valid or not.
    case validOutIgnoresValid = "valid-out-ignores-valid"

    /// Whether the mutant differs from the unit at all in this configuration.
    public func applies(to c: MacConfiguration) -> Bool {
        let format: LevelFormat? = c.kind == .int8 ? nil : c.kind.weightFormat
        switch self {
        case .denormalAsZero, .denormalAsOne: return format?.halfSteps.contains { abs($0) == 1 } ?? false
        case .reservedNotZero: return format?.reserved.contains(true) ?? false
        case .missingNegateCarry: return format != nil
        case .latencyMinusOne, .resetKeepsPipeline: return c.pipelineDepth > 1
        case .stickySaturation: return c.overflow == .saturate
        case .narrowAccumulator: return c.accumulatorWidth > c.treeWidth
        default: return true
        }
    }

    /// The mutant's weight of `code` in product units.
    func weight(_ code: UInt8, _ c: MacConfiguration) -> Int64 {
        let right = c.product(code: code, activation: 1)
        guard c.kind != .int8 else { return right }
        let f = c.kind.weightFormat
        switch self {
        case .denormalAsZero where abs(right) == 1: return 0
        case .denormalAsOne where abs(right) == 1: return 2 * right
        case .reservedNotZero where Int(code) < f.codeCount && f.reserved[Int(code)]: return -16
        default: return right
        }
    }

    /// Replays `lines` of a MAC set (`control` bits 1 rst, 2 valid, 4 clear; lanes' codes and
    /// activations) and returns, per line, the outputs acc (W bits) | valid_out << 63.
    func run(_ c: MacConfiguration, control: [UInt8], codes: [UInt8], activations: [Int8]) -> [UInt64] {
        let lanes = c.lanes
        let depth = self == .latencyPlusOne ? c.pipelineDepth + 1 : self == .latencyMinusOne ? c.pipelineDepth - 1 : c.pipelineDepth
        let width = self == .narrowAccumulator ? c.accumulatorWidth - 1 : c.accumulatorWidth
        let rule: OverflowRule = self == .overflowRuleSwapped ? (c.overflow == .wrap ? .saturate : .wrap) : c.overflow
        let hi = (Int64(1) << Int64(width - 1)) - 1, lo = -(Int64(1) << Int64(width - 1))
        let mask: UInt64 = (1 << UInt64(c.accumulatorWidth)) - 1
        let table = (0..<256).map { weight(UInt8($0), c) }
        // Sign-magnitude and minifloat codes: the top bit is the sign the negate stage uses.
        let signBit = UInt8(1) << UInt8(c.weightWidth - 1)
        var inFlight = [(sum: Int64, valid: Bool, clear: Bool)](repeating: (0, false, false), count: depth - 1)
        var acc: Int64 = 0, validOut = false, stuck = false
        var out = [UInt64](repeating: 0, count: control.count)
        for line in 0..<control.count {
            let x = control[line]
            if x & 1 != 0 {
                acc = 0; validOut = false; stuck = false
                if self != .resetKeepsPipeline { for i in inFlight.indices { inFlight[i] = (0, false, false) } }
                out[line] = 0
                continue
            }
            var sum: Int64 = 0
            for l in 0..<lanes {
                let code = codes[line * lanes + l], a = Int64(activations[line * lanes + l])
                var p = table[Int(code)] * a
                if self == .missingNegateCarry && code & signBit != 0 { p -= 1 }
                sum += p
            }
            var stage = (sum: sum, valid: x & 2 != 0, clear: x & 4 != 0)
            if !inFlight.isEmpty { inFlight.append(stage); stage = inFlight.removeFirst() }
            if stage.valid || (self == .clearWithoutValidClears && stage.clear) {
                let base = stage.clear ? 0 : acc
                if stage.valid {
                    let exact = base + stage.sum
                    if stuck && !stage.clear {
                        // sticky: hold the clamp
                    } else if exact > hi || exact < lo {
                        if rule == .wrap {
                            let shift = Int64(64 - width)
                            acc = (exact << shift) >> shift
                        } else {
                            acc = exact > hi ? hi : lo
                            if self == .stickySaturation { stuck = true }
                        }
                    } else {
                        acc = exact
                        if stage.clear { stuck = false }
                    }
                } else {
                    acc = 0
                }
            }
            validOut = self == .validOutIgnoresValid ? true : stage.valid
            out[line] = UInt64(bitPattern: acc) & mask | (validOut ? 1 << 63 : 0)
        }
        return out
    }
}

/// How well a vector set catches the mutants of its unit's catalogue: lines failing per mutant.
public struct MutationScore: Sendable {
    public struct Entry: Sendable, Codable {
        public let mutant: String
        /// Lines whose expected outputs the mutant misses; nil when the mutant does not apply.
        public let killingLines: Int?
        public var killed: Bool { (killingLines ?? 0) > 0 }
        enum CodingKeys: String, CodingKey { case mutant, killingLines = "killing_lines" }
    }

    /// The scored unit's configuration, encoded as in the set's manifest.
    public enum Configuration: Sendable, Encodable {
        case mac(MacConfiguration)
        case decoder(tileSize: Int, output: BinaryFloatFormat)
        case quantizer(format: LevelFormat, rule: RoundingRule, signedZero: SignedZero)
        case blockQuantizer(blockSize: Int, scaleRule: MXScaleRule)
        case nvfp4Quantizer(blockSize: Int)

        public var json: String {
            switch self {
            case .mac(let c): return c.json
            case .decoder(let g, let f): return (try? DecoderVectors(tileSize: g, output: f).configurationJSON) ?? ""
            case .quantizer(let f, let r, let z): return QuantizerVectors(format: f, rule: r, signedZero: z).configurationJSON
            case .blockQuantizer(let b, let r): return (try? BlockQuantizerVectors(blockSize: b, scaleRule: r).configurationJSON) ?? ""
            case .nvfp4Quantizer(let b): return (try? NVFP4QuantizerVectors(blockSize: b).configurationJSON) ?? ""
            }
        }

        struct FieldKey: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        enum DecoderKeys: String, CodingKey { case tileSize = "tile_size", output }
        enum QuantizerKeys: String, CodingKey { case format, rounding, signedZero = "signed_zero" }
        enum BlockQuantizerKeys: String, CodingKey { case blockSize = "block_size", format, scaleRule = "scale_rule", rounding, signedZero = "signed_zero" }
        public func encode(to encoder: Encoder) throws {
            switch self {
            case .mac(let c): try c.encode(to: encoder)
            case .decoder(let g, let f):
                var k = encoder.container(keyedBy: DecoderKeys.self)
                try k.encode(g, forKey: .tileSize); try k.encode(f.name, forKey: .output)
            case .quantizer(let f, let r, let z):
                var k = encoder.container(keyedBy: QuantizerKeys.self)
                try k.encode(f.name, forKey: .format); try k.encode(r.rawValue, forKey: .rounding)
                if f.negativeZeroCode != nil { try k.encode(z.rawValue, forKey: .signedZero) }
            case .blockQuantizer(let b, let r):
                var k = encoder.container(keyedBy: BlockQuantizerKeys.self)
                try k.encode(b, forKey: .blockSize); try k.encode("mxfp4", forKey: .format); try k.encode(r.rawValue, forKey: .scaleRule)
                try k.encode("toNearestOrEven", forKey: .rounding); try k.encode("keep", forKey: .signedZero)
            case .nvfp4Quantizer(let b):
                var k = encoder.container(keyedBy: FieldKey.self)
                try k.encode(b, forKey: FieldKey(stringValue: "block_size"))
                for (key, value) in NVFP4QuantizerVectors.convention { try k.encode(value, forKey: FieldKey(stringValue: key)) }
            }
        }
    }

    /// Names the catalogues (MAC, decoder, quantizer mutants and their rules); bumped whenever a
    /// mutant is added or changed, so a recorded score says which catalogue it counted.
    public static let catalogue = "dintsim-mutants 4"
    /// Sets above this many lines get `"mutation_score": null` in their manifest (scoring holds
    /// the set in memory); `vectors score` still scores them.
    public static let recordedLineLimit = 1_000_000

    /// A score as a manifest records it ("mutation_score", docs/vectors.md).
    public struct Record: Sendable, Equatable {
        public let catalogue: String
        /// Per mutant, the lines killing it; nil where the mutant does not apply.
        public let killingLines: [String: Int?]
        public let margin: Int?
    }

    public let unitName: String
    public let configuration: Configuration
    public let lines: Int
    /// The unmutated model's failing lines (0 for a sound set and model).
    public let referenceFailures: Int
    public let entries: [Entry]
    /// What the set's manifest records, when it records a score.
    public var recorded: Record? = nil

    public var record: Record {
        Record(catalogue: Self.catalogue, killingLines: Dictionary(uniqueKeysWithValues: entries.map { ($0.mutant, $0.killingLines) }), margin: margin)
    }

    /// The manifest's "mutation_score" value: catalogue, margin, killed / applicable counts and
    /// the lines killing each mutant (null where it cannot occur), in catalogue order.
    public var manifestJSON: String {
        let applicable = entries.filter { $0.killingLines != nil }
        return "{\"catalogue\": \"\(Self.catalogue)\", \"margin\": \(margin.map(String.init) ?? "null"), \"killed\": \(applicable.filter(\.killed).count), "
            + "\"applicable\": \(applicable.count), \"killing_lines\": {"
            + entries.map { "\"\($0.mutant)\": \($0.killingLines.map(String.init) ?? "null")" }.joined(separator: ", ") + "}}"
    }

    /// How this score compares with the manifest's record: nil when the manifest records none.
    public var recordComparison: (agrees: Bool, text: String)? {
        guard let recorded else { return nil }
        if recorded == record { return (true, "the score equals the one MANIFEST.json records") }
        if recorded.catalogue != Self.catalogue {
            return (true, "MANIFEST.json records a score from catalogue '\(recorded.catalogue)'; this is '\(Self.catalogue)' (regenerate the set to record it)")
        }
        return (false, "the score differs from the one MANIFEST.json records (margin \(recorded.margin.map(String.init) ?? "none") there)")
    }

    /// Applicable mutants no line kills.
    public var survivors: [String] { entries.filter { $0.killingLines == 0 }.map(\.mutant) }
    /// The fewest lines killing an applicable mutant: the set's margin.
    public var margin: Int? { entries.compactMap(\.killingLines).min() }

    /// Scores the MAC/PE, quantizer or Hadamard-decoder set in `directory`.
    public static func score(directory: String) throws -> MutationScore {
        let manifest = try VectorManifest(directory: directory)
        var s = try score(directory: directory, manifest: manifest)
        s.recorded = manifest.recordedScore
        return s
    }

    /// Scores the set whose manifest is `manifest` (read from `directory` or about to be written).
    public static func score(directory: String, manifest: VectorManifest) throws -> MutationScore {
        if let q = manifest.unit as? QuantizerVectors { return try score(directory: directory, manifest: manifest, q) }
        if let b = manifest.unit as? BlockQuantizerVectors { return try score(directory: directory, manifest: manifest, b) }
        if let b = manifest.unit as? NVFP4QuantizerVectors { return try score(directory: directory, manifest: manifest, b) }
        let set = try VectorReplay(directory: directory, manifest: manifest)
        switch set.unit {
        case .mac(let c): return score(set, c)
        case .decoder(let g, let f): return score(set, tileSize: g, output: f)
        }
    }

    static func score(_ set: VectorReplay, _ c: MacConfiguration) -> MutationScore {
        func failures(_ observed: [UInt64]) -> Int { zip(observed, set.expectedMac).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) } }
        let reference = failures(referenceRun(c, set))
        let entries = MacMutant.allCases.map { m in
            Entry(mutant: m.rawValue, killingLines: m.applies(to: c) ? failures(m.run(c, control: set.control, codes: set.codes, activations: set.activations)) : nil)
        }
        return MutationScore(unitName: set.unitName, configuration: .mac(c), lines: set.lines, referenceFailures: reference, entries: entries)
    }

    /// Decoder sets: each line is one tile; the reference is the fast decoder the replay runs.
    static func score(_ set: VectorReplay, tileSize g: Int, output f: BinaryFloatFormat) -> MutationScore {
        let tiles = set.inputs.map { v in (q: v[0..<g].map { UInt8($0) }, flagged: v[g] == 1, pivot: Int(v[g + 1]), scale: UInt16(v[g + 2]), zero: UInt16(v[g + 3])) }
        func failures(_ decode: (_ q: [UInt8], _ flagged: Bool, _ pivot: Int, _ scale: UInt16, _ zero: UInt16) -> [UInt32]) -> Int {
            zip(tiles, set.expected).reduce(0) { n, pair in
                let t = pair.0
                return n + (decode(t.q, t.flagged, t.pivot, t.scale, t.zero).map(UInt64.init) == pair.1 ? 0 : 1)
            }
        }
        var out = [UInt32](repeating: 0, count: g), scratch = [Int64](repeating: 0, count: g)
        let reference = failures { q, flagged, pivot, scale, zero in
            TahQuantDecoder.decodeTile(codes: q[...], flagged: flagged, pivot: pivot, scale: scale, zero: zero, output: f, into: &out, at: 0, scratch: &scratch)
            return out
        }
        let entries = DecoderMutant.allCases.map { m in
            Entry(mutant: m.rawValue, killingLines: m.applies(tileSize: g, output: f)
                  ? failures { m.decode(codes: $0, flagged: $1, pivot: $2, scale: $3, zero: $4, output: f) } : nil)
        }
        return MutationScore(unitName: set.unitName, configuration: .decoder(tileSize: g, output: f), lines: set.lines, referenceFailures: reference, entries: entries)
    }

    /// Quantizer sets: each line is one decision; the reference is the fast level selector.
    static func score(directory: String, manifest: VectorManifest, _ unit: QuantizerVectors) throws -> MutationScore {
        let layout = unit.layout
        let reader = try LineReader(path: directory + "/" + VectorFiles.hex)
        var decisions: [(x: Float, s: Float, draw: UInt32, code: UInt8)] = []
        while let text = try reader.next() {
            switch layout.parseHex(text, 0..<layout.valueCount) {
            case .success(let v):
                decisions.append((Float(bitPattern: UInt32(v[0])), Float(bitPattern: UInt32(v[1])), UInt32(v[2]), UInt8(v[3])))
            case .failure(let e): throw VectorError.malformed("\(reader.path) line \(reader.lineNumber): \(e.description)")
            }
        }
        guard decisions.count == manifest.lines, !decisions.isEmpty else {
            throw VectorError.malformed("\(directory): \(decisions.count) lines in vectors.hex, manifest says \(manifest.lines)")
        }
        for (k, d) in decisions.enumerated() where !(d.x.isFinite && d.s.isFinite && d.s > 0) {
            throw VectorError.malformed("\(directory) line \(k + 1): x must be finite and the scale finite and positive")
        }
        let reference = decisions.reduce(0) { n, d in
            n + (unit.fastOutputs(VectorCase(index: 0, category: "", lines: [[UInt64(d.x.bitPattern), UInt64(d.s.bitPattern), UInt64(d.draw), 0, 0]]))[0][0] == UInt64(d.code) ? 0 : 1)
        }
        let entries = QuantizerMutant.allCases.map { m in
            Entry(mutant: m.rawValue, killingLines: m.applies(format: unit.format, rule: unit.rule, signedZero: unit.signedZero)
                  ? decisions.reduce(0) { $0 + (m.decide(x: $1.x, scale: $1.s, draw: $1.draw, format: unit.format, rule: unit.rule, signedZero: unit.signedZero) == $1.code ? 0 : 1) } : nil)
        }
        return MutationScore(unitName: unit.unitName, configuration: .quantizer(format: unit.format, rule: unit.rule, signedZero: unit.signedZero), lines: decisions.count,
                             referenceFailures: reference, entries: entries)
    }

    /// The block quantizer's catalogue: each mutant is the documented block quantizer with one
    /// rule changed (`BlockQuantizerMutant`).
    static func score(directory: String, manifest: VectorManifest, _ unit: BlockQuantizerVectors) throws -> MutationScore {
        let layout = unit.layout
        let reader = try LineReader(path: directory + "/" + VectorFiles.hex)
        var blocks: [(x: [Float], expected: [UInt64])] = []
        while let text = try reader.next() {
            switch layout.parseHex(text, 0..<layout.valueCount) {
            case .success(let v): blocks.append((unit.inputs(v), Array(v[layout.outputRange])))
            case .failure(let e): throw VectorError.malformed("\(reader.path) line \(reader.lineNumber): \(e.description)")
            }
        }
        guard blocks.count == manifest.lines, !blocks.isEmpty else {
            throw VectorError.malformed("\(directory): \(blocks.count) lines in vectors.hex, manifest says \(manifest.lines)")
        }
        if let k = blocks.firstIndex(where: { !$0.x.allSatisfy(\.isFinite) }) { throw VectorError.malformed("\(directory) line \(k + 1): every x must be finite") }
        func failures(_ q: BlockFloatQuantizer) -> Int {
            blocks.reduce(0) { n, b in
                let r = try! q.quantize(b.x, rows: 1, columns: unit.blockSize)
                return n + ([UInt64(r.blockScales[0])] + r.codes.map(UInt64.init) == b.expected ? 0 : 1)
            }
        }
        let entries = try BlockQuantizerMutant.allCases.map { m in
            Entry(mutant: m.rawValue, killingLines: m.applies(to: unit.scaleRule) ? failures(try m.quantizer(blockSize: unit.blockSize, rule: unit.scaleRule)) : nil)
        }
        return MutationScore(unitName: unit.unitName, configuration: .blockQuantizer(blockSize: unit.blockSize, scaleRule: unit.scaleRule), lines: blocks.count,
                             referenceFailures: failures(unit.quantizer), entries: entries)
    }

    /// The NVFP4 quantizer's catalogue: each mutant the documented unit with one convention or
    /// rounding rule changed (`NVFP4QuantizerMutant`), every line quantized under its own S.
    static func score(directory: String, manifest: VectorManifest, _ unit: NVFP4QuantizerVectors) throws -> MutationScore {
        let layout = unit.layout
        let reader = try LineReader(path: directory + "/" + VectorFiles.hex)
        var blocks: [(x: [Float], s: Float, expected: [UInt64])] = []
        while let text = try reader.next() {
            switch layout.parseHex(text, 0..<layout.valueCount) {
            case .success(let v): let (x, s) = unit.inputs(v); blocks.append((x, s, Array(v[layout.outputRange])))
            case .failure(let e): throw VectorError.malformed("\(reader.path) line \(reader.lineNumber): \(e.description)")
            }
        }
        guard blocks.count == manifest.lines, !blocks.isEmpty else {
            throw VectorError.malformed("\(directory): \(blocks.count) lines in vectors.hex, manifest says \(manifest.lines)")
        }
        if let k = blocks.firstIndex(where: { !$0.x.allSatisfy(\.isFinite) || !($0.s.isFinite && $0.s > 0) }) {
            throw VectorError.malformed("\(directory) line \(k + 1): every x must be finite and s finite and positive")
        }
        func failures(_ q: BlockFloatQuantizer) -> Int {
            blocks.reduce(0) { n, b in n + (NVFP4QuantizerVectors.outputs(q, b.x, b.s) == b.expected ? 0 : 1) }
        }
        let entries = try NVFP4QuantizerMutant.allCases.map { m in Entry(mutant: m.rawValue, killingLines: failures(try m.quantizer(blockSize: unit.blockSize))) }
        return MutationScore(unitName: unit.unitName, configuration: .nvfp4Quantizer(blockSize: unit.blockSize), lines: blocks.count,
                             referenceFailures: failures(unit.quantizer), entries: entries)
    }

    /// The unit itself through `MacDriver` (the same model the replay runs).
    static func referenceRun(_ c: MacConfiguration, _ set: VectorReplay) -> [UInt64] {
        var model = MacModel(c)
        let mask: UInt64 = (1 << UInt64(c.accumulatorWidth)) - 1
        return set.codes.withUnsafeBufferPointer { codes in
            set.activations.withUnsafeBufferPointer { acts in
                (0..<set.lines).map { line in
                    VectorReplay.macLine(&model, set.control[line], codes: codes.baseAddress! + line * c.lanes,
                                         activations: acts.baseAddress! + line * c.lanes, lanes: c.lanes, accMask: mask)
                }
            }
        }
    }

    /// The table `vectors score` prints.
    public var markdown: String {
        var s = "| mutant | lines killing it |\n|---|---|\n"
        for e in entries { s += "| \(e.mutant) | \(e.killingLines.map { $0 == 0 ? "0 — survives" : "\($0)" } ?? "n/a (cannot occur in this configuration)") |\n" }
        s += "\n\(unitName) \(configuration.json): \(lines) lines; \(summary)"
        if referenceFailures > 0 { s += "; the unmutated model fails \(referenceFailures) line(s)" }
        return s + "\n"
    }

    /// "7 of 7 applicable mutants killed, margin 36 line(s)".
    public var summary: String {
        let applicable = entries.filter { $0.killingLines != nil }
        return "\(applicable.filter(\.killed).count) of \(applicable.count) applicable mutants killed" + (margin.map { ", margin \($0) line(s)" } ?? "")
    }
}
