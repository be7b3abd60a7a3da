import ArgumentParser
import Circuits
import Formats
import Kernels
import Units
import Workflows

extension OverflowRule: ExpressibleByArgument {}
extension MultiplierArchitecture: ExpressibleByArgument {}
extension AdderArchitecture: ExpressibleByArgument {}
extension SimulationMode: ExpressibleByArgument {}
extension InstructionSet: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
    public var defaultValueDescription: String { "the fastest this CPU supports: \(Self.best)" }
}
extension MacSimulation.Pairing: ExpressibleByArgument {}

/// A MAC's lanes, depth, accumulator width and overflow rule: `simulate`, `export` and
/// `vectors generate` (which refuses them for other units, so they are optional here and take
/// `MacConfiguration`'s defaults when left out).
struct MacShapeOptions: ParsableArguments {
    @Option(help: "MAC lanes: a dot-product PE when > 1 (default 1).") var lanes: Int?
    @Option(help: "MAC pipeline depth 1–3 (default 1).") var pipeline: Int?
    @Option(help: "MAC accumulator width in bits (default 32).") var accWidth: Int?
    @Option(help: "MAC accumulator overflow: wrap or saturate (default wrap).") var overflow: OverflowRule?

    /// The options given on the command line, by name.
    var given: [String] {
        [("--lanes", lanes != nil), ("--pipeline", pipeline != nil), ("--acc-width", accWidth != nil), ("--overflow", overflow != nil)]
            .filter(\.1).map(\.0)
    }

    func configuration(_ kind: MacKind, multiplier: MultiplierArchitecture = .array, adder: AdderArchitecture = .ripple) throws -> MacConfiguration {
        try badInput {
            try MacConfiguration(kind: kind, lanes: lanes ?? 1, pipelineDepth: pipeline ?? 1, accumulatorWidth: accWidth ?? 32,
                                 overflow: overflow ?? .wrap, multiplier: multiplier, adder: adder)
        }
    }
}

/// Options of the commands that build a MAC unit from its name (`simulate`, `export`).
struct MacOptions: ParsableArguments {
    @Option(help: "\(MacKind.unitNames.joined(separator: ", ")).") var unit: String = "dint-mac"
    @Option(help: "Code book for codebook-mac: a preset name or codebook:FILE.json (default dint4).") var codebook: String?
    @OptionGroup var shape: MacShapeOptions
    @Option(help: "Multiplier: array (Baugh-Wooley) or dadda.") var multiplier: MultiplierArchitecture = .array
    @Option(help: "Adder tree and accumulator adder: ripple or kogge-stone.") var adder: AdderArchitecture = .ripple

    func configuration() throws -> MacConfiguration {
        if codebook != nil && unit != MacKind.codeBookUnitName {
            throw CLIError.badInput("--codebook applies to --unit \(MacKind.codeBookUnitName), not \(unit); drop it")
        }
        let kind: MacKind
        if let fixed = MacKind(unitName: unit) {
            kind = fixed
        } else if unit == MacKind.codeBookUnitName {
            kind = .codeBook(try resolveFormat(codebook ?? "dint4"))
        } else {
            throw CLIError.badInput("unknown unit '\(unit)' (known: \(MacKind.unitNames.joined(separator: ", ")))")
        }
        return try shape.configuration(kind, multiplier: multiplier, adder: adder)
    }
}
