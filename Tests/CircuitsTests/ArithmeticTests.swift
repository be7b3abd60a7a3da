import Testing
@testable import Circuits
import Formats
import PropertyChecking

/// Structural arithmetic equals integer arithmetic; inventories match textbook counts.
@Suite struct ArithmeticTests {
    /// Simulates a combinational function of two operands over all (or the given) operand pairs,
    /// 64 pairs per word, and returns the outputs.
    static func evaluate(_ n: Netlist, _ a: Bus, _ b: Bus, _ out: Bus, pairs: [(Int64, Int64)], signed: Bool) -> [Int64] {
        let sim = Simulator(n, countsToggles: false)
        var results: [Int64] = []
        for start in stride(from: 0, to: pairs.count, by: 64) {
            let chunk = Array(pairs[start..<min(start + 64, pairs.count)])
            sim.set(a, instances: chunk.map(\.0))
            sim.set(b, instances: chunk.map(\.1))
            sim.evaluate()
            for k in chunk.indices { results.append(sim.read(out, instance: k, signed: signed)) }
        }
        return results
    }

    static func allPairs(_ m: Int, _ n: Int, signed: Bool) -> [(Int64, Int64)] {
        let ra = signed ? Int64(-(1 << (m - 1)))...Int64((1 << (m - 1)) - 1) : 0...Int64((1 << m) - 1)
        let rb = signed ? Int64(-(1 << (n - 1)))...Int64((1 << (n - 1)) - 1) : 0...Int64((1 << n) - 1)
        return ra.flatMap { x in rb.map { (x, $0) } }
    }

    @Test(arguments: MultiplierArchitecture.allCases, AdderArchitecture.allCases)
    func signedMultipliersAreExhaustivelyCorrect(architecture: MultiplierArchitecture, adder: AdderArchitecture) {
        for (m, n) in [(8, 8), (4, 8), (8, 4), (2, 2), (3, 5), (5, 3)] {
            let net = Netlist()
            let a = net.input("a", width: m), b = net.input("b", width: n)
            let p = net.multiplySigned(a, b, architecture: architecture, finalAdder: adder)
            #expect(p.count == m + n)
            let pairs = Self.allPairs(m, n, signed: true)
            let got = Self.evaluate(net, a, b, p, pairs: pairs, signed: true)
            let wrong = zip(pairs, got).filter { $0.0.0 * $0.0.1 != $0.1 }
            #expect(wrong.isEmpty, "\(architecture) \(adder) \(m)×\(n): \(wrong.prefix(3))")
        }
    }

    @Test(arguments: MultiplierArchitecture.allCases)
    func unsignedMultipliersAreExhaustivelyCorrect(architecture: MultiplierArchitecture) {
        for (m, n) in [(8, 8), (3, 8), (8, 3), (1, 4), (4, 1), (6, 6)] {
            let net = Netlist()
            let a = net.input("a", width: m), b = net.input("b", width: n)
            let p = net.multiplyUnsigned(a, b, architecture: architecture)
            let pairs = Self.allPairs(m, n, signed: false)
            let got = Self.evaluate(net, a, b, p, pairs: pairs, signed: false)
            #expect(zip(pairs, got).allSatisfy { $0.0.0 * $0.0.1 == $0.1 }, "\(architecture) \(m)×\(n)")
        }
    }

    @Test(arguments: AdderArchitecture.allCases)
    func addersAreCorrect(architecture: AdderArchitecture) {
        for width in [1, 2, 3, 5, 8, 13, 16, 31, 32, 48] {
            let net = Netlist()
            let a = net.input("a", width: width), b = net.input("b", width: width), cin = net.input("cin", width: 1)
            let (sum, cout) = net.add(a, b, carryIn: cin[0], architecture: architecture)
            let out = sum + [cout]
            let report = checkProperty(seed: UInt64(width), count: 20, generate: { s -> [(Int64, Int64, Int64)] in
                (0..<64).map { _ in
                    let mask = width >= 63 ? Int64.max : (Int64(1) << Int64(width)) - 1
                    return (Int64(bitPattern: s.next()) & mask, Int64(bitPattern: s.next()) & mask, Int64(s.next() & 1))
                }
            }) { triples in
                let sim = Simulator(net, countsToggles: false)
                sim.set(a, instances: triples.map(\.0)); sim.set(b, instances: triples.map(\.1)); sim.set(cin, instances: triples.map(\.2))
                sim.evaluate()
                for (k, t) in triples.enumerated() where sim.read(out, instance: k, signed: false) != t.0 + t.1 + t.2 {
                    return "\(t.0) + \(t.1) + \(t.2) gave \(sim.read(out, instance: k, signed: false))"
                }
                return nil
            }
            #expect(report.passed, "\(architecture) width \(width): \(report)")
        }
    }

    @Test func conditionalNegateIsExhaustivelyCorrect() {
        let net = Netlist()
        let a = net.input("a", width: 8), s = net.input("s", width: 1)
        let out = net.negate(a, if: s[0])
        var pairs: [(Int64, Int64)] = []
        for x in Int64(-128)...127 { pairs.append((x, 0)); pairs.append((x, 1)) }
        let got = Self.evaluate(net, a, s, out, pairs: pairs, signed: true)
        for (p, g) in zip(pairs, got) {
            let expected: Int64 = p.1 == 1 ? -p.0 : p.0
            #expect(expected == g)
        }
    }

    /// Textbook figures: an n×n unsigned array multiplier is n² AND2 + n(n−2) FA + n HA; Dadda's
    /// 8×8 reduction uses 35 FA + 7 HA before a 14-bit final adder (Dadda 1965; the brief §5).
    @Test func inventoriesMatchTextbookCounts() {
        for n in [4, 8] {
            let net = Netlist()
            _ = net.multiplyUnsigned(net.input("a", width: n), net.input("b", width: n), architecture: .array)
            let inv = net.inventory()
            #expect(inv[.and2] == n * n && inv[.fullAdder] == n * (n - 2) && inv[.halfAdder] == n, "array \(n)×\(n): \(inv)")
        }
        let net = Netlist()
        let a = net.input("a", width: 8), b = net.input("b", width: 8)
        var columns = [[Node]](repeating: [], count: 16)
        for (i, bi) in b.enumerated() { for (j, aj) in a.enumerated() { columns[i + j].append(net.and(aj, bi)) } }
        let heap = net.daddaCompress(columns)
        let inv = net.inventory()
        #expect(inv[.and2] == 64 && inv[.fullAdder] == 35 && inv[.halfAdder] == 7, "Dadda 8×8 reduction: \(inv)")
        // The two rows left span weights 1…14: a 14-bit final adder.
        let twoHigh = heap.indices.filter { heap[$0].count == 2 }
        #expect(heap.allSatisfy { $0.count <= 2 } && twoHigh.first == 1 && twoHigh.last == 14)
    }

    @Test func registersHoldEnableAndClear() {
        let net = Netlist()
        let d = net.input("d", width: 4), en = net.input("en", width: 1), clr = net.input("clr", width: 1)
        let q = net.register("q", d, enable: en[0], clear: clr[0])
        let sim = Simulator(net)
        func cycle(_ dv: Int64, _ e: Int64, _ c: Int64) -> Int64 {
            sim.set(d, instances: [dv]); sim.set(en, instances: [e]); sim.set(clr, instances: [c])
            sim.step()
            return sim.read(q, instance: 0, signed: false)
        }
        #expect(cycle(5, 1, 0) == 5)
        #expect(cycle(9, 0, 0) == 5)
        #expect(cycle(9, 1, 0) == 9)
        #expect(cycle(3, 1, 1) == 0)
        let inv = net.inventory()
        #expect(inv[.dff] == 4 && inv[.mux2] == 4 && inv[.and2] == 4 && inv[.inv] == 1)
    }

    @Test func constantFoldingLeavesNoConstantCells() {
        let net = Netlist()
        let x = net.input("x", width: 1)[0]
        #expect(net.and(x, Netlist.zero) == Netlist.zero && net.or(x, Netlist.zero) == x)
        #expect(net.fullAdd(x, Netlist.one, Netlist.zero).carry == x)
        _ = net.multiplySigned(net.input("a", width: 4), net.constant(3, width: 4))
        for c in 0..<net.cellCount {
            for input in [net.in0[c], net.in1[c]] where net.kinds[c] != .inv && net.kinds[c] != .dff {
                #expect(input != Netlist.zero && input != Netlist.one, "cell \(c) \(net.kinds[c]) has a constant input")
            }
        }
    }
}
