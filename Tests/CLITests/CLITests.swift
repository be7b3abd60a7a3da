import Testing
import Foundation
import Formats
import Quantization
import TensorIO

/// End-to-end: the built `dintsim` binary, its outputs and its exit codes.
@Suite struct CLITests {
    struct Run { let status: Int32; let stdout: String; let stderr: String }

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dintsim").path
    }

    static func run(_ arguments: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func scratch() -> String {
        let dir = NSTemporaryDirectory() + "dintsim-cli-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func writeMatrix(_ values: [Float], rows: Int, columns: Int, to path: String) throws {
        try Files.writeNpy(try NpyArray(float32: values, shape: [rows, columns]), to: path)
    }

    @Test func formatsPrintsEveryTable() throws {
        let r = try Self.run(["formats"])
        #expect(r.status == 0)
        for name in LevelFormat.presets.map(\.name) + ["fp32", "fp16", "bf16"] { #expect(r.stdout.contains("## \(name)")) }
        let d = try Self.run(["formats", "--format", "dint4"])
        #expect(d.stdout.contains("| 8 | 1000 | 0 | reserved (never produced) |"))
        #expect(d.stdout.contains("| 15 | 1111 | -½ | denormal |"))
    }

    @Test func quantizeWritesWhatTheLibraryComputes() throws {
        let dir = Self.scratch()
        let rows = 12, columns = 40
        let values = (0..<(rows * columns)).map { i in Float(sin(Double(i) * 0.37)) * (i % 7 == 0 ? 5 : 1) }
        try Self.writeMatrix(values, rows: rows, columns: columns, to: dir + "/x.npy")
        let r = try Self.run(["quantize", "--format", "dint4", "--granularity", "group:16", "--input", dir + "/x.npy",
                              "--codes-out", dir + "/c.npy", "--scales-out", dir + "/s.npy", "--stats-json", dir + "/stats.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try SymmetricQuantizer(format: .dint4, granularity: .group(16)).quantize(values, rows: rows, columns: columns)
        let codes = try Files.readNpy(dir + "/c.npy"), scales = try Files.readNpy(dir + "/s.npy")
        #expect(codes.dtype == .uint8 && codes.shape == [rows, columns] && codes.data == expected.codes)
        let scaleValues = try scales.floatValues()
        #expect(scales.dtype == .float32 && scales.shape == [rows, 3] && scaleValues == expected.scales)
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/stats.json"))) as! [String: Any]
        #expect(stats["underflow_count"] as? Int == expected.statistics.underflowCount)
        for key in ["underflow_rate", "clip_rate", "mse", "sqnr_db", "elements"] { #expect(stats[key] != nil, "\(key)") }
        #expect(r.stdout.contains("underflow") && r.stdout.contains("SQNR"))
    }

    @Test func stochasticQuantizationIsByteIdenticalForASeed() throws {
        let dir = Self.scratch()
        try Self.writeMatrix((0..<4096).map { Float($0 % 97) / 13 - 3 }, rows: 64, columns: 64, to: dir + "/x.npy")
        func once(_ tag: String, seed: String) throws -> [UInt8] {
            let r = try Self.run(["quantize", "--format", "int4-sym", "--granularity", "channel", "--rounding", "stochastic", "--seed", seed,
                                  "--input", dir + "/x.npy", "--codes-out", dir + "/c\(tag).npy", "--scales-out", dir + "/s\(tag).npy"])
            #expect(r.status == 0)
            return try Files.read(dir + "/c\(tag).npy")
        }
        #expect(try once("a", seed: "7") == once("b", seed: "7"))
        #expect(try once("c", seed: "7") != once("d", seed: "8"))
    }

    @Test func nonFiniteInputsNeedAPolicy() throws {
        let dir = Self.scratch()
        try Self.writeMatrix([1, .nan, 3, -.infinity], rows: 2, columns: 2, to: dir + "/x.npy")
        let base = ["quantize", "--format", "dint4", "--granularity", "channel", "--input", dir + "/x.npy",
                    "--codes-out", dir + "/c.npy", "--scales-out", dir + "/s.npy"]
        let refused = try Self.run(base)
        #expect(refused.status == 2 && refused.stderr.contains("non-finite"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.npy"))
        let accepted = try Self.run(base + ["--allow-nonfinite", "zero"])
        #expect(accepted.status == 0)
        #expect(try Files.readNpy(dir + "/c.npy").data == [6, 0, 6, 0])
    }

    /// Every bad input: exit code 2, a one-line error, and no output file.
    @Test func badInputsExitTwoAndWriteNothing() throws {
        let dir = Self.scratch()
        try Self.writeMatrix([1, 2, 3, 4], rows: 2, columns: 2, to: dir + "/good.npy")
        try Files.writeNpy(try NpyArray(float32: [1, 2, 3, 4], shape: [4]), to: dir + "/rank1.npy")
        try Files.writeNpy(try NpyArray(uint8: [1, 2, 3, 4], shape: [2, 2]), to: dir + "/u8.npy")
        try Files.writeAtomically(Array((try Files.read(dir + "/good.npy")).dropLast(3)), to: dir + "/truncated.npy")
        try Files.writeAtomically(Array(#"{"name": "b", "levels": [1,2]}"#.utf8), to: dir + "/book.json")
        func quantize(_ input: String, _ extra: [String] = [], format: String = "dint4", granularity: String = "channel", out: String = dir) -> [String] {
            ["quantize", "--format", format, "--granularity", granularity, "--input", dir + "/" + input,
             "--codes-out", out + "/c.npy", "--scales-out", out + "/s.npy"] + extra
        }
        let cases: [(String, [String], String)] = [
            ("truncated npy", quantize("truncated.npy"), "truncated"),
            ("rank 1", quantize("rank1.npy"), "2-D"),
            ("uint8 input", quantize("u8.npy"), "float32"),
            ("missing file", quantize("none.npy"), "no such file"),
            ("unknown format", quantize("good.npy", format: "int5"), "unknown format"),
            ("unsigned format", quantize("good.npy", format: "uint4"), "negative"),
            ("bad code book", quantize("good.npy", format: "codebook:" + dir + "/book.json"), "level 0"),
            ("bad granularity", quantize("good.npy", granularity: "group:0"), "granularity"),
            ("bad rounding", quantize("good.npy", ["--rounding", "sideways"]), "rounding"),
            ("bad seed", quantize("good.npy", ["--seed", "-1"]), "seed"),
            ("missing output dir", quantize("good.npy", out: dir + "/nowhere"), "does not exist"),
            ("unknown option", quantize("good.npy", ["--frobnicate"]), "frobnicate"),
            ("unknown command", ["frobnicate"], "frobnicate"),
            ("underflow bad distribution", ["underflow", "--distribution", "cauchy"], "distribution"),
            ("underflow bad size", ["underflow", "--rows", "0"], "rows"),
        ]
        for (name, arguments, expected) in cases {
            let r = try Self.run(arguments)
            #expect(r.status == 2, "\(name): exit \(r.status)")
            #expect(r.stderr.contains(expected), "\(name): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(name) printed to stdout")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["book.json", "good.npy", "rank1.npy", "truncated.npy", "u8.npy"])
    }

    /// `quantize --format nvfp4|mxfp4` writes exactly what the library computes, block scale codes
    /// as uint8 [rows, blocks], and refuses the options that do not apply.
    @Test func quantizeToTheBlockFormats() throws {
        let dir = Self.scratch()
        let values = (0..<(3 * 40)).map { Float(($0 * 37) % 23) - 11.5 }
        try Self.writeMatrix(values, rows: 3, columns: 40, to: dir + "/x.npy")
        for scheme in BlockFloatScheme.allCases {
            let r = try Self.run(["quantize", "--format", scheme.rawValue, "--input", dir + "/x.npy", "--codes-out", dir + "/c.npy",
                                  "--scales-out", dir + "/s.npy", "--stats-json", dir + "/st.json"])
            #expect(r.status == 0, "\(r.stderr)")
            let expected = try BlockFloatQuantizer(scheme: scheme).quantize(values, rows: 3, columns: 40)
            let codes = try Files.readNpy(dir + "/c.npy"), scales = try Files.readNpy(dir + "/s.npy")
            #expect(try codes.uint8Values() == expected.codes && codes.shape == [3, 40])
            #expect(try scales.uint8Values() == expected.blockScales && scales.shape == [3, expected.blocksPerRow])
            let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/st.json"))) as! [String: Any]
            #expect(stats["tensor_scale_bits"] as? String == "0x" + String(expected.tensorScale.bitPattern, radix: 16))
        }
        let refused = try Self.run(["quantize", "--format", "mxfp4", "--granularity", "channel", "--input", dir + "/x.npy",
                                    "--codes-out", dir + "/c2.npy", "--scales-out", dir + "/s2.npy"])
        #expect(refused.status == 2 && refused.stderr.contains("--granularity does not apply"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/c2.npy"))
    }

    /// `quantize`'s convention options compose as the variant names do (one initializer): each
    /// set of options writes the codes and scales of the library quantizer of the matching name.
    @Test func quantizeOptionsEqualTheVariantNames() throws {
        let dir = Self.scratch()
        let values: [Float] = (0..<(4 * 48)).map { (i: Int) -> Float in
            let base = Float((i * 53) % 41) / 8 - 2.5
            return i % 7 == 0 ? base - 0.01 : base
        }
        try Self.writeMatrix(values, rows: 4, columns: 48, to: dir + "/x.npy")
        let cases: [([String], String)] = [
            (["--format", "nvfp4", "--convention", "torchao", "--signed-zero", "keep"], "nvfp4:torchao:keep"),
            (["--format", "nvfp4", "--nvfp4-tensor-scale", "encode"], "nvfp4:encode"),
            (["--format", "nvfp4", "--convention", "nvidia", "--nvfp4-element-division", "exact"], "nvfp4:nvidia:exact"),
            (["--format", "nvfp4", "--nvfp4-block-scale", "amax-first", "--nvfp4-tensor-scale", "encode"], "nvfp4:encode:amax-first"),
            (["--format", "mxfp4", "--convention", "compressed-tensors", "--mx-scale", "even"], "mxfp4:compressed-tensors:even"),
        ]
        for (options, name) in cases {
            let r = try Self.run(["quantize", "--input", dir + "/x.npy", "--codes-out", dir + "/c.npy", "--scales-out", dir + "/s.npy"] + options)
            #expect(r.status == 0, "\(options): \(r.stderr)")
            let variant = try #require(try BlockFloatVariant(parsing: name))
            let expected = try BlockFloatQuantizer(variant).quantize(values, rows: 4, columns: 48)
            #expect(try Files.readNpy(dir + "/c.npy").uint8Values() == expected.codes, "\(name)")
            #expect(try Files.readNpy(dir + "/s.npy").uint8Values() == expected.blockScales, "\(name)")
        }
    }

    @Test func underflowComparesTheFormats() throws {
        let dir = Self.scratch()
        let r = try Self.run(["underflow", "--rows", "32", "--columns", "128", "--json", dir + "/u.json"])
        #expect(r.status == 0)
        for d in ["gaussian", "laplace", "student-t", "outlier-channels"] { #expect(r.stdout.contains(d)) }
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/u.json"))) as! [[String: Any]]
        #expect(rows.count == 6 * 5) // int4, int4-sym, dint4, fp4, mxfp4, nvfp4 × 5 distributions
        #expect(Set(rows.map { $0["format"] as! String }) == ["int4", "int4-sym", "dint4", "fp4", "mxfp4", "nvfp4"])
        // Storage per element, scales included: 4 + 32/128 per channel; MX 4 + 8/32; NV 4 + 8/16 + 32/(32·128).
        let bits = Dictionary(rows.map { ($0["format"] as! String, $0["bits_per_element"] as! Double) }, uniquingKeysWith: { a, _ in a })
        #expect(bits["dint4"] == 4.25 && bits["mxfp4"] == 4.25 && bits["nvfp4"] == 4.5 + 32.0 / 4096)
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let real = try Self.run(["underflow", "--input", url.appendingPathComponent("fixtures/minilm/minilm-l1-key-weight.npy").path])
        #expect(real.status == 0 && real.stdout.contains("| minilm-l1-key-weight.npy | dint4 |") && real.stdout.contains("| minilm-l1-key-weight.npy | nvfp4 |"))
        // Stochastic rounding reaches the block formats' elements too, seeded.
        let stochastic = try Self.run(["underflow", "--rows", "4", "--columns", "32", "--formats", "dint4,mxfp4,nvfp4:nvidia", "--rounding", "stochastic", "--seed", "5"])
        #expect(stochastic.status == 0 && stochastic.stdout.contains("| mxfp4 |") && stochastic.stdout.contains("| nvfp4:encode:reciprocal |"))
        // Same seed, same bytes.
        #expect(try Self.run(["underflow", "--rows", "16", "--columns", "64", "--seed", "3"]).stdout
                == Self.run(["underflow", "--rows", "16", "--columns", "64", "--seed", "3"]).stdout)
    }
}
