// swift-tools-version: 6.1
import PackageDescription

// Dependencies flow one way:
//   Formats ─► Exact (GMP oracle)
//   Formats ─► Quantization, Workloads
//   TensorIO (files) ─► dintsim (CLI) ◄─ Quantization, Workloads, Exact
let package = Package(
    name: "dintsim",
    products: [
        .executable(name: "dintsim", targets: ["dintsim"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Exact", targets: ["Exact"]),
        .library(name: "Quantization", targets: ["Quantization"]),
        .library(name: "Workloads", targets: ["Workloads"]),
        .library(name: "TensorIO", targets: ["TensorIO"]),
        .library(name: "Liberty", targets: ["Liberty"]),
        .library(name: "Workflows", targets: ["Workflows"]),
        .library(name: "Benchmarks", targets: ["Benchmarks"]),
        .library(name: "Circuits", targets: ["Circuits"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "CKernels", targets: ["CKernels"]),
        .library(name: "CProcessAffinity", targets: ["CProcessAffinity"]),
        .library(name: "Units", targets: ["Units"]),
        .library(name: "TAHQuant", targets: ["TAHQuant"]),
        .library(name: "TAHQuantExact", targets: ["TAHQuantExact"]),
        .library(name: "Cost", targets: ["Cost"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Vectors", targets: ["Vectors"]),
        .library(name: "PropertyChecking", targets: ["PropertyChecking"]),
        // The golden model's C ABI (include/dintsim.h): SwiftPM names the file liblibdintsim.so;
        // scripts/build-lib.sh links it with soname libdintsim.so and installs it as
        // build/lib/libdintsim.so. No target carries a build flag: the package stays usable as a
        // dependency (SwiftPM refuses unsafe flags there).
        .library(name: "libdintsim", type: .dynamic, targets: ["GoldenModelC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CGMP", pkgConfig: "gmp", providers: [.apt(["libgmp-dev"])]),
        // zlib, for `.lib.gz` cell libraries.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Liberty (.lib / .lib.gz) cell libraries: syntax, units, NLDM tables, functions.
        .target(name: "Liberty", dependencies: ["CZlib"]),
        .target(name: "Formats"),
        .target(name: "Exact", dependencies: ["CGMP", "Formats"]),
        .target(name: "Quantization", dependencies: ["Formats", "CKernels", "Kernels"]),
        .target(name: "Workloads", dependencies: ["Formats"]),
        // The hot loops in C, one function per instruction-set level chosen at run time
        // (include/kernels.h), and the level as a Swift type: no build flag anywhere.
        .target(name: "CKernels"),
        .target(name: "Kernels", dependencies: ["CKernels"]),
        // Confining the process to one CPU (`bench`'s per-core figures).
        .target(name: "CProcessAffinity"),
        .target(name: "Circuits", dependencies: ["CKernels", "Kernels"]),
        .target(name: "TAHQuant", dependencies: ["Formats"]),
        // The decode spec in GMP rationals (the exact decoder, the decoder tile's flags): apart, so
        // that Units, Cost and Reports do not link GMP through TAHQuant.
        .target(name: "TAHQuantExact", dependencies: ["TAHQuant", "Exact", "Formats"]),
        .target(name: "Units", dependencies: ["CKernels", "Circuits", "Formats", "Quantization", "TAHQuant"]),
        .target(name: "Reports", dependencies: ["Cost", "Units", "Circuits", "Formats", "Quantization", "Workloads", "TAHQuant"]),
        .target(name: "Cost", dependencies: ["Circuits", "Units", "Formats", "Liberty", "TensorIO"], resources: [.copy("Resources/nangate45.json")]),
        .target(name: "TensorIO", dependencies: ["Formats"]),
        // The C ABI over the golden model (docs/c-api.md).
        .target(name: "GoldenModelC", dependencies: ["Units", "Quantization", "Formats", "TAHQuant", "TAHQuantExact"]),
        // What the commands do, callable from Swift: streamed quantization and measurement.
        .target(name: "Workflows", dependencies: ["Formats", "Quantization", "TensorIO", "Workloads", "Circuits", "Units", "Cost", "Reports", "TAHQuant"]),
        .target(name: "Benchmarks", dependencies: ["CProcessAffinity", "Kernels", "Formats", "Quantization", "TAHQuant", "TensorIO", "Units", "Vectors", "Workloads"]),
        .target(name: "Vectors", dependencies: ["Kernels", "Units", "Circuits", "TAHQuant", "TAHQuantExact", "Quantization", "Exact", "Formats", "Workloads", "TensorIO"]),
        .executableTarget(
            name: "dintsim",
            dependencies: [
                "Formats", "Quantization", "Workloads", "TensorIO", "Circuits", "Kernels", "Units", "Cost", "Reports", "TAHQuant", "Vectors", "Liberty", "Workflows", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // What each libFuzzer harness (Fuzz/, scripts/fuzz.sh) runs; the tests replay its corpus.
        .target(name: "FuzzTargets", dependencies: ["Formats", "TensorIO", "Cost", "Vectors", "TAHQuant", "Liberty", "Circuits", "Units"]),
        // Deterministic, seeded property checking with shrinking, shared by the test targets.
        .target(name: "PropertyChecking", dependencies: ["Formats"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Exact", "Quantization", "PropertyChecking"]),
        .testTarget(name: "ExactTests", dependencies: ["Exact", "Formats", "PropertyChecking"]),
        .testTarget(
            name: "QuantizationTests",
            dependencies: ["Quantization", "Kernels", "Exact", "Formats", "Workloads", "TensorIO", "PropertyChecking"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "Formats"]),
        .testTarget(name: "CostTests", dependencies: ["Cost", "Reports", "Units", "Circuits", "Formats", "Workloads", "Quantization", "Liberty", "PropertyChecking"]),
        .testTarget(name: "TAHQuantTests", dependencies: ["TAHQuant", "TAHQuantExact", "Exact", "Formats", "Workloads", "TensorIO", "PropertyChecking"]),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "PropertyChecking", "Formats"]),
        .testTarget(name: "UnitsTests", dependencies: ["Units", "Circuits", "Kernels", "Formats", "Exact", "PropertyChecking", "TAHQuant", "Cost", "Workloads", "Quantization", "Vectors"]),
        .testTarget(name: "CLITests", dependencies: ["dintsim", "CProcessAffinity", "Formats", "Units", "TensorIO", "Quantization", "Circuits"]),
        .testTarget(name: "VectorsTests", dependencies: ["Vectors", "Units", "Formats", "TensorIO", "TAHQuant", "Quantization", "Exact"]),
        .testTarget(name: "RTLTests", dependencies: ["Units", "Circuits", "Quantization"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "WorkflowsTests", dependencies: ["Workflows", "Quantization", "TensorIO", "Formats", "Workloads", "Units", "TAHQuant"]),
    ]
)
