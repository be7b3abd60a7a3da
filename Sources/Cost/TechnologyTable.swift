import Circuits
import Foundation
import TensorIO

/// Per-cell area and energy figures, loaded from a JSON data file (the 45 nm default ships as a
/// resource; `--tech FILE` loads another with the same schema, see docs/cost-model.md).
public struct TechnologyTable: Sendable, Equatable {
    public struct CellFigures: Sendable, Equatable {
        public let areaMicrons: Double
        public let energyPerToggleFemtojoules: Double
        /// Energy per toggle of an internal node (the full adder's a⊕b), which drives only the
        /// cell's own gates.
        public let internalEnergyFemtojoules: Double
        /// Clock-pin energy per cycle (flip-flops only).
        public let clockEnergyFemtojoules: Double
        public let source: String
    }

    public let name: String
    public let supplyVolts: Double
    public let clockPeriodNanoseconds: Double
    public let nand2AreaMicrons: Double
    public let leakageNanowattsPerMicron2: Double
    public let cells: [CellKind: CellFigures]

    public enum LoadError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String { if case .invalid(let s) = self { return s }; return "" }
    }

    /// The bundled 45 nm table.
    public static func nangate45() throws -> TechnologyTable {
        guard let url = Bundle.module.url(forResource: "nangate45", withExtension: "json") else {
            throw LoadError.invalid("the bundled technology table is missing")
        }
        return try parse(Array(try Data(contentsOf: url)), source: "nangate45.json")
    }

    /// Parses and validates a table: every cell kind present, every number positive and finite,
    /// no unknown keys or cell kinds.
    public static func parse(_ bytes: [UInt8], source: String) throws -> TechnologyTable {
        func fail(_ why: String) -> LoadError { .invalid("\(source): \(why)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let top = object as? [String: Any] else {
            throw fail("not a JSON object")
        }
        let known: Set = ["name", "description", "supply_volts", "clock_period_ns", "nand2_area_um2", "leakage_nw_per_um2", "sources", "cells"]
        if let extra = top.keys.first(where: { !known.contains($0) }) { throw fail("unknown key '\(extra)'") }
        func number(_ dict: [String: Any], _ key: String, _ context: String, allowZero: Bool = false) throws -> Double {
            guard let n = dict[key] as? NSNumber, String(cString: n.objCType) != "c" else { throw fail("\(context)'\(key)' is missing or not a number") }
            let v = n.doubleValue
            guard v.isFinite, allowZero ? v >= 0 : v > 0 else { throw fail("\(context)'\(key)' = \(v) must be \(allowZero ? "≥ 0" : "> 0")") }
            return v
        }
        guard let name = top["name"] as? String, !name.isEmpty else { throw fail("'name' is missing") }
        guard let cellObjects = top["cells"] as? [String: Any] else { throw fail("'cells' is missing") }
        var cells: [CellKind: CellFigures] = [:]
        for (key, value) in cellObjects {
            guard let kind = CellKind(rawValue: key) else { throw fail("unknown cell kind '\(key)'") }
            guard let c = value as? [String: Any] else { throw fail("cell '\(key)' is not an object") }
            if let extra = c.keys.first(where: { !["area_um2", "energy_per_toggle_fj", "internal_energy_fj", "clock_energy_fj", "source"].contains($0) }) {
                throw fail("cell '\(key)': unknown key '\(extra)'")
            }
            let clock = kind == .dff ? try number(c, "clock_energy_fj", "cell '\(key)': ") : 0
            let internalNode = kind == .fullAdder ? try number(c, "internal_energy_fj", "cell '\(key)': ") : 0
            guard let source = c["source"] as? String, !source.isEmpty else { throw fail("cell '\(key)': 'source' is missing (every number names its source)") }
            cells[kind] = CellFigures(areaMicrons: try number(c, "area_um2", "cell '\(key)': "),
                                      energyPerToggleFemtojoules: try number(c, "energy_per_toggle_fj", "cell '\(key)': "),
                                      internalEnergyFemtojoules: internalNode, clockEnergyFemtojoules: clock, source: source)
        }
        if let missing = CellKind.allCases.first(where: { cells[$0] == nil }) { throw fail("cell '\(missing.rawValue)' is missing") }
        guard top["sources"] is [String: Any] else { throw fail("'sources' is missing (every number names its source)") }
        return TechnologyTable(name: name, supplyVolts: try number(top, "supply_volts", ""),
                               clockPeriodNanoseconds: try number(top, "clock_period_ns", ""),
                               nand2AreaMicrons: try number(top, "nand2_area_um2", ""),
                               leakageNanowattsPerMicron2: try number(top, "leakage_nw_per_um2", "", allowZero: true), cells: cells)
    }

    public static func load(_ path: String) throws -> TechnologyTable {
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw LoadError.invalid(ErrorText.describe(error)) }
        return try parse(bytes, source: path)
    }
}
