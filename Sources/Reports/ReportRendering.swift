import Foundation
import Circuits

extension ReportDocument {
    static func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
    static func g(_ x: Double) -> String { String(format: "%.4g", x) }

    /// The Markdown tables printed on stdout.
    public var markdown: String {
        var s = "# dINT MAC and FP4 MAC vs INT8 MAC (\(technology))\n\n"
        s += "Headline (one lane, defaults, \(comparisons[0].data)): INT8/dINT area **\(Self.f(ratios.area, 2))×** (paper \(ratios.paperArea)×), "
        s += "energy per MAC **\(Self.f(ratios.energy, 2))×** (paper power \(ratios.paperPower)×); "
        s += "INT8/FP4 (E2M1) area **\(Self.f(ratios.fp4Area, 2))×**, energy per MAC **\(Self.f(ratios.fp4Energy, 2))×**.\n\n"
        s += "| data | unit | lanes | area µm² | GE | cells | pJ/MAC | dynamic | clock | leakage | per-action pJ/MAC |\n"
        s += "|---|---|---|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            s += "| \(r.data) | \(r.unit) | \(r.lanes) | \(Self.f(r.areaUm2, 1)) | \(Self.f(r.gateEquivalents, 0)) | \(r.cells) | \(Self.f(r.energyPerMacPJ, 4)) | \(Self.f(r.dynamicPerMacPJ, 4)) | \(Self.f(r.clockPerMacPJ, 4)) | \(Self.f(r.leakagePerMacPJ, 4)) | \(Self.f(r.perActionPerMacPJ, 4)) |\n"
        }
        if rows.contains(where: { $0.criticalPathNs != nil || $0.delayModel != "zero" }) {
            s += "\nTiming and glitches (delay model \(rows[0].delayModel)\(rows[0].liberty.map { ", \($0)" } ?? "")):\n\n"
            s += "| data | unit | lanes | critical path ns | max clock MHz | clock ns | glitch pJ/MAC | glitch share | scaled supply V | scaled pJ/MAC |\n|---|---|---|---|---|---|---|---|---|---|\n"
            for r in rows {
                let path = r.criticalPathNs.map { Self.f($0, 3) } ?? "—", clock = r.criticalPathNs.map { Self.f(1000 / $0, 1) } ?? "—"
                s += "| \(r.data) | \(r.unit) | \(r.lanes) | \(path) | \(clock) | \(Self.f(r.clockNs, 3)) | \(Self.f(r.glitchPerMacPJ, 4)) | \(Self.f(100 * r.glitchPerMacPJ / max(r.dynamicPerMacPJ, 1e-300), 1)) % | \(r.scaledSupplyV.map { Self.f($0, 3) } ?? "—") | \(r.scaledEnergyPerMacPJ.map { Self.f($0, 4) } ?? "—") |\n"
            }
            if comparisons.contains(where: { $0.scaledEnergy != nil }) {
                s += "\nIso-throughput (every unit at the slowest unit's clock; faster units at the supply that just meets it):\n\n| data | lanes | INT8/dINT energy, same supply | scaled supply | INT8/FP4 energy, same supply | scaled supply |\n|---|---|---|---|---|---|\n"
                for c in comparisons {
                    s += "| \(c.data) | \(c.lanes) | \(Self.f(c.energy, 2))× | \(c.scaledEnergy.map { Self.f($0, 2) + "×" } ?? "—") | \(Self.f(c.fp4Energy, 2))× | \(c.fp4ScaledEnergy.map { Self.f($0, 2) + "×" } ?? "—") |\n"
                }
            }
        }
        if let binding {
            s += "\nCells (\(technology)): " + CellKind.allCases.map { k in
                let cells = binding[k.rawValue] ?? "?"
                return "\(k.rawValue) \(cells)\(cells.contains("+") ? " (built from several cells: the library has no single one)" : "")"
            }.joined(separator: ", ") + ".\n"
        }
        s += paperSection
        s += "\n| data | lanes | INT8/dINT area | INT8/dINT energy (activity) | INT8/dINT energy (per-action) | INT8/FP4 area | INT8/FP4 energy (activity) | INT8/FP4 energy (per-action) | paper area | paper power |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for c in comparisons {
            s += "| \(c.data) | \(c.lanes) | \(Self.f(c.area, 2))× | \(Self.f(c.energy, 2))× | \(Self.f(c.perActionEnergy, 2))× | \(Self.f(c.fp4Area, 2))× | \(Self.f(c.fp4Energy, 2))× | \(Self.f(c.fp4PerActionEnergy, 2))× | \(ratios.paperArea)× | \(ratios.paperPower)× |\n"
        }
        s += "\nPer block (first data set): area µm² / dynamic pJ per MAC\n\n| unit | lanes | " + Self.blocks.joined(separator: " | ") + " |\n|---|---|" + Self.blocks.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in rows where r.data == rows[0].data {
            s += "| \(r.unit) | \(r.lanes) | " + Self.blocks.map { b in
                r.areaByBlock[b].map { "\(Self.f($0, 1)) / \(Self.f(r.dynamicPerMacByBlock[b] ?? 0, 4))" } ?? "—"
            }.joined(separator: " | ") + " |\n"
        }
        s += "\nCalibration (45 nm, random operands, dynamic energy): " + calibration.map {
            "\($0.operation) \(Self.f($0.modelEnergyPJ, 4)) pJ vs Horowitz \($0.horowitzEnergyPJ) (\(Self.f(100 * ($0.modelEnergyPJ / $0.horowitzEnergyPJ - 1), 0)) %), \(Self.f($0.modelAreaUm2, 1)) µm² vs \($0.horowitzAreaUm2) (\(Self.f(100 * ($0.modelAreaUm2 / $0.horowitzAreaUm2 - 1), 0)) %)"
        }.joined(separator: "; ") + "\n"
        if !decoder.isEmpty {
            s += "\n## TAH-Quant decode datapath (G = \(decoder[0].tileSize), \(decoder[0].output) output, first data set's activations)\n\n"
            s += "| architecture | cells | area µm² | scale/round µm² | butterfly µm² | pJ/element | cycles/tile | latency | elements/cycle | clock ns |\n|---|---|---|---|---|---|---|---|---|---|\n"
            for d in decoder {
                s += "| \(d.architecture) | \(d.cells) | \(Self.f(d.areaUm2, 0)) | \(Self.f(Self.scaleRoundBlocks.reduce(0) { $0 + (d.areaByBlock[$1] ?? 0) }, 0)) | \(Self.f(d.areaByBlock["butterfly"] ?? 0, 0)) | \(Self.f(d.energyPerElementPJ, 4)) | \(d.cyclesPerTile) | \(d.latency) | \(Self.f(d.elementsPerCycle, 2)) | \(Self.f(d.clockNs, 2)) |\n"
            }
        }
        if let blockQuantizer, !blockQuantizer.isEmpty {
            let fp4 = rows.first { $0.unit == "fp4-mac" && $0.lanes == 1 }
            s += "\n## Block quantizers (MXFP4 B = 32, floor rule; NVFP4 B = 16, exact quotient; RNE; docs/block-quantizer.md)\n\n"
            s += "| data | format | cells | area µm² | block max µm² | scale µm² | elements µm² | pJ/element | latency | elements/cycle | clock ns |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
            for q in blockQuantizer {
                s += "| \(q.data) | \(q.format) | \(q.cells) | \(Self.f(q.areaUm2, 0)) | \(Self.f(q.areaByBlock["block-max"] ?? 0, 0)) | \(Self.f(q.areaByBlock["scale"] ?? 0, 0)) | \(Self.f(q.areaByBlock["element"] ?? 0, 0)) | \(Self.f(q.energyPerElementPJ, 4)) | \(q.latency) | \(Self.f(q.elementsPerCycle, 0)) | \(Self.f(q.clockNs, 2)) |\n"
            }
            if let fp4 {
                s += "\nBeside the FP4 MAC (1 lane, W = \(fp4.configuration.accumulatorWidth)): \(Self.f(fp4.areaUm2, 0)) µm², \(Self.f(fp4.energyPerMacPJ, 4)) pJ/MAC on \(fp4.data). Quantizing an activation once per element costs " + ["mxfp4", "nvfp4"].compactMap { f in blockQuantizer.last { $0.format == f }.map { "\(Self.f($0.energyPerElementPJ / fp4.energyPerMacPJ, 2))× (\(f))" } }.joined(separator: ", ") + " one FP4 MAC; it is amortized over the output channels that reuse it.\n"
            }
        }
        if let blockScale, !blockScale.isEmpty {
            let fp4 = rows.first { $0.unit == "fp4-mac" && $0.lanes == 1 }
            s += "\n## Applying block scales (once per block; docs/block-quantizer.md)\n\n"
            s += "| data | scheme | block | partial-sum bits | cells | area µm² | pJ per MAC | FP4 MAC pJ/MAC with it | clock ns |\n|---|---|---|---|---|---|---|---|---|\n"
            for b in blockScale {
                s += "| \(b.data) | \(b.scheme) | \(b.blockSize) | \(b.partialWidth) | \(b.cells) | \(Self.f(b.areaUm2, 0)) | \(Self.f(b.energyPerMacPJ, 4)) | \(fp4.map { Self.f($0.energyPerMacPJ + b.energyPerMacPJ, 4) + " (+\(Self.f(100 * b.energyPerMacPJ / $0.energyPerMacPJ, 1)) %)" } ?? "—") | \(Self.f(b.clockNs, 2)) |\n"
            }
            // The FP4 MAC and PE rows of the stages' data set with a stage added: one per
            // accumulator (a PE's lanes share theirs), firing once per block of B MACs.
            let withStages = rows.filter { $0.unit == "fp4-mac" && $0.data == blockScale[0].data }
            if !withStages.isEmpty {
                s += "\nThe FP4 rows with the stage (one per accumulator: a PE's lanes share it):\n\n| data | lanes | " + blockScale.map { "area µm² with \($0.scheme)" }.joined(separator: " | ")
                    + " | " + blockScale.map { "pJ/MAC with \($0.scheme)" }.joined(separator: " | ") + " |\n|---|---|" + String(repeating: "---|", count: 2 * blockScale.count) + "\n"
                for r in withStages {
                    s += "| \(r.data) | \(r.lanes) | " + blockScale.map { "\(Self.f(r.areaUm2 + $0.areaUm2, 0)) (+\(Self.f(100 * $0.areaUm2 / r.areaUm2, 1)) %)" }.joined(separator: " | ")
                        + " | " + blockScale.map { "\(Self.f(r.energyPerMacPJ + $0.energyPerMacPJ, 4)) (+\(Self.f(100 * $0.energyPerMacPJ / r.energyPerMacPJ, 1)) %)" }.joined(separator: " | ") + " |\n"
                }
            }
        }
        if !sweep.isEmpty {
            s += "\n## Sweep (one parameter at a time around the defaults; ratios are INT8 over dINT / over FP4)\n\n| parameter | value | INT8 µm² | dINT µm² | FP4 µm² | area ratio dINT / FP4 | INT8 pJ/MAC | dINT pJ/MAC | FP4 pJ/MAC | energy ratio dINT / FP4 |\n|---|---|---|---|---|---|---|---|---|---|\n"
            for p in sweep {
                s += "| \(p.parameter) | \(p.value) | \(Self.f(p.int8.areaUm2, 1)) | \(Self.f(p.dint.areaUm2, 1)) | \(Self.f(p.fp4.areaUm2, 1)) | \(Self.f(p.areaRatio, 2))× / \(Self.f(p.fp4AreaRatio, 2))× | \(Self.f(p.int8.energyPerMacPJ, 4)) | \(Self.f(p.dint.energyPerMacPJ, 4)) | \(Self.f(p.fp4.energyPerMacPJ, 4)) | \(Self.f(p.energyRatio, 2))× / \(Self.f(p.fp4EnergyRatio, 2))× |\n"
            }
        }
        return s
    }

    /// Which priced configurations come within 5 % of the paper's 1.93× area and 2.56× power
    /// (INT8 over dINT), from the comparisons and the sweep.
    public var paperSection: String {
        var candidates: [(String, Double, Double)] = comparisons.map { ("\($0.data), \($0.lanes) lane(s)", $0.area, $0.energy) }
        candidates += sweep.map { ("sweep \($0.parameter) = \($0.value)", $0.areaRatio, $0.energyRatio) }
        func near(_ x: Double, _ paper: Double) -> Bool { abs(x / paper - 1) <= 0.05 }
        let area = candidates.filter { near($0.1, ratios.paperArea) }.map(\.0)
        let power = candidates.filter { near($0.2, ratios.paperPower) }.map(\.0)
        let closestArea = candidates.min { abs($0.1 - ratios.paperArea) < abs($1.1 - ratios.paperArea) }!
        let closestPower = candidates.min { abs($0.2 - ratios.paperPower) < abs($1.2 - ratios.paperPower) }!
        var s = "\nThe paper's figures (INT8/dINT, within 5 %): area \(ratios.paperArea)× — "
        s += area.isEmpty ? "no priced configuration (closest: \(closestArea.0), \(Self.f(closestArea.1, 2))×)" : area.joined(separator: "; ")
        s += "; power \(ratios.paperPower)× — "
        s += power.isEmpty ? "no priced configuration (closest: \(closestPower.0), \(Self.f(closestPower.2, 2))×)" : power.joined(separator: "; ")
        return s + ".\n"
    }

    /// The blocks of `ScaleRoundStage`.
    static let scaleRoundBlocks = ["fixed point", "constant multiplier", "normalise", "round", "exponent", "pack"]

    static let blocks = ["decode", "multiplier", "denormal", "exponent shift", "negate", "adder tree", "accumulator", "pipeline"]

    /// One CSV row per (data, unit, configuration, block), plus a "total" block row.
    public var csv: String {
        var s = "section,data,unit,lanes,pipeline_depth,accumulator_width,overflow,multiplier,adder,parameter,value,block,area_um2,dynamic_pj_per_mac,energy_pj_per_mac,clock_pj_per_mac,leakage_pj_per_mac,per_action_pj_per_mac\n"
        func emit(_ section: String, _ r: CostRow, _ parameter: String, _ value: String) {
            let head = "\(section),\"\(r.data)\",\(r.unit),\(r.lanes),\(r.configuration.pipelineDepth),\(r.configuration.accumulatorWidth),\(r.configuration.overflow.rawValue),\(r.configuration.multiplier.rawValue),\(r.configuration.adder.rawValue),\(parameter),\(value)"
            for b in r.areaByBlock.keys.sorted() {
                s += "\(head),\(b),\(Self.g(r.areaByBlock[b]!)),\(Self.g(r.dynamicPerMacByBlock[b] ?? 0)),,,,\n"
            }
            s += "\(head),total,\(Self.g(r.areaUm2)),\(Self.g(r.dynamicPerMacPJ)),\(Self.g(r.energyPerMacPJ)),\(Self.g(r.clockPerMacPJ)),\(Self.g(r.leakagePerMacPJ)),\(Self.g(r.perActionPerMacPJ))\n"
        }
        for r in rows { emit("report", r, "", "") }
        for p in sweep { for r in [p.int8, p.dint, p.fp4] { emit("sweep", r, p.parameter, p.value) } }
        for d in decoder {
            let head = "decoder,,tahquant-decode-\(d.architecture),,,,,,,tile_size,\(d.tileSize)"
            for b in d.areaByBlock.keys.sorted() { s += "\(head),\(b),\(Self.g(d.areaByBlock[b]!)),,,,,\n" }
            s += "\(head),total,\(Self.g(d.areaUm2)),,\(Self.g(d.energyPerElementPJ)),,,\n"
        }
        for b in blockScale ?? [] {
            s += "block-scale,\"\(b.data)\",\(b.scheme)-block-scale,,,,,,,block_size,\(b.blockSize),total,\(Self.g(b.areaUm2)),,\(Self.g(b.energyPerMacPJ)),,,\n"
        }
        for q in blockQuantizer ?? [] {
            let head = "block-quantizer,\"\(q.data)\",\(q.format)-block-quantizer,,,,,,,block_size,\(q.blockSize)"
            for b in q.areaByBlock.keys.sorted() { s += "\(head),\(b),\(Self.g(q.areaByBlock[b]!)),,,,,\n" }
            s += "\(head),total,\(Self.g(q.areaUm2)),,\(Self.g(q.energyPerElementPJ)),,,\n"
        }
        return s
    }

}
