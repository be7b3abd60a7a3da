import Testing
import Formats

@Suite struct CounterRandomTests {
    /// The generator is a pure function of (seed, counter): pinned against an independent
    /// restatement of the documented SplitMix64 finaliser in this file.
    @Test func matchesTheDocumentedMixingFunction() {
        func reference(_ seed: UInt64, _ counter: UInt64) -> UInt64 {
            var z = seed &+ (counter &+ 1) &* 0x9E3779B97F4A7C15
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        for seed: UInt64 in [0, 1, 42, .max] {
            for counter: UInt64 in [0, 1, 2, 1000, .max - 1] {
                #expect(CounterRandom(seed: seed).bits(counter) == reference(seed, counter))
            }
        }
        // SplitMix64's published first output for seed 0 (state advanced once by γ).
        #expect(CounterRandom(seed: 0).bits(0) == 0xE220_A839_7B1D_CDAF)
    }

    @Test func streamIsTheCounterSequence() {
        var s = CounterStream(seed: 7, start: 5)
        for i: UInt64 in 5..<20 { #expect(s.next() == CounterRandom(seed: 7).bits(i)) }
    }

    @Test func unitIntervalIsUniformEnough() {
        let r = CounterRandom(seed: 3)
        let n = 200_000
        var sum = 0.0
        var buckets = [Int](repeating: 0, count: 16)
        for i in 0..<n {
            let u = r.unitInterval(UInt64(i))
            #expect(u >= 0 && u < 1)
            sum += u
            buckets[Int(u * 16)] += 1
        }
        // Mean within 5σ (σ = sqrt(1/12/n)); each bucket within 5σ of n/16.
        #expect(abs(sum / Double(n) - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
        let p = 1.0 / 16, sigma = (Double(n) * p * (1 - p)).squareRoot()
        for b in buckets { #expect(abs(Double(b) - Double(n) * p) < 5 * sigma) }
    }

    @Test func deterministicLogIsAccurate() {
        var s = CounterStream(seed: 11)
        for _ in 0..<10_000 {
            let x = Double(sign: .plus, exponent: Int(s.next() % 200) - 100, significand: 1 + s.nextUnit())
            let ours = DeterministicMath.log(x), libm = Foundation_log(x)
            #expect(abs(ours - libm) <= 4 * libm.ulp.magnitude + 1e-300)
        }
    }

    /// The two-lane logarithm (the TAH-Quant entropy's) is bit-identical to the scalar one,
    /// including around the √2 switch of its range reduction and at subnormals.
    @Test func twoLaneLogIsBitIdenticalToTheScalarLog() {
        var s = CounterStream(seed: 12)
        let special = [1.0, 2.0.squareRoot(), 2.0.squareRoot().nextUp, 2.0.squareRoot().nextDown, 0.5, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, Double.leastNormalMagnitude.nextDown]
        var inputs = special
        for _ in 0..<20_000 { inputs.append(Double(sign: .plus, exponent: Int(s.next() % 2000) - 1000, significand: 1 + s.nextUnit())) }
        for k in stride(from: 0, to: inputs.count - 1, by: 2) {
            let pair = DeterministicMath.log(SIMD2(inputs[k], inputs[k + 1]))
            #expect(pair[0].bitPattern == DeterministicMath.log(inputs[k]).bitPattern, "\(inputs[k])")
            #expect(pair[1].bitPattern == DeterministicMath.log(inputs[k + 1]).bitPattern, "\(inputs[k + 1])")
        }
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
#else
import Darwin
func Foundation_log(_ x: Double) -> Double { Darwin.log(x) }
#endif
