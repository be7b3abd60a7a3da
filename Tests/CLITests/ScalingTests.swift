import Testing
import Foundation
import TensorIO

/// Shards merged by `dintsim merge` are byte-identical to the single run, through the recipes of
/// docs/scaling.md: a Slurm job array (its tasks run by a local loop with the array's
/// environment) and GNU parallel.
@Suite(.serialized) struct ScalingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs a shell command line in the repository with DINTSIM pointing at the tested binary.
    static func shell(_ command: String, environment extra: [String: String] = [:]) throws -> CLITests.Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = URL(fileURLWithPath: repository)
        p.environment = ProcessInfo.processInfo.environment.merging(["DINTSIM": CLITests.binary].merging(extra) { $1 }) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLITests.Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A small checkpoint: three linear layers and a non-float tensor, as a real one has.
    static func checkpoint(_ path: String) throws {
        func matrix(_ rows: Int, _ columns: Int, _ k: Int) -> [UInt8] {
            let values: [Float] = (0..<(rows * columns)).map { i in Float(((i * 7919 + k * 104729) % 2001) - 1000) / Float(1000 + 37 * k) }
            return SafetensorsFile.float32Bytes(values)
        }
        try Files.writeAtomically(SafetensorsFile.serialize([
            ("layer.0.dense.weight", "F32", [24, 40], matrix(24, 40, 1)), ("position_ids", "I64", [1, 4], [UInt8](repeating: 0, count: 32)),
            ("layer.0.dense.bias", "F32", [24], matrix(1, 24, 2)), ("layer.1.dense.weight", "F32", [40, 24], matrix(40, 24, 3)),
            ("layer.1.out.weight", "F32", [16, 40], matrix(16, 40, 4)),
        ]), to: path)
    }

    @Test func slurmArrayOfCheckpointSummariesMergesToTheSingleRun() throws {
        let dir = CLITests.scratch()
        try Self.checkpoint(dir + "/model.safetensors")
        let args = "underflow --input \(dir)/model.safetensors --tensors 'weight$'"
        let single = try Self.shell("$DINTSIM \(args) --json \(dir)/single.json")
        #expect(single.status == 0, "\(single.stderr)")
        #expect(single.stdout.contains("| layer.1.out.weight | nvfp4 |") && !single.stdout.contains("bias"))
        for i in 0..<3 {
            let r = try Self.shell("bash scripts/shard.sh \(args) --json \(dir)/part%i.json",
                                   environment: ["SLURM_ARRAY_TASK_ID": "\(i)", "SLURM_ARRAY_TASK_COUNT": "3"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let merged = try Self.shell("$DINTSIM merge --out \(dir)/merged.json \(dir)/part2.json \(dir)/part0.json \(dir)/part1.json")
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try Files.read(dir + "/merged.json") == Files.read(dir + "/single.json"))
        // A missing shard is refused and nothing is written.
        let partial = try Self.shell("$DINTSIM merge --out \(dir)/partial.json \(dir)/part0.json \(dir)/part2.json")
        #expect(partial.status == 2 && partial.stderr.contains("missing [") && !FileManager.default.fileExists(atPath: dir + "/partial.json"))
    }

    @Test func gnuParallelVectorShardsMergeToTheSingleRun() throws {
        let dir = CLITests.scratch()
        let args = "vectors generate --unit fp4-mac --lanes 2 --pipeline 2 --acc-width 16 --level 2 --count 40"
        #expect(try Self.shell("$DINTSIM \(args) --out \(dir)/single").status == 0)
        let r = try Self.shell("parallel --halt now,fail=1 bash scripts/shard.sh {} 4 \(args) --out \(dir)/v%i ::: 0 1 2 3")
        #expect(r.status == 0, "\(r.stderr)")
        let merged = try Self.shell("$DINTSIM merge --out \(dir)/merged \(dir)/v3 \(dir)/v1 \(dir)/v0 \(dir)/v2")
        #expect(merged.status == 0, "\(merged.stderr)")
        for f in ["vectors.hex", "vectors.jsonl", "layout.vh", "MANIFEST.json"] {
            #expect(try Files.read("\(dir)/merged/\(f)") == Files.read("\(dir)/single/\(f)"), "\(f)")
        }
        #expect(try Self.shell("$DINTSIM vectors verify \(dir)/merged").status == 0)
        // A shard whose data no longer matches its manifest is refused.
        var hex = try Files.read(dir + "/v1/vectors.hex")
        hex[0] = hex[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try Files.writeAtomically(hex, to: dir + "/v1/vectors.hex")
        let bad = try Self.shell("$DINTSIM merge --out \(dir)/bad \(dir)/v0 \(dir)/v1 \(dir)/v2 \(dir)/v3")
        #expect(bad.status == 2 && bad.stderr.contains("checksum") && !FileManager.default.fileExists(atPath: dir + "/bad/vectors.hex"))
    }

    @Test func reportSweepShardsMergeToTheSingleRun() throws {
        let dir = CLITests.scratch()
        let args = "report --rows 8 --length 32 --minilm /nonexistent --sweep"
        #expect(try Self.shell("$DINTSIM \(args) --json \(dir)/single.json").status == 0)
        for i in 0..<2 { #expect(try Self.shell("bash scripts/shard.sh \(i) 2 \(args) --json \(dir)/r%i.json").status == 0) }
        let merged = try Self.shell("$DINTSIM merge --out \(dir)/merged.json \(dir)/r1.json \(dir)/r0.json")
        #expect(merged.status == 0 && merged.stdout.contains("## Sweep"), "\(merged.stderr)")
        #expect(try Files.read(dir + "/merged.json") == Files.read(dir + "/single.json"))
    }
}
