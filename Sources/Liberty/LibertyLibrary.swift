/// The Liberty subset a cost model needs, in dintsim's units: time in ns, capacitance in pF,
/// energy in pJ, leakage power in nW, voltage in V (docs/liberty.md).
public struct LibertyLibrary: Sendable {
    public enum Direction: String, Sendable { case input, output, `inout`, `internal` }
    public enum TimingSense: String, Sendable { case positiveUnate = "positive_unate", negativeUnate = "negative_unate", nonUnate = "non_unate" }

    public struct TimingArc: Sendable {
        public let relatedPins: [String]
        public let sense: TimingSense
        /// `combinational`, `rising_edge`, `setup_rising`, `hold_rising`, …
        public let type: String
        public let cellRise: LookupTable?, cellFall: LookupTable?
        public let riseTransition: LookupTable?, fallTransition: LookupTable?
        public let riseConstraint: LookupTable?, fallConstraint: LookupTable?
    }

    public struct InternalPower: Sendable {
        /// Empty: the pin's own energy per transition (an input's "passive" power).
        public let relatedPins: [String]
        public let rise: LookupTable?, fall: LookupTable?
    }

    public struct Pin: Sendable {
        public let name: String
        public let direction: Direction
        public let capacitance: Double
        public let function: BooleanFunction?
        public let isClock: Bool
        public let timing: [TimingArc]
        public let internalPower: [InternalPower]
    }

    /// An edge-triggered state element (`ff (IQ, IQN) { … }`).
    public struct FlipFlop: Sendable {
        public let state: String, stateNegated: String
        public let nextState: BooleanFunction
        public let clockedOn: BooleanFunction
        public let clear: BooleanFunction?, preset: BooleanFunction?
    }

    public struct Cell: Sendable {
        public let name: String
        public let area: Double
        public let leakage: Double
        public let pins: [Pin]
        public let flipFlop: FlipFlop?
        public let dontUse: Bool
        /// The cell has a latch, bus, bundle or statetable: it is never bound to a netlist cell.
        public let unsupported: Bool
        public let line: Int

        public func pin(_ name: String) -> Pin? { pins.first { $0.name == name } }
        public var inputs: [Pin] { pins.filter { $0.direction == .input } }
        public var outputs: [Pin] { pins.filter { $0.direction == .output } }
    }

    public let name: String
    public let source: String
    public let nominalVoltage: Double
    public let cells: [Cell]
    /// The library's units, as written (for reports).
    public let timeUnit: String, capacitanceUnit: String

    public func cell(_ name: String) -> Cell? { cells.first { $0.name == name } }

    public static func parse(_ bytes: [UInt8], source: String) throws -> LibertyLibrary {
        let top = try LibertySyntax.parse(bytes, source: source)
        var builder = Builder(source: source)
        return try builder.library(top)
    }

    struct Builder {
        let source: String
        var timeScale = 1.0, capacitanceScale = 1.0, leakageScale = 1.0, voltageScale = 1.0
        var templates: [String: (variables: [TableVariable?], indices: [[Double]?])] = [:]

        init(source: String) { self.source = source }

        func fail(_ line: Int, _ why: String) -> LibertyError { LibertyError("\(source):\(line): \(why)") }

        func number(_ v: LibertyValue, _ what: String) throws -> Double {
            guard let d = Double(v.text), d.isFinite else { throw fail(v.line, "\(what) '\(v.text)' is not a finite number") }
            return d
        }

        func simple(_ g: LibertyGroup, _ name: String) throws -> LibertyValue? {
            guard let a = g.attribute(name) else { return nil }
            guard a.values.count == 1 else { throw fail(a.line, "'\(name)' takes one value") }
            return a.values[0]
        }

        /// "1ns" → (1, "ns").
        func unit(_ v: LibertyValue, _ what: String, _ scales: [String: Double]) throws -> Double {
            let t = v.text
            let digits = t.prefix { $0.isNumber || $0 == "." }
            guard let n = Double(digits), n > 0, let s = scales[String(t.dropFirst(digits.count)).lowercased()] else {
                throw fail(v.line, "\(what) '\(t)' is not one of \(scales.keys.sorted().map { "1\($0)" }.joined(separator: ", "))")
            }
            return n * s
        }

        mutating func library(_ top: LibertyGroup) throws -> LibertyLibrary {
            guard top.kind == "library" else { throw fail(top.line, "the file must hold one 'library' group, not '\(top.kind)'") }
            guard top.arguments.count == 1 else { throw fail(top.line, "'library' takes one name") }
            guard let time = try simple(top, "time_unit") else { throw fail(top.line, "'time_unit' is missing (tables cannot be read without it)") }
            timeScale = try unit(time, "time_unit", ["ns": 1, "ps": 1e-3, "us": 1e3])
            guard let cap = top.attribute("capacitive_load_unit") else { throw fail(top.line, "'capacitive_load_unit' is missing (tables cannot be read without it)") }
            guard cap.isComplex, cap.values.count == 2, let scale = ["pf": 1.0, "ff": 1e-3][cap.values[1].text.lowercased()] else {
                throw fail(cap.line, "'capacitive_load_unit' must be (N, pf) or (N, ff)")
            }
            capacitanceScale = try number(cap.values[0], "capacitive_load_unit") * scale
            guard capacitanceScale > 0 else { throw fail(cap.line, "'capacitive_load_unit' must be positive") }
            if let v = try simple(top, "voltage_unit") { voltageScale = try unit(v, "voltage_unit", ["v": 1, "mv": 1e-3]) }
            if let l = try simple(top, "leakage_power_unit") {
                leakageScale = try unit(l, "leakage_power_unit", ["nw": 1, "pw": 1e-3, "uw": 1e3, "mw": 1e6, "w": 1e9])
            } else if top.groups("cell").contains(where: { $0.attribute("cell_leakage_power") != nil }) {
                throw fail(top.line, "'leakage_power_unit' is missing but cells give cell_leakage_power")
            }
            guard let nominal = try simple(top, "nom_voltage") else { throw fail(top.line, "'nom_voltage' is missing (switching energy needs the supply)") }
            let volts = try number(nominal, "nom_voltage") * voltageScale
            guard volts > 0 else { throw fail(nominal.line, "'nom_voltage' must be positive") }
            for t in top.groups where t.kind == "lu_table_template" || t.kind == "power_lut_template" {
                guard t.arguments.count == 1 else { throw fail(t.line, "'\(t.kind)' takes one name") }
                var variables: [TableVariable?] = [], indices: [[Double]?] = []
                for k in 1...3 {
                    guard let v = try simple(t, "variable_\(k)") else { break }
                    variables.append(TableVariable(rawValue: v.text))
                    indices.append(try t.attribute("index_\(k)").map { try index($0, variable: variables.last!) })
                }
                templates[t.arguments[0].text] = (variables, indices)
            }
            var cells: [Cell] = []
            var seen: Set<String> = []
            for c in top.groups("cell") {
                let cell = try self.cell(c)
                guard seen.insert(cell.name).inserted else { throw fail(c.line, "cell '\(cell.name)' is defined twice") }
                cells.append(cell)
            }
            guard !cells.isEmpty else { throw fail(top.line, "the library has no cells") }
            let capUnit = "\(cap.values[0].text)\(cap.values[1].text)"
            return LibertyLibrary(name: top.arguments[0].text, source: source, nominalVoltage: volts, cells: cells,
                                  timeUnit: time.text, capacitanceUnit: capUnit)
        }

        /// Scale of an axis's values into ns or pF.
        func scale(_ variable: TableVariable?) -> Double {
            switch variable {
            case .outputLoad: return capacitanceScale
            case .none: return 1
            default: return timeScale
            }
        }

        func index(_ a: LibertyAttribute, variable: TableVariable?) throws -> [Double] {
            guard a.values.count == 1 else { throw fail(a.line, "'\(a.name)' takes one quoted list") }
            let xs = try numbers(a.values[0], a.name).map { $0 * scale(variable) }
            guard !xs.isEmpty else { throw fail(a.line, "'\(a.name)' is empty") }
            for k in xs.indices.dropFirst() where !(xs[k] > xs[k - 1]) { throw fail(a.line, "'\(a.name)' must increase strictly") }
            return xs
        }

        func numbers(_ v: LibertyValue, _ what: String) throws -> [Double] {
            try v.text.split(separator: ",").map { part in
                let s = part.trimmingCharacters()
                guard let d = Double(s), d.isFinite else { throw fail(v.line, "\(what): '\(s)' is not a finite number") }
                return d
            }
        }

        /// A table group (`cell_rise(template) { index_1(…); values(…); }`), values scaled by `unit`.
        func table(_ g: LibertyGroup, unit: Double) throws -> LookupTable {
            guard g.arguments.count == 1 else { throw fail(g.line, "'\(g.kind)' takes one template name") }
            let name = g.arguments[0].text
            guard let values = g.attribute("values") else { throw fail(g.line, "'\(g.kind)' has no values") }
            if name == "scalar" {
                let v = try values.values.flatMap { try numbers($0, "values") }
                guard v.count == 1 else { throw fail(values.line, "a scalar table holds one value") }
                return .constant(v[0] * unit)
            }
            guard let template = templates[name] else { throw fail(g.line, "'\(g.kind)' uses template '\(name)', which the library does not define") }
            var variables: [TableVariable] = [], indices: [[Double]] = []
            for (k, variable) in template.variables.enumerated() {
                guard let variable else { throw fail(g.line, "template '\(name)' has an axis variable dintsim does not know") }
                let own = try g.attribute("index_\(k + 1)").map { try index($0, variable: variable) }
                guard let idx = own ?? template.indices[k] else { throw fail(g.line, "'\(g.kind)': index_\(k + 1) is missing") }
                variables.append(variable); indices.append(idx)
            }
            guard variables.count <= 2 else { throw fail(g.line, "'\(g.kind)': tables of more than two axes are not supported") }
            let v = try values.values.flatMap { try numbers($0, "values") }.map { $0 * unit }
            let expected = indices.reduce(1) { $0 * $1.count }
            guard v.count == expected else { throw fail(values.line, "'\(g.kind)' has \(v.count) values where its index sizes need \(expected)") }
            return LookupTable(variables: variables, indices: indices, values: v)
        }

        func pinNames(_ a: LibertyAttribute?) -> [String] {
            guard let a else { return [] }
            return a.values.flatMap { $0.text.split(separator: " ").map(String.init) }
        }

        func cell(_ c: LibertyGroup) throws -> Cell {
            guard c.arguments.count == 1 else { throw fail(c.line, "'cell' takes one name") }
            let name = c.arguments[0].text
            guard let areaValue = try simple(c, "area") else { throw fail(c.line, "cell '\(name)' has no area") }
            let area = try number(areaValue, "area")
            guard area >= 0 else { throw fail(areaValue.line, "cell '\(name)': area must be ≥ 0") }
            let leakage = try simple(c, "cell_leakage_power").map { try number($0, "cell_leakage_power") * leakageScale } ?? 0
            let timeUnit = timeScale, energyUnit = capacitanceScale * voltageScale * voltageScale
            var pins: [Pin] = []
            for p in c.groups("pin") {
                guard !p.arguments.isEmpty else { throw fail(p.line, "'pin' needs a name") }
                guard let d = try simple(p, "direction"), let direction = Direction(rawValue: d.text) else {
                    throw fail(p.line, "pin '\(p.arguments[0].text)' of cell '\(name)' has no valid direction (input, output, inout, internal)")
                }
                let capacitance = try simple(p, "capacitance").map { try number($0, "capacitance") * capacitanceScale } ?? 0
                guard capacitance >= 0 else { throw fail(p.line, "pin capacitance must be ≥ 0") }
                let function = try simple(p, "function").map { v -> BooleanFunction in
                    do { return try BooleanFunction.parse(v.text) } catch let e as LibertyError { throw fail(v.line, e.message) }
                }
                let isClock = try simple(p, "clock")?.text == "true"
                var arcs: [TimingArc] = []
                for t in p.groups("timing") {
                    let sense = try simple(t, "timing_sense").map { v -> TimingSense in
                        guard let s = TimingSense(rawValue: v.text) else { throw fail(v.line, "unknown timing_sense '\(v.text)'") }
                        return s
                    } ?? .nonUnate
                    func tab(_ kind: String) throws -> LookupTable? {
                        try t.groups(kind).first.map { try table($0, unit: timeUnit) }
                    }
                    arcs.append(TimingArc(relatedPins: pinNames(t.attribute("related_pin")), sense: sense,
                                          type: try simple(t, "timing_type")?.text ?? "combinational",
                                          cellRise: try tab("cell_rise"), cellFall: try tab("cell_fall"),
                                          riseTransition: try tab("rise_transition"), fallTransition: try tab("fall_transition"),
                                          riseConstraint: try tab("rise_constraint"), fallConstraint: try tab("fall_constraint")))
                }
                var powers: [InternalPower] = []
                for ip in p.groups("internal_power") {
                    let both = try ip.groups("power").first.map { try table($0, unit: energyUnit) }
                    powers.append(InternalPower(relatedPins: pinNames(ip.attribute("related_pin")),
                                                rise: try ip.groups("rise_power").first.map { try table($0, unit: energyUnit) } ?? both,
                                                fall: try ip.groups("fall_power").first.map { try table($0, unit: energyUnit) } ?? both))
                }
                for n in p.arguments {
                    pins.append(Pin(name: n.text, direction: direction, capacitance: capacitance, function: function, isClock: isClock,
                                    timing: arcs, internalPower: powers))
                }
            }
            var flipFlop: FlipFlop?
            if let ff = c.groups("ff").first {
                guard ff.arguments.count == 2 else { throw fail(ff.line, "'ff' takes two state variable names") }
                func expression(_ key: String) throws -> BooleanFunction? {
                    try simple(ff, key).map { v in
                        do { return try BooleanFunction.parse(v.text) } catch let e as LibertyError { throw fail(v.line, e.message) }
                    }
                }
                guard let next = try expression("next_state"), let clock = try expression("clocked_on") else {
                    throw fail(ff.line, "'ff' of cell '\(name)' needs next_state and clocked_on")
                }
                flipFlop = FlipFlop(state: ff.arguments[0].text, stateNegated: ff.arguments[1].text, nextState: next, clockedOn: clock,
                                    clear: try expression("clear"), preset: try expression("preset"))
            }
            let unsupported = !c.groups("latch").isEmpty || !c.groups("bus").isEmpty || !c.groups("bundle").isEmpty
                || !c.groups("statetable").isEmpty || c.groups("ff").count > 1 || !c.groups("ff_bank").isEmpty
            return Cell(name: name, area: area, leakage: leakage, pins: pins, flipFlop: flipFlop,
                        dontUse: try simple(c, "dont_use")?.text == "true", unsupported: unsupported, line: c.line)
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
