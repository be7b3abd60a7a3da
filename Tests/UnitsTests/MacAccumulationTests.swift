import Testing
import Circuits
import Exact
import Formats
import PropertyChecking
import Units

/// Long accumulations that overflow: the unit's results equal exact GMP sums under the named
/// rule — wrap: the exact sum modulo 2^W; saturate: the exact running sum clamped after every
/// transaction (the lanes of one transaction are summed exactly first).
@Suite struct MacAccumulationTests {
    static func exactResult(_ c: MacConfiguration, codes: ArraySlice<UInt8>, acts: ArraySlice<Int8>) -> BigInteger {
        let w = c.accumulatorWidth
        let modulus = BigInteger(1).shiftedLeft(w)
        let hi = BigInteger(1).shiftedLeft(w - 1) - BigInteger(1), lo = -BigInteger(1).shiftedLeft(w - 1)
        var acc = BigInteger(0)
        let codes = Array(codes), acts = Array(acts)
        for t in stride(from: 0, to: codes.count, by: c.lanes) {
            // Products are exact small integers (the exhaustive tests hold them against the
            // oracle); the running sum and its overflow rule are evaluated in GMP integers.
            var lanesSum = 0
            for k in t..<min(t + c.lanes, codes.count) { lanesSum += Int(c.product(code: codes[k], activation: acts[k])) }
            let s = BigInteger(lanesSum)
            acc = acc + s
            switch c.overflow {
            case .wrap:
                // Signed residue in [−2^(W−1), 2^(W−1)).
                var r = acc.floorDivided(by: modulus).remainder
                if !(r < BigInteger(1).shiftedLeft(w - 1)) { r = r - modulus }
                acc = r
            case .saturate:
                if acc > hi { acc = hi }
                if acc < lo { acc = lo }
            }
        }
        return acc
    }

    /// Weights and activations biased to one sign so that the sum runs away and overflows.
    static func data(_ c: MacConfiguration, rows: Int, length: Int, seed: UInt64) -> ([UInt8], [Int8]) {
        var s = CounterStream(seed: seed)
        var codes: [UInt8] = [], acts: [Int8] = []
        for r in 0..<rows {
            let positive = r % 2 == 0
            for _ in 0..<length {
                let big = Generate.int(0...9, &s) != 0
                switch c.kind {
                case .int8: codes.append(UInt8(bitPattern: big ? (positive ? 127 : -128) : Int8(truncatingIfNeeded: s.next())))
                case .dint: codes.append(big ? (positive ? 6 : 14) : UInt8(Generate.int(0...7, &s)))
                case .fp4: codes.append(big ? (positive ? 7 : 15) : UInt8(Generate.int(0...15, &s)))
                case .codeBook(let f): codes.append(big ? f.sortedCodes.last! : f.sortedCodes[Generate.int(0...(f.sortedCodes.count - 1), &s)])
                }
                acts.append(big ? 127 : Int8(truncatingIfNeeded: s.next()))
            }
        }
        return (codes, acts)
    }

    @Test(arguments: [1, 2, 3], [1, 4, 16])
    func netlistMatchesExactSums(depth: Int, lanes: Int) throws {
        for kind in [MacKind.int8, .dint, .fp4] {
            for overflow in OverflowRule.allCases {
                let c = try MacConfiguration(kind: kind, lanes: lanes, pipelineDepth: depth, accumulatorWidth: 20, overflow: overflow)
                let rows = 66, length = 600 // overflows a 20-bit accumulator; 66 rows span two rounds of 64
                let (codes, acts) = Self.data(c, rows: rows, length: length, seed: UInt64(depth * 100 + lanes))
                let out = try MacRunner(c).run(codes: codes, activations: acts, rows: rows, length: length, mode: .netlist)
                let fast = try MacRunner(c).run(codes: codes, activations: acts, rows: rows, length: length, mode: .fast)
                #expect(fast.results == out.results)
                for r in 0..<rows {
                    let exact = Self.exactResult(c, codes: codes[(r * length)..<((r + 1) * length)], acts: acts[(r * length)..<((r + 1) * length)])
                    #expect(BigInteger(Int(out.results[r])) == exact, "\(kind) \(overflow) depth \(depth) lanes \(lanes) row \(r)")
                }
            }
        }
    }

    /// 10⁵-long accumulations, 32-bit accumulator: INT8 saturates / wraps past 2^31.
    @Test(arguments: OverflowRule.allCases)
    func hundredThousandLongAccumulations(overflow: OverflowRule) throws {
        for kind in [MacKind.int8, .dint] {
            let c = try MacConfiguration(kind: kind, lanes: 1, pipelineDepth: 2, accumulatorWidth: kind == .int8 ? 28 : 24, overflow: overflow)
            let rows = 4, length = 100_000
            let (codes, acts) = Self.data(c, rows: rows, length: length, seed: 5)
            let out = try MacRunner(c).run(codes: codes, activations: acts, rows: rows, length: length, mode: .netlist)
            for r in 0..<rows {
                let exact = Self.exactResult(c, codes: codes[(r * length)..<((r + 1) * length)], acts: acts[(r * length)..<((r + 1) * length)])
                #expect(BigInteger(Int(out.results[r])) == exact)
            }
            let limit = Int64(1) << Int64(c.accumulatorWidth - 1)
            if overflow == .saturate { #expect(out.results[0] == limit - 1 && out.results[1] == -limit) }
        }
    }

    @Test func cycleAccounting() throws {
        let c = try MacConfiguration(kind: .dint, lanes: 16, pipelineDepth: 3)
        let r = try MacRunner(c).run(codes: [UInt8](repeating: 1, count: 10 * 40), activations: [Int8](repeating: 1, count: 400), rows: 10, length: 40, mode: .fast)
        #expect(r.transactionsPerRow == 3 && r.computeCycles == 30 && r.latency == 3 && r.totalCycles == 33)
        #expect(abs(r.utilization - 400.0 / (16.0 * 33.0)) < 1e-12)
        #expect(r.results.allSatisfy { $0 == 80 })
    }

    @Test func dintAndItsCodeBookTwinAgree() throws {
        let (codes, acts) = Self.data(try MacConfiguration(kind: .dint), rows: 64, length: 300, seed: 9)
        for lanes in [1, 16] {
            let a = try MacRunner(try MacConfiguration(kind: .dint, lanes: lanes)).run(codes: codes, activations: acts, rows: 64, length: 300, mode: .netlist)
            let b = try MacRunner(try MacConfiguration(kind: .codeBook(.dint4), lanes: lanes)).run(codes: codes, activations: acts, rows: 64, length: 300, mode: .netlist)
            #expect(a.results == b.results)
        }
    }

    @Test func invalidConfigurationsAreRefused() {
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .int8, accumulatorWidth: 15) }
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .int8, pipelineDepth: 4) }
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .dint, lanes: 0) }
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .dint, accumulatorWidth: 63) }
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .dint, lanes: 257) }
        // `with` checks as the initializer does.
        #expect(throws: MacConfigurationError.self) { try MacConfiguration(kind: .int8).with(accumulatorWidth: 15) }
        #expect(throws: Never.self) { try MacConfiguration(kind: .int8, accumulatorWidth: 16) }
    }
}
