import Testing
import Circuits
import Exact
import Formats
import Units

/// Every single product through the gate-level cycle model equals the functional reference,
/// and the functional reference equals the GMP oracle.
@Suite struct MacExhaustiveTests {
    static func allProducts(_ kind: MacKind, codes: ClosedRange<Int>, depth: Int, multiplier: MultiplierArchitecture) throws {
        let c = try MacConfiguration(kind: kind, pipelineDepth: depth, accumulatorWidth: 32, multiplier: multiplier)
        var w: [UInt8] = [], a: [Int8] = []
        for code in codes { for act in Int8.min...Int8.max { w.append(UInt8(code)); a.append(act) } }
        let runner = MacRunner(c)
        let out = try runner.run(codes: w, activations: a, rows: w.count, length: 1, mode: .netlist)
        var wrong = 0, oracleWrong = 0
        for i in w.indices {
            let reference = c.product(code: w[i], activation: a[i])
            if out.results[i] != reference { wrong += 1 }
            // Oracle: exact weight value (steps, as a rational) × activation, in product units.
            let exact: Rational
            switch kind {
            case .int8: exact = Rational(Int(Int8(bitPattern: w[i]))) * Rational(Int(a[i]))
            case .dint: exact = Rational(LevelFormat.dint4.decodeHalfSteps(w[i]), 2) * Rational(Int(a[i])) * Rational(2)
            // FP4: the E2M1 value from the oracle's own field definitions, not the level table.
            case .fp4: exact = Oracle.value(ofBits: UInt32(w[i]), format: .e2m1)! * Rational(Int(a[i])) * Rational(2)
            case .codeBook(let f): exact = Rational(f.decodeHalfSteps(w[i]), 2) * Rational(Int(a[i])) * Rational(2)
            }
            if exact != Rational(Int(reference)) { oracleWrong += 1 }
        }
        #expect(wrong == 0, "\(kind) depth \(depth) \(multiplier): \(wrong) products differ")
        #expect(oracleWrong == 0)
    }

    @Test(arguments: [1, 2, 3], MultiplierArchitecture.allCases)
    func dintTimesInt8(depth: Int, multiplier: MultiplierArchitecture) throws {
        try Self.allProducts(.dint, codes: 0...15, depth: depth, multiplier: multiplier)
        try Self.allProducts(.codeBook(.dint4), codes: 0...15, depth: depth, multiplier: multiplier)
    }

    @Test(arguments: [1, 2, 3], MultiplierArchitecture.allCases)
    func fp4TimesInt8(depth: Int, multiplier: MultiplierArchitecture) throws {
        try Self.allProducts(.fp4, codes: 0...15, depth: depth, multiplier: multiplier)
        try Self.allProducts(.codeBook(.fp4), codes: 0...15, depth: depth, multiplier: multiplier)
    }

    @Test(arguments: [1, 3], MultiplierArchitecture.allCases)
    func int8TimesInt8(depth: Int, multiplier: MultiplierArchitecture) throws {
        try Self.allProducts(.int8, codes: 0...255, depth: depth, multiplier: multiplier)
    }

    @Test func otherCodeBooks() throws {
        let uneven = try LevelFormat.codeBook(name: "uneven", halfSteps: [0, 1, 3, 7, 16, 40, 100, 255, 0, -1, -3, -7, -16, -40, -100, -256])
        for f in [uneven, LevelFormat.int4, .int4Symmetric] {
            try Self.allProducts(.codeBook(f), codes: 0...15, depth: 2, multiplier: .dadda)
        }
    }
}
