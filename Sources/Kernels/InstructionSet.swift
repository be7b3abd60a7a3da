import CKernels

/// The instruction set dintsim's C kernels run on (include/kernels.h: the netlist simulator's
/// evaluation loop, the nearest-rule element quantizer). Each kernel is compiled once per level
/// with that level's `target` attribute and chosen at run time, so the package needs no build
/// flag. Every level gives the same bytes; they differ in speed only (docs/performance.md,
/// "Kernels").
public enum InstructionSet: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C for any CPU.
    case portable = 0
    /// x86-64 POPCNT and SSE4.1: scalar, one 64-bit word or one element at a time.
    case popcount = 1
    /// AVX2: a node's 4 words, or 4 elements, as one 256-bit vector.
    case avx2 = 2
    /// AVX-512 (F, VL, DQ, BW, VPOPCNTDQ): 8 elements per vector, popcount one instruction.
    case avx512 = 3

    /// Whether this CPU and its operating system support the level.
    public var isSupported: Bool { dintsim_isa_supported(rawValue) == 1 }
    /// The fastest supported level.
    public static let best: InstructionSet = allCases.last { $0.isSupported } ?? .portable
    /// The supported levels.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// The level named `name` ("portable", "popcount", "avx2", "avx512").
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = level
    }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .popcount: "popcount"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}
