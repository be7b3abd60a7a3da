import Testing
import Foundation
import Circuits
import Cost
import Formats
import Quantization
import Reports
import Units
import Workloads

@Suite struct CostModelTests {
    let table = try! TechnologyTable.nangate45()

    static func quantized(_ kind: MacKind, _ d: Distribution, rows: Int = 64, length: Int = 256, seed: UInt64 = 1) throws -> ([UInt8], [Int8]) {
        let format: LevelFormat = kind == .int8 ? .int8Symmetric : kind.weightFormat
        let w = try SymmetricQuantizer(format: format, granularity: .channel).quantize(d.sample(rows: rows, columns: length, seed: seed), rows: rows, columns: length).codes
        let a = try SymmetricQuantizer(format: .int8Symmetric, granularity: .channel)
            .quantize(Distribution.gaussian.sample(rows: rows, columns: length, seed: seed + 7), rows: rows, columns: length).codes.map { Int8(bitPattern: $0) }
        return (w, a)
    }

    /// Constant (all-zero) inputs: no datapath activity, so energy is clock + leakage (a few
    /// control toggles at start and end aside).
    @Test(arguments: [MacKind.int8, .dint, .fp4], [1, 16])
    func zeroActivityIsClockAndLeakageOnly(kind: MacKind, lanes: Int) throws {
        let c = try MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: 2)
        let n = 4096
        let cost = try MacCost.evaluate(c, codes: [UInt8](repeating: 0, count: n), activations: [Int8](repeating: 0, count: n), rows: 1, length: n, table: table)
        // Only the control path moves: valid rises and falls once (valid registers), clear once
        // (its inverter and register) — a fixed handful, independent of the 4096 cycles.
        #expect(cost.run.totalToggles <= 8, "\(cost.run.togglesByBlock)")
        #expect(cost.energy.dynamic < 0.001 * (cost.energy.clock + cost.energy.leakage))
        #expect(cost.energy.clock > 0 && cost.energy.leakage > 0)
        let flipFlops = Double(MacCircuit(c).netlist.inventory()[.dff]!)
        #expect(abs(cost.energy.clock - flipFlops * 4.0 / 1000 * Double(cost.unitCycles)) < 1e-9)
    }

    /// Random operands toggle more than LLM-like ones; zero-heavy weights toggle the multiplier less.
    @Test(arguments: [MacKind.int8, .dint, .fp4])
    func energyFollowsTheData(kind: MacKind) throws {
        let c = try MacConfiguration(kind: kind)
        let rows = 64, length = 256
        let (lw, la) = try Self.quantized(kind, .laplace)
        let (sw, sa) = try Self.quantized(kind, .sparse)
        var s = CounterStream(seed: 3)
        let valid = (0..<256).filter { c.isValidCode(UInt8($0)) }
        let rw = (0..<(rows * length)).map { _ in UInt8(valid[Int(s.next() % UInt64(valid.count))]) }
        let ra = (0..<(rows * length)).map { _ in Int8(truncatingIfNeeded: s.next()) }
        let llm = try MacCost.evaluate(c, codes: lw, activations: la, rows: rows, length: length, table: table)
        let sparse = try MacCost.evaluate(c, codes: sw, activations: sa, rows: rows, length: length, table: table)
        let random = try MacCost.evaluate(c, codes: rw, activations: ra, rows: rows, length: length, table: table)
        #expect(random.dynamicPerMAC > llm.dynamicPerMAC)
        #expect(sparse.energy.dynamicByBlock["multiplier"]! < llm.energy.dynamicByBlock["multiplier"]!)
        #expect(llm.energyPerMAC > llm.clockPerMAC + llm.leakagePerMAC)
    }

    /// Area of a composite is the sum of its parts.
    @Test func areaIsAdditive() throws {
        for kind in [MacKind.int8, .dint, .fp4] {
            let one = MacCircuit(try MacConfiguration(kind: kind)), pe = MacCircuit(try MacConfiguration(kind: kind, lanes: 16))
            let a1 = CostModel.area(of: one.netlist, table: table), a16 = CostModel.area(of: pe.netlist, table: table)
            let byCells = one.netlist.inventory().reduce(0.0) { $0 + Double($1.value) * table.cells[$1.key]!.areaMicrons }
            #expect(abs(a1.total - byCells) < 1e-9)
            #expect(abs(a16.byBlock["multiplier"]! - 16 * a1.byBlock["multiplier"]!) < 1e-6)
            #expect(abs(a16.byBlock["accumulator"]! - a1.byBlock["accumulator"]!) < 1e-6)
            #expect(abs(a1.gateEquivalents - a1.total / 0.798) < 1e-9)
        }
    }

    /// Configured as 45 nm, the model's 8-bit adder and 8×8 multiplier land within ±30 % of
    /// Horowitz's area and energy.
    @Test func calibrationAgainstHorowitz() {
        for p in Calibration.measure(table).points {
            #expect(abs(p.energyRatio - 1) <= 0.30, "\(p.operation) energy \(p.modelEnergy) pJ")
            #expect(abs(p.areaRatio - 1) <= 0.30, "\(p.operation) area \(p.modelArea) µm²")
        }
    }

    @Test func tableLoaderRejectsBadTables() throws {
        let good = try TechnologyTable.nangate45()
        #expect(good.cells.count == CellKind.allCases.count)
        let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: Self.tablePath)) as! [String: Any]
        func bytes(_ o: Any) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: o)) }
        #expect(try TechnologyTable.parse(bytes(object), source: "copy") == good)
        let cells = object["cells"] as! [String: Any]
        let cases: [(String, Any, String)] = [
            ("missing cell", { var c = cells; c["FA"] = nil; var o = object; o["cells"] = c; return o }(), "'FA' is missing"),
            ("negative area", { var c = cells; var fa = c["FA"] as! [String: Any]; fa["area_um2"] = -1; c["FA"] = fa; var o = object; o["cells"] = c; return o }(), "must be > 0"),
            ("unknown kind", { var c = cells; c["NAND3"] = c["NAND2"]; var o = object; o["cells"] = c; return o }(), "unknown cell kind"),
            ("no source", { var c = cells; var inv = c["INV"] as! [String: Any]; inv["source"] = nil; c["INV"] = inv; var o = object; o["cells"] = c; return o }(), "source"),
            ("no clock energy", { var c = cells; var d = c["DFF"] as! [String: Any]; d["clock_energy_fj"] = nil; c["DFF"] = d; var o = object; o["cells"] = c; return o }(), "clock_energy_fj"),
            ("string number", { var o = object; o["supply_volts"] = "1.1"; return o }(), "supply_volts"),
            ("unknown key", { var o = object; o["voltage"] = 1; return o }(), "unknown key"),
        ]
        for (name, o, expected) in cases {
            do { _ = try TechnologyTable.parse(bytes(o), source: name); Issue.record("\(name) accepted") } catch {
                #expect("\(error)".contains(expected), "\(name): \(error)")
            }
        }
        #expect(throws: TechnologyTable.LoadError.self) { try TechnologyTable.parse(Array("{".utf8), source: "x") }
    }

    static var tablePath: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Sources/Cost/Resources/nangate45.json")
    }

    /// The report is deterministic: the same inputs give the same bytes twice.
    @Test func reportIsDeterministic() throws {
        let data = [ReportData.synthetic(.laplace, rows: 32, length: 64, seed: 5)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let a = try CostReport.build(data: data, table: table, sweep: false), b = try CostReport.build(data: data, table: table, sweep: false)
        #expect(try encoder.encode(a) == encoder.encode(b))
        #expect(a.csv == b.csv && a.svg == b.svg && a.markdown == b.markdown)
        #expect(a.ratios.area > 1 && a.ratios.energy > 1)
        #expect(a.rows.count == 6 && a.comparisons.count == 2)
        #expect(a.ratios.fp4Area > 1 && a.ratios.fp4Energy > 1)
    }
}
