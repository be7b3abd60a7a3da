import Testing
import Foundation
import TensorIO
import Circuits
import Units

@Suite struct SimulateCLITests {
    static func write(_ dir: String) throws {
        var codes: [UInt8] = [], acts: [Int8] = [], int8w: [Int8] = []
        for i in 0..<(70 * 33) {
            codes.append([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15][i * 7 % 15])
            acts.append(Int8(truncatingIfNeeded: i * 37))
            int8w.append(Int8(truncatingIfNeeded: i * 91 + 5))
        }
        try Files.writeNpy(try NpyArray(uint8: codes, shape: [70, 33]), to: dir + "/w.npy")
        try Files.writeNpy(try NpyArray(int8: int8w, shape: [70, 33]), to: dir + "/w8.npy")
        try Files.writeNpy(try NpyArray(int8: acts, shape: [70, 33]), to: dir + "/a.npy")
        var bad = codes; bad[40] = 8 // reserved "−0"
        try Files.writeNpy(try NpyArray(uint8: bad, shape: [70, 33]), to: dir + "/reserved.npy")
        try Files.writeNpy(try NpyArray(int8: Array(acts.prefix(33 * 10)), shape: [10, 33]), to: dir + "/a-short.npy")
    }

    @Test(arguments: ["fast", "netlist", "toggles"])
    func simulateWritesResultsCyclesAndToggles(mode: String) throws {
        let dir = CLITests.scratch()
        try Self.write(dir)
        let r = try CLITests.run(["simulate", "--unit", "dint-mac", "--lanes", "4", "--pipeline", "2", "--mode", mode,
                                  "--weights", dir + "/w.npy", "--activations", dir + "/a.npy", "--json", dir + "/r.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let results = object["results"] as! [Int]
        let codes = try Files.readNpy(dir + "/w.npy").uint8Values(), acts = try Files.readNpy(dir + "/a.npy").int8Values()
        let expected = MacRunner(try MacConfiguration(kind: .dint, lanes: 4, pipelineDepth: 2)).reference(codes: codes, activations: acts, rows: 70, length: 33)
        #expect(results.map(Int64.init) == expected)
        #expect(object["cycles"] as? Int == 70 * 9 + 2 && object["latency"] as? Int == 2)
        if mode == "toggles" { #expect((object["toggles"] as? Int ?? 0) > 0) } else { #expect(object["toggles"] is NSNull) }
        #expect(r.stdout.contains("results agree with plain integer arithmetic"))
    }

    @Test func int8MacAcceptsInt8WeightsAndWritesAVCD() throws {
        let dir = CLITests.scratch()
        try Self.write(dir)
        let r = try CLITests.run(["simulate", "--unit", "int8-mac", "--lanes", "16", "--pipeline", "3", "--overflow", "saturate", "--acc-width", "20",
                                  "--multiplier", "dadda", "--adder", "kogge-stone", "--mode", "netlist",
                                  "--weights", dir + "/w8.npy", "--activations", dir + "/a.npy", "--vcd", dir + "/wave.vcd"])
        #expect(r.status == 0, "\(r.stderr)")
        let vcd = try String(contentsOfFile: dir + "/wave.vcd", encoding: .utf8)
        #expect(vcd.contains("$enddefinitions $end") && vcd.contains(" acc [19:0] $end") && vcd.contains(" valid_out $end"))
        // --vcd-row: the instance running dot products 66 mod 64 = 2 and 66; the printed length is
        // the waveform's; acc shows each row's result D − 1 cycles after its last transaction.
        let json = dir + "/r.json"
        let s = try CLITests.run(["simulate", "--unit", "int8-mac", "--lanes", "16", "--pipeline", "3", "--acc-width", "24", "--mode", "netlist",
                                  "--weights", dir + "/w8.npy", "--activations", dir + "/a.npy", "--vcd", dir + "/row66.vcd", "--vcd-row", "66", "--json", json])
        #expect(s.status == 0, "\(s.stderr)")
        let printed = try #require(s.stdout.split(separator: "\n").first { $0.hasPrefix("waveform: instance 2 (dot products 2, 66)") })
        let cycles = try #require(Int(printed.components(separatedBy: "), ").last!.components(separatedBy: " cycles").first!))
        let wave = try String(contentsOfFile: dir + "/row66.vcd", encoding: .utf8)
        #expect(wave.hasSuffix("#\(2 * cycles)\n"), "\(printed)")
        let results = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any])["results"] as! [Int]
        let acc = try VCDReader.parse(wave)["acc"]!
        func shown(_ cycle: Int) -> Int { Int(acc.last { $0.time <= 2 * cycle }!.value) }
        let t = 3, d = 3   // 33 columns on 16 lanes; depth 3
        #expect(shown(t - 1 + d) == results[2] & 0xFFFFFF && shown(2 * t - 1 + d) == results[66] & 0xFFFFFF)
        let bad = try CLITests.run(["simulate", "--mode", "netlist", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy", "--vcd", dir + "/x.vcd", "--vcd-row", "70"])
        #expect(bad.status == 2 && bad.stderr.contains("dot product 70"), "\(bad.stderr)")
    }

    /// `quantize --format int8-sym` writes uint8 codes: simulate takes them as the int8 bit patterns.
    @Test func uint8ActivationCodesEqualTheirInt8Values() throws {
        let dir = CLITests.scratch()
        try Self.write(dir)
        let acts = try Files.readNpy(dir + "/a.npy").int8Values().map { UInt8(bitPattern: $0) }
        try Files.writeNpy(try NpyArray(uint8: acts, shape: [70, 33]), to: dir + "/a-codes.npy")
        let a = try CLITests.run(["simulate", "--mode", "fast", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy"])
        let b = try CLITests.run(["simulate", "--mode", "fast", "--weights", dir + "/w.npy", "--activations", dir + "/a-codes.npy"])
        #expect(a.status == 0 && b.status == 0 && a.stdout == b.stdout && a.stdout.contains("row 69:"), "\(a.stderr) \(b.stderr)")
    }

    @Test func badSimulationInputsExitTwoAndWriteNothing() throws {
        let dir = CLITests.scratch()
        try Self.write(dir)
        // uint8 activations are the int8-sym codes quantize writes (accepted); float ones are not.
        try CLITests.writeMatrix([Float](repeating: 0.5, count: 70 * 33), rows: 70, columns: 33, to: dir + "/float.npy")
        func sim(_ extra: [String], weights: String = "w.npy", acts: String = "a.npy") -> [String] {
            ["simulate", "--weights", dir + "/" + weights, "--activations", dir + "/" + acts, "--json", dir + "/out.json"] + extra
        }
        let cases: [(String, [String], String)] = [
            ("reserved code", sim([]), "reserved"),
            ("shape mismatch", sim([], acts: "a-short.npy"), "differs"),
            ("unknown unit", sim(["--unit", "fp8-mac"]), "unknown unit"),
            ("acc too narrow", sim(["--unit", "int8-mac", "--acc-width", "8"], weights: "w8.npy"), "accumulator width"),
            ("depth", sim(["--pipeline", "4"]), "pipeline depth"),
            ("lanes", sim(["--lanes", "0"]), "lanes"),
            ("overflow", sim(["--overflow", "clamp"]), "overflow"),
            ("vcd in fast mode", sim(["--mode", "fast", "--vcd", dir + "/x.vcd"]), "--vcd"),
            ("float activations", sim([], acts: "float.npy"), "int8"),
        ]
        for (name, args, expected) in cases {
            var a = args
            if name == "reserved code" { a = sim([], weights: "reserved.npy") }
            let r = try CLITests.run(a)
            #expect(r.status == 2, "\(name): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(expected), "\(name): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.json") && !FileManager.default.fileExists(atPath: dir + "/x.vcd"))
    }

    /// quantize's scales: per row, per tensor or per token; the dequantized outputs are the sums
    /// times both scales (and ½ for half-steps), in the results' shape; group scales are refused.
    @Test func scalesDequantizeTheResults() throws {
        let dir = CLITests.scratch()
        try Self.write(dir)
        let rowScales = (0..<70).map { Float($0 + 1) / 64 }
        try Files.writeNpy(try NpyArray(float32: rowScales, shape: [70]), to: dir + "/sw.npy")
        try Files.writeNpy(try NpyArray(float32: [0.125], shape: [1]), to: dir + "/sa.npy")
        try Files.writeNpy(try NpyArray(float32: [Float](repeating: 1, count: 140), shape: [70, 2]), to: dir + "/groups.npy")
        try Files.writeNpy(try NpyArray(float32: [Float](repeating: 1, count: 10), shape: [10]), to: dir + "/a-short-scales.npy")
        let r = try CLITests.run(["simulate", "--mode", "fast", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy",
                                  "--weight-scales", dir + "/sw.npy", "--activation-scales", dir + "/sa.npy", "--outputs", dir + "/y.npy", "--json", dir + "/r.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let results = object["results"] as! [Int], outputs = object["outputs"] as! [Double]
        let y = try Files.readNpy(dir + "/y.npy")
        #expect(y.shape == [70] && y.dtype == .float32)
        let values = try y.floatValues()
        for i in 0..<70 {
            // Sums are small here: the product is exact in binary64, so one rounding to binary32.
            let expected = Float(Double(results[i]) * 0.5 * Double(rowScales[i]) * 0.125)
            #expect(values[i] == expected && Float(outputs[i]) == expected, "row \(i)")
        }
        // The matrix product: 10 tokens × 70 output channels, token-major.
        let m = try CLITests.run(["simulate", "--mode", "fast", "--pairing", "matmul", "--weights", dir + "/w.npy", "--activations", dir + "/a-short.npy",
                                  "--weight-scales", dir + "/sw.npy", "--activation-scales", dir + "/a-short-scales.npy", "--outputs", dir + "/ym.npy", "--json", dir + "/m.json"])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(try Files.readNpy(dir + "/ym.npy").shape == [10, 70])
        let mo = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/m.json"))) as! [String: Any]
        let codes = try Files.readNpy(dir + "/w.npy").uint8Values(), acts = try Files.readNpy(dir + "/a-short.npy").int8Values()
        let mr = mo["results"] as! [Int]
        for (t, o) in [(0, 0), (3, 17), (9, 69)] {
            let sum = (0..<33).reduce(0) { $0 + [0, 2, 4, 6, 8, 10, 12, 1, 0, -2, -4, -6, -8, -10, -12, -1][Int(codes[o * 33 + $1])] * Int(acts[t * 33 + $1]) }
            #expect(mr[t * 70 + o] == sum, "token \(t) output \(o)")
        }
        func refused(_ extra: [String], _ fragment: String) throws {
            let r = try CLITests.run(["simulate", "--mode", "fast", "--weights", dir + "/w.npy", "--activations", dir + "/a.npy", "--outputs", dir + "/no.npy"] + extra)
            #expect(r.status == 2 && r.stderr.contains(fragment), "\(extra): \(r.stderr)")
        }
        try refused(["--weight-scales", dir + "/groups.npy", "--activation-scales", dir + "/sa.npy"], "per row")
        try refused(["--weight-scales", dir + "/sw.npy"], "go together")
        try refused([], "--outputs writes dequantized results")
        try refused(["--weight-scales", dir + "/a.npy", "--activation-scales", dir + "/sa.npy"], "float32")
        #expect(!FileManager.default.fileExists(atPath: dir + "/no.npy"))
    }
}
