import ArgumentParser
import Formats

struct FormatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "Print the code table (code bits, value in steps) of each number format.")

    @Option(help: "One format: a preset name (dint4, fp4, int4, int4-sym, uint4, uint3, int8-sym, int8), codebook:FILE.json, or a float (fp32, fp16, bf16, e2m1, e4m3, ue8m0).")
    var format: String?

    func run() throws {
        if let name = format, let float = BinaryFloatFormat.presets.first(where: { $0.name == name }) {
            printOut(describe(float))
            return
        }
        let formats = try format.map { [try resolveFormat($0)] } ?? LevelFormat.presets
        var out = ""
        for f in formats { out += table(f) + "\n" }
        if format == nil { for f in BinaryFloatFormat.presets { out += describe(f) + "\n" } }
        printOut(out)
    }

    func table(_ f: LevelFormat) -> String {
        var s = "## \(f.name) (\(f.bitWidth)-bit \(f.layout.rawValue)); levels \(LevelFormat.stepsText(f.minHalfSteps))…\(LevelFormat.stepsText(f.maxHalfSteps)) steps, top level \(LevelFormat.stepsText(f.maxHalfSteps))\n\n"
        s += "| code | bits | value (steps) | note |\n|---|---|---|---|\n"
        for code in 0..<f.codeCount {
            let bits = String(code, radix: 2)
            let padded = String(repeating: "0", count: f.bitWidth - bits.count) + bits
            var note = f.reserved[code] ? "reserved (never produced)" : ""
            if !f.reserved[code], f.code(forHalfSteps: f.halfSteps[code]) != UInt8(code) { note = "duplicate (never produced)" }
            if f.halfSteps[code] % 2 != 0 { note += note.isEmpty ? "denormal" : ", denormal" }
            s += "| \(code) | \(padded) | \(LevelFormat.stepsText(f.halfSteps[code])) | \(note) |\n"
        }
        return s
    }

    func describe(_ f: BinaryFloatFormat) -> String {
        let smallest = f.hasSubnormals ? "smallest subnormal \(f.decode(1))" : "smallest \(f.decode(0)) (no zero, no subnormals)"
        return "## \(f.name): \(f.isSigned ? "1 sign" : "unsigned"), \(f.exponentBits) exponent (bias \(f.bias)), \(f.fractionBits) fraction bits; "
            + "normal exponents \(f.minExponent)…\(f.maxExponent), specials: \(f.specials.rawValue); "
            + "largest finite \(f.decode(f.maxFiniteBits)), \(smallest)\n"
    }
}
