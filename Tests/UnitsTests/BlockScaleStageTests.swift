import Testing
import Circuits
import Exact
import Formats
import Units
import PropertyChecking

/// The block-scale stage: every output is exactly P · ¼ · X_a · X_b (GMP rationals), normalized.
@Suite struct BlockScaleStageTests {
    static func read(_ sim: Simulator, _ bus: Bus, instance k: Int) -> UInt64 {
        bus.enumerated().reduce(0) { $0 | ((sim.word($1.element) >> UInt64(k)) & 1) << UInt64($1.offset) }
    }

    @Test(arguments: BlockScaleStage.Kind.allCases, [8, 16, 32])
    func everyOutputIsTheExactScaledPartialSum(kind: BlockScaleStage.Kind, width: Int) {
        let stage = BlockScaleStage(kind: kind, partialWidth: width)
        let sim = Simulator(stage.netlist, countsToggles: false)
        var s = CounterStream(seed: UInt64(width) * 3 + (kind == .mx ? 0 : 1))
        var failures: [String] = []
        for _ in 0..<30 {
            // Partial sums of every size (zero, ±1, the extremes), scale codes over the whole range
            // (E4M3 subnormals and NaN-free codes; UE8M0 0 … 254).
            let partials = (0..<64).map { k -> Int64 in
                switch k % 6 {
                case 0: return 0
                case 1: return k % 12 == 1 ? 1 : -1
                case 2: return -(Int64(1) << (width - 1))
                case 3: return (Int64(1) << (width - 1)) - 1
                default: return Int64(Generate.int(-(1 << (width - 1))...((1 << (width - 1)) - 1), &s))
                }
            }
            let codes = (0..<64).map { _ in (Int64(Generate.int(0...(kind == .mx ? 254 : 126), &s)), Int64(Generate.int(0...(kind == .mx ? 254 : 126), &s))) }
            sim.set(stage.partial, instances: partials)
            sim.set(stage.scaleA, instances: codes.map(\.0))
            sim.set(stage.scaleB, instances: codes.map(\.1))
            sim.evaluate()
            for k in 0..<64 {
                let format: BinaryFloatFormat = kind == .mx ? .ue8m0 : .e4m3
                let want = Rational(Int(partials[k])) * Rational(1, 4) * Oracle.value(ofBits: UInt32(codes[k].0), format: format)!
                    * Oracle.value(ofBits: UInt32(codes[k].1), format: format)!
                let significand = Self.read(sim, stage.significand, instance: k)
                var e = Int(Self.read(sim, stage.exponent, instance: k))
                if e >= 512 { e -= 1024 }
                let negative = Self.read(sim, [stage.sign], instance: k) == 1
                let got = Rational(Int(significand)).timesPowerOfTwo(e - stage.exponentBias) * Rational(negative ? -1 : 1)
                let normalized = significand == 0 || significand >> UInt64(stage.significandWidth - 1) == 1
                if got != want || !normalized { failures.append("P \(partials[k]) codes \(codes[k]): \(got) vs \(want)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differ: \(failures.prefix(3))")
    }
}
