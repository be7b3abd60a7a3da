import Foundation
import Formats
import TensorIO
import Cost
import Vectors
import TAHQuant
import Liberty
import Circuits
import Units

/// What each libFuzzer harness (Fuzz/*.swift, scripts/fuzz.sh) does with one input: run a parser
/// of outside input, and whatever it accepts through the code behind it. Errors are the expected
/// outcome for most inputs; a trap, a sanitizer report or a hang is a finding. The regression
/// tests replay Tests/Fixtures/fuzz/<harness>/ through the same functions.
public enum FuzzTargets {
    public static let harnesses: [String: @Sendable ([UInt8]) -> Void] = [
        "npy": npy, "codebook": codeBook, "technology": technology, "manifest": manifest, "dump": dump, "tahq": tahq,
        "safetensors": safetensors, "liberty": liberty,
    ]

    /// A Liberty library (.lib or .lib.gz): the reader, the cell binding, and static timing,
    /// activity pricing and a few timed cycles of a small MAC on whatever binds.
    public static func liberty(_ bytes: [UInt8]) {
        guard let lib = try? LibertyLibrary.parse(bytes, source: "fuzz"), let binding = try? CellBinding(lib) else { return }
        guard let circuit = try? MacCircuit(MacConfiguration(kind: .dint, lanes: 2, accumulatorWidth: 16)),
              let timed = try? TimedCost(circuit.netlist, technology: .liberty(binding), delayModel: .liberty) else { return }
        let sim = TimedSimulator(timed.gates)
        for k in 0..<4 {
            for bus in circuit.weights + circuit.activations { sim.set(bus, words: bus.map { UInt64(truncatingIfNeeded: $0) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k) }) }
            sim.evaluate()
            sim.clock(resetting: 0)
        }
        _ = timed.energy(of: sim, netlist: circuit.netlist, cycles: 4, periodNs: 1)
    }

    /// The .safetensors reader, every float tensor it accepts, and the name filter.
    public static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafetensorsFile(bytes: bytes) else { return }
        for e in file.entries { _ = try? file.floatValues(e.name) }
        _ = try? file.matrixNames(matching: ".*")
    }

    /// The .npy reader and the typed accessors behind it.
    public static func npy(_ bytes: [UInt8]) {
        guard let a = try? NpyCodec.decode(bytes) else { return }
        _ = try? a.floatValues()
        _ = try? a.uint8Values()
        _ = try? a.int8Values()
        _ = try? a.matrixShape()
        _ = NpyCodec.encode(a)
    }

    /// User code-book JSON and the level format it builds.
    public static func codeBook(_ bytes: [UInt8]) {
        guard let format = try? CodeBookFile.parse(bytes) else { return }
        for code in 0..<(1 << format.bitWidth) { _ = format.decodeHalfSteps(UInt8(code)) }
    }

    /// Technology-table JSON.
    public static func technology(_ bytes: [UInt8]) {
        _ = try? TechnologyTable.parse(bytes, source: "fuzz")
    }

    /// A vector-set MANIFEST.json and, after the first NUL byte, one hex line of its layout.
    public static func manifest(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        guard let m = try? VectorManifest(manifest: Array(bytes[..<split]), path: "fuzz") else { return }
        if split < bytes.count { _ = m.unit.layout.parseLine(Substring(String(decoding: bytes[(split + 1)...], as: UTF8.self))) }
    }

    /// A DUT dump checked against a committed set (DINTSIM_FUZZ_VECTORS, default
    /// vectors/hadamard-g8-fp16 under the working directory).
    public static func dump(_ bytes: [UInt8]) {
        let set = ProcessInfo.processInfo.environment["DINTSIM_FUZZ_VECTORS"] ?? "vectors/hadamard-g8-fp16"
        let path = NSTemporaryDirectory() + "dintsim-fuzz-dump-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        _ = try? DumpChecker.check(directory: set, dump: path)
    }

    /// The .tahq stream decoder and, for a small stream that parses, the decode behind it.
    public static func tahq(_ bytes: [UInt8]) {
        guard let t = try? TahQuantWire.decode(bytes) else { return }
        if t.codes.count <= 1 << 16 { _ = TahQuantDecoder.decodeBits(t) }
    }
}
