import Testing
import Foundation
import TensorIO
import Units

@Suite struct ReportCLITests {
    static var fixtures: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("fixtures/minilm").path
    }

    @Test func reportWritesEveryFormatAndIsByteIdentical() throws {
        let dir = CLITests.scratch()
        func once(_ tag: String) throws -> CLITests.Run {
            try CLITests.run(["report", "--rows", "32", "--length", "64", "--minilm", Self.fixtures,
                              "--json", dir + "/r\(tag).json", "--csv", dir + "/r\(tag).csv", "--svg", dir + "/r\(tag).svg",
                              "--html", dir + "/r\(tag).html"])
        }
        let a = try once("a"), b = try once("b")
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout == b.stdout)
        for ext in ["json", "csv", "svg", "html"] { #expect(try Files.read(dir + "/ra.\(ext)") == Files.read(dir + "/rb.\(ext)"), "\(ext)") }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/ra.json"))) as! [String: Any]
        let ratios = object["ratios"] as! [String: Any]
        #expect((ratios["area"] as! Double) > 1 && (ratios["energy"] as! Double) > 1)
        #expect((object["rows"] as! [Any]).count == 12) // 3 units × 2 lane counts × (synthetic + MiniLM)
        #expect((ratios["fp4_area"] as! Double) > 1 && (ratios["fp4_energy"] as! Double) > 1)
        #expect(a.stdout.contains("| fp4-mac | 16 |"))
        #expect(a.stdout.contains("MiniLM") && a.stdout.contains("paper") && a.stdout.contains("| pipelined |") && a.stdout.contains("| folded |"))
        #expect((object["decoder"] as! [Any]).count == 2)
        // Both block quantizers on every tensor, and the FP4 MAC and PE rows with each block-scale
        // stage added (area and pJ/MAC of the row plus the stage's).
        let quantizers = object["block_quantizer"] as! [[String: Any]], stages = object["block_scale"] as! [[String: Any]]
        #expect(Set(quantizers.map { $0["format"] as! String }) == ["mxfp4", "nvfp4"] && quantizers.count == 8)
        let fp4 = (object["rows"] as! [[String: Any]]).first { $0["unit"] as? String == "fp4-mac" && $0["lanes"] as? Int == 16 && $0["data"] as? String == stages[0]["data"] as? String }!
        let withNV = (fp4["area_um2"] as! Double) + (stages.first { $0["scheme"] as? String == "nvfp4" }!["area_um2"] as! Double)
        #expect(a.stdout.contains("The FP4 rows with the stage") && a.stdout.contains("| 16 | ") && a.stdout.contains(String(format: "%.0f", withNV)), "\(withNV)")
        let svg = try String(contentsOfFile: dir + "/ra.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("viewBox=") && svg.contains("paper area 1.93×") && svg.contains("µm²"))
        // The paper's marks sit on the dINT area and energy bars only: two per comparison.
        #expect(svg.components(separatedBy: "stroke=\"#000\"").count - 1 == 2 * (object["comparisons"] as! [Any]).count)
        let html = try String(contentsOfFile: dir + "/ra.html", encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.contains("<table>") && html.contains("<td>fp4-mac</td>"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"), "self-contained")
    }

    /// `--liberty` prices with a cell library: the issue's JSON keys on every row, the delay
    /// model, iso-throughput; conflicting options are refused with one line.
    @Test func reportOnALibertyLibrary() throws {
        let dir = CLITests.scratch()
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        let lib = url.appendingPathComponent("Fixtures/liberty/tiny.lib").path
        let r = try CLITests.run(["report", "--rows", "16", "--length", "32", "--minilm", dir + "/none", "--liberty", lib,
                                  "--delay-model", "liberty", "--iso-throughput", "--json", dir + "/r.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let rows = object["rows"] as! [[String: Any]]
        #expect(rows.count == 6)
        for row in rows {
            #expect(row["delay_model"] as? String == "liberty" && row["liberty"] as? String == lib)
            #expect((row["critical_path_ns"] as? Double ?? 0) > 0 && (row["glitch_pj_per_mac"] as? Double ?? -1) >= 0)
            #expect((row["scaled_supply_v"] as? Double ?? 0) > 0 && (row["scaled_supply_v"] as? Double ?? 9) <= 1.0)
        }
        // Within a comparison every unit runs at the slowest unit's critical path.
        for lanes in [1, 16] {
            let group = rows.filter { $0["lanes"] as? Int == lanes }
            let slowest = group.map { $0["critical_path_ns"] as! Double }.max()!
            #expect(group.allSatisfy { $0["clock_ns"] as! Double == slowest })
        }
        #expect(r.stdout.contains("Iso-throughput") && r.stdout.contains("glitch share"))
        // The block quantizer and both block-scale stages are priced on the library too, clock
        // and leakage at their own critical paths.
        let quantizer = object["block_quantizer"] as? [[String: Any]] ?? [], stages = object["block_scale"] as? [[String: Any]] ?? []
        #expect(!quantizer.isEmpty && stages.count == 2)
        #expect((quantizer + stages).allSatisfy { ($0["clock_ns"] as? Double ?? 0) > 0 && ($0["area_um2"] as? Double ?? 0) > 0 }, "\(quantizer) \(stages)")
        // The small library has no XOR and an inverting mux only: the report names what it built.
        #expect(r.stdout.contains("MUX2 MUXI + INV (built from several cells") && r.stdout.contains("XOR2 NAND + NAND + NAND + NAND"))
        #expect((object["binding"] as? [String: String])?["INV"] == "INV")
        // Conflicts are usage errors (ArgumentParser adds its usage lines after the first).
        for (bad, says) in [(["--delay-model", "liberty"], "--delay-model liberty needs --liberty"), (["--iso-throughput"], "--iso-throughput needs --liberty"),
                            (["--liberty", lib, "--tech", lib], "not both")] {
            let e = try CLITests.run(["report", "--rows", "8", "--length", "16"] + bad)
            #expect(e.status == 2 && e.stderr.split(separator: "\n").first.map { $0.contains(says) } == true, "\(bad): \(e.stderr)")
        }
        let missing = try CLITests.run(["report", "--rows", "8", "--length", "16", "--liberty", dir + "/missing.lib"])
        #expect(missing.status == 2 && missing.stderr.split(separator: "\n").count == 1 && missing.stderr.contains("qflow-tech-osu018"), "\(missing.stderr)")
    }

    @Test func reportOnUserDataAndBadInputs() throws {
        let dir = CLITests.scratch()
        try CLITests.writeMatrix((0..<(8 * 40)).map { Float(($0 * 13) % 17) - 8 }, rows: 8, columns: 40, to: dir + "/w.npy")
        try CLITests.writeMatrix((0..<(4 * 40)).map { Float(($0 * 7) % 11) - 5 }, rows: 4, columns: 40, to: dir + "/a.npy")
        try CLITests.writeMatrix([Float](repeating: 1, count: 4 * 39), rows: 4, columns: 39, to: dir + "/a39.npy")
        let ok = try CLITests.run(["report", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy"])
        #expect(ok.status == 0 && ok.stdout.contains("| w.npy | dint-mac | 16 |"), "\(ok.stderr)")
        try Files.writeAtomically(Array(#"{"name": "broken"}"#.utf8), to: dir + "/tech.json")
        for (args, expected) in [
            (["report", "--weights", dir + "/w.npy", "--activations", dir + "/a39.npy"], "columns"),
            (["report", "--weights", dir + "/w.npy"], "go together"),
            (["report", "--tech", dir + "/tech.json"], "cells"),
            (["report", "--tech", dir + "/none.json"], "none.json: no such file"),
            (["report", "--rows", "0"], "rows"),
        ] {
            let r = try CLITests.run(args)
            #expect(r.status == 2 && r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
    }
}

@Suite struct TahQuantCLITests {
    @Test func encodeDecodeAndRefuseCorruptStreams() throws {
        let dir = CLITests.scratch()
        let values: [Float] = (0..<(16 * 128)).map { i -> Float in
            let base = Float((i * 31) % 23) / 7 - 1.5
            return i % 128 == 5 ? base + 40 : base
        }
        try CLITests.writeMatrix(values, rows: 16, columns: 128, to: dir + "/x.npy")
        let e = try CLITests.run(["tahquant", "encode", "--input", dir + "/x.npy", "--output", dir + "/s.tahq", "--tile", "32"])
        #expect(e.status == 0 && e.stdout.contains("bits/element"), "\(e.stderr)")
        for (format, arch) in [("fp32", "pipelined"), ("bf16", "folded"), ("fp16", "software")] {
            let d = try CLITests.run(["tahquant", "decode", "--input", dir + "/s.tahq", "--output", dir + "/y-\(format).npy", "--out-format", format, "--arch", arch])
            if arch != "software" { #expect(d.stdout.contains("equal to the software decoder") && d.stdout.contains("cycles")) }
            #expect(d.status == 0, "\(d.stderr)")
            let y = try Files.readNpy(dir + "/y-\(format).npy")
            #expect(y.shape == [16, 128] && y.dtype == (format == "fp16" ? .float16 : .float32))
        }
        var bytes = try Files.read(dir + "/s.tahq")
        try Files.writeAtomically(Array(bytes.prefix(100)), to: dir + "/short.tahq")
        bytes[4] = 2
        try Files.writeAtomically(bytes, to: dir + "/v2.tahq")
        for (file, expected) in [("short.tahq", "corrupt stream at byte"), ("v2.tahq", "byte 4: version 2")] {
            let r = try CLITests.run(["tahquant", "decode", "--input", dir + "/" + file, "--output", dir + "/bad.npy"])
            #expect(r.status == 2 && r.stderr.contains(expected), "\(file): \(r.stderr)")
        }
        let fp16 = try CLITests.run(["tahquant", "decode", "--input", dir + "/s.tahq", "--output", dir + "/y16.npy", "--out-format", "fp16"])
        #expect(fp16.status == 0 && fp16.stdout.contains("equal to the software decoder"), "\(fp16.stderr)")
        let badArch = try CLITests.run(["tahquant", "decode", "--input", dir + "/s.tahq", "--output", dir + "/bad.npy", "--arch", "systolic"])
        #expect(badArch.status == 2 && badArch.stderr.contains("--arch"))
        let wave = try CLITests.run(["tahquant", "decode", "--input", dir + "/s.tahq", "--output", dir + "/yv.npy", "--vcd", dir + "/d.vcd"])
        let waveText = try String(contentsOfFile: dir + "/d.vcd", encoding: .utf8)
        #expect(wave.status == 0 && waveText.contains("$enddefinitions"))
        let g = try CLITests.run(["tahquant", "encode", "--input", dir + "/x.npy", "--output", dir + "/bad.tahq", "--tile", "48"])
        #expect(g.status == 2 && g.stderr.contains("tile size"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.npy") && !FileManager.default.fileExists(atPath: dir + "/bad.tahq"))
    }
}

/// `dintsim export --unit block-quantizer`: the datapath's Verilog with block_quantizer.v's ports
/// (RTLTests runs it in that module's test bench), or mapped to a library's cells with the
/// datapath's own ports (what scripts/real_flow.py times with OpenSTA); bad sizes exit 2.
@Suite struct ExportBlockQuantizerCLITests {
    @Test func exportsTheBlockQuantizer() throws {
        let dir = CLITests.scratch()
        let generic = try CLITests.run(["export", "--unit", "block-quantizer", "--block-size", "8", "--output", dir + "/bq.v"])
        #expect(generic.status == 0, "\(generic.stderr)")
        #expect(try String(contentsOfFile: dir + "/bq.v", encoding: .utf8) == BlockQuantizerDatapath(blockSize: 8).verilog())
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        let lib = url.appendingPathComponent("Fixtures/liberty/tiny.lib").path
        let mapped = try CLITests.run(["export", "--unit", "block-quantizer", "--block-size", "4", "--liberty", lib])
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(mapped.stdout.contains("module block_quantizer (") && mapped.stdout.contains("input  wire [127:0] x")
                && mapped.stdout.contains("output wire [7:0] scale") && mapped.stdout.contains("output wire [15:0] c"))
        #expect(mapped.stdout.contains(" INV u0 (") || mapped.stdout.contains(" NAND u0 ("), "library cells are instantiated")
        for bad in ["0", "65"] {
            let r = try CLITests.run(["export", "--unit", "block-quantizer", "--block-size", bad])
            #expect(r.status == 2 && r.stderr.contains("--block-size"), "\(r.stderr)")
        }
        // The NVFP4 unit: nvfp4_quantizer.v's ports (the tensor scale s too), B 16 by default.
        let nv = try CLITests.run(["export", "--unit", "nvfp4-quantizer", "--output", dir + "/nv.v"])
        #expect(nv.status == 0, "\(nv.stderr)")
        #expect(try String(contentsOfFile: dir + "/nv.v", encoding: .utf8) == NVFP4QuantizerDatapath(blockSize: 16).verilog())
        let nvMapped = try CLITests.run(["export", "--unit", "nvfp4-quantizer", "--block-size", "4", "--liberty", lib])
        #expect(nvMapped.status == 0 && nvMapped.stdout.contains("module nvfp4_quantizer (") && nvMapped.stdout.contains("input  wire [31:0] s")
                && nvMapped.stdout.contains("output wire [15:0] c"), "\(nvMapped.stderr)")
        let nvRule = try CLITests.run(["export", "--unit", "nvfp4-quantizer", "--mx-scale", "ceil"])
        #expect(nvRule.status == 2 && nvRule.stderr.contains("--mx-scale does not apply"), "\(nvRule.stderr)")
    }
}

/// `simulate --unit block-quantizer`: the blocks through the netlist, priced; bad input exits 2.
@Suite struct SimulateBlockQuantizerCLITests {
    @Test func pricesTheBlocksItWasGiven() throws {
        let dir = CLITests.scratch()
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        let lib = url.appendingPathComponent("Fixtures/liberty/tiny.lib").path
        // 64 blocks of 4: ties, saturation, zeros, a large exponent spread.
        let values = (0..<256).map { i -> Float in Float((i * 37) % 29 - 14) / 4 * Float(sign: .plus, exponent: (i / 4) % 9 - 4, significand: 1) }
        try Files.writeNpy(try NpyArray(float32: values, shape: [64, 4]), to: dir + "/blocks.npy")
        var energies: [String: Double] = [:]
        for rule in ["floor", "rceil"] {
            let r = try CLITests.run(["simulate", "--unit", "block-quantizer", "--blocks", dir + "/blocks.npy", "--block-size", "4", "--mx-scale", rule,
                                      "--liberty", lib, "--delay-model", "liberty", "--json", dir + "/\(rule).json"])
            #expect(r.status == 0 && r.stdout.contains("block quantizer B = 4, \(rule) rule: 64 blocks"), "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/\(rule).json"))) as? [String: Any])
            let energy = try #require(json["energy_pj_per_element"] as? Double)
            let parts = ["dynamic_pj_per_element", "clock_pj_per_element", "leakage_pj_per_element"].compactMap { json[$0] as? Double }
            #expect(energy > 0 && parts.count == 3 && abs(parts.reduce(0, +) - energy) <= 1e-9 * energy)
            #expect((json["blocks"] as? Int) == 64 && (json["scale_rule"] as? String) == rule && ((json["functional_toggles_per_block"] as? Double) ?? 0) > 0)
            energies[rule] = energy
        }
        #expect(energies["floor"] != energies["rceil"], "the two rules are different netlists")
        // The NVFP4 unit on the same blocks (its tensor scale from the whole file), checked against
        // the library inside; --mx-scale does not apply to it.
        let nv = try CLITests.run(["simulate", "--unit", "nvfp4-quantizer", "--blocks", dir + "/blocks.npy", "--block-size", "4",
                                   "--liberty", lib, "--json", dir + "/nv.json"])
        #expect(nv.status == 0 && nv.stdout.contains("nvfp4 block quantizer B = 4, exact-quotient rule: 64 blocks"), "\(nv.stderr)")
        let nvJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/nv.json"))) as? [String: Any])
        #expect(nvJSON["format"] as? String == "nvfp4" && (nvJSON["energy_pj_per_element"] as? Double ?? 0) > 0)
        let nvRule = try CLITests.run(["simulate", "--unit", "nvfp4-quantizer", "--blocks", dir + "/blocks.npy", "--block-size", "4", "--mx-scale", "ceil", "--liberty", lib])
        #expect(nvRule.status == 2 && nvRule.stderr.contains("--mx-scale does not apply"), "\(nvRule.stderr)")
        let bad: [([String], String)] = [
            (["--block-size", "8"], "columns"),
            (["--block-size", "4", "--mx-scale", "stochastic"], "random source"),
            (["--block-size", "4", "--weights", dir + "/blocks.npy"], "--blocks"),
        ]
        for (extra, message) in bad {
            let r = try CLITests.run(["simulate", "--unit", "block-quantizer", "--blocks", dir + "/blocks.npy", "--liberty", lib] + extra)
            #expect(r.status == 2 && r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.status) \(r.stderr)")
        }
        let unpriced = try CLITests.run(["simulate", "--unit", "block-quantizer", "--blocks", dir + "/blocks.npy", "--block-size", "4"])
        #expect(unpriced.status == 2 && unpriced.stderr.contains("--liberty"), "\(unpriced.stderr)")
    }
}
