/// Arithmetic generators: structural adders, negators, multipliers, muxes and shifters.
/// Buses are two's complement or unsigned as each function says; LSB first.
public enum AdderArchitecture: String, CaseIterable, Sendable, Codable {
    /// Ripple-carry: a chain of full adders (half adder where an input is missing).
    case ripple
    /// Kogge-Stone parallel prefix: log2(n) levels of (generate, propagate) merging.
    case koggeStone = "kogge-stone"
}

public enum MultiplierArchitecture: String, CaseIterable, Sendable, Codable {
    /// Carry-save array: partial-product rows added one after another, then a ripple adder.
    case array
    /// Dadda tree: column compression to height 2 by the Dadda schedule, then a final adder.
    case dadda
}

extension Netlist {
    /// Sign-extends (or truncates) a two's complement bus to `width` (wiring only).
    public func signExtend(_ a: Bus, to width: Int) -> Bus {
        if a.count >= width { return Array(a.prefix(width)) }
        return a + Array(repeating: a.last ?? Self.zero, count: width - a.count)
    }

    /// Zero-extends (or truncates) an unsigned bus to `width` (wiring only).
    public func zeroExtend(_ a: Bus, to width: Int) -> Bus {
        if a.count >= width { return Array(a.prefix(width)) }
        return a + Array(repeating: Self.zero, count: width - a.count)
    }

    /// a · 2^k (wiring only).
    public func shiftLeft(_ a: Bus, by k: Int) -> Bus { Array(repeating: Self.zero, count: k) + a }

    /// A constant bus.
    public func constant(_ value: Int64, width: Int) -> Bus {
        (0..<width).map { (value >> Int64($0)) & 1 == 1 ? Self.one : Self.zero }
    }

    /// sel ? b : a, bitwise.
    public func mux(_ sel: Node, _ a: Bus, _ b: Bus) -> Bus {
        precondition(a.count == b.count)
        return zip(a, b).map { mux(sel, $0, $1) }
    }

    /// Each bit XOR s (conditional one's complement).
    public func xor(_ a: Bus, _ s: Node) -> Bus { a.map { xor($0, s) } }

    /// a + b + carryIn, equal widths; returns `width` sum bits and the carry out.
    public func add(_ a: Bus, _ b: Bus, carryIn: Node = zero, architecture: AdderArchitecture = .ripple) -> (sum: Bus, carryOut: Node) {
        precondition(a.count == b.count, "adder operands must have equal widths")
        switch architecture {
        case .ripple:
            var carry = carryIn
            var sum: Bus = []
            for (x, y) in zip(a, b) {
                let r = fullAdd(x, y, carry)
                sum.append(r.sum)
                carry = r.carry
            }
            return (sum, carry)
        case .koggeStone:
            let n = a.count
            let p0 = zip(a, b).map { xor($0, $1) }
            // Position −1 carries carryIn as a generate.
            var g = [carryIn] + zip(a, b).map { and($0, $1) }
            var p = [Self.zero] + p0
            var distance = 1
            while distance < n + 1 {
                var ng = g, np = p
                for i in distance...n {
                    ng[i] = or(g[i], and(p[i], g[i - distance]))
                    np[i] = and(p[i], p[i - distance])
                }
                g = ng; p = np
                distance *= 2
            }
            // g[i] is now the carry out of bit i − 1 (into bit i), with g[0] = carryIn.
            let sum = (0..<n).map { xor(p0[$0], g[$0]) }
            return (sum, g[n])
        }
    }

    /// Two's complement a + b with result width max(widths) + 1 (never overflows).
    public func addSigned(_ a: Bus, _ b: Bus, carryIn: Node = zero, architecture: AdderArchitecture = .ripple) -> Bus {
        let w = max(a.count, b.count) + 1
        return add(signExtend(a, to: w), signExtend(b, to: w), carryIn: carryIn, architecture: architecture).sum
    }

    /// s ? −a : a for two's complement a, result one bit wider (−min fits): XOR bank + incrementer.
    public func negate(_ a: Bus, if s: Node) -> Bus {
        let x = xor(signExtend(a, to: a.count + 1), s)
        var carry = s
        var out: Bus = []
        for bit in x {
            let r = halfAdd(bit, carry)
            out.append(r.sum)
            carry = r.carry
        }
        return out
    }

    /// Dadda column compression of a heap of weighted bits (columns[w] = bits of weight 2^w) to
    /// height 2, by the Dadda schedule of target heights 2, 3, 4, 6, 9, 13, …, then one adder.
    /// Result width = columns.count (mod 2^width).
    func daddaReduce(_ columns: [[Node]], finalAdder: AdderArchitecture) -> Bus {
        finalAdd(daddaCompress(columns), finalAdder)
    }

    /// The Dadda stages alone: the heap compressed to height ≤ 2.
    func daddaCompress(_ columns: [[Node]]) -> [[Node]] {
        let width = columns.count
        var heap = columns
        var heights = [2]
        while heights.last! < (heap.map(\.count).max() ?? 0) { heights.append(heights.last! * 3 / 2) }
        // The schedule, then extra height-2 stages if an irregular heap (constants, sign bits)
        // left a column above its target; regular multiplier heaps never need them.
        var targets = Array(heights.dropLast().reversed())
        var stage = 0
        while stage < targets.count || (heap.map(\.count).max() ?? 0) > 2 {
            let target = stage < targets.count ? targets[stage] : 2
            if stage >= targets.count { targets.append(2) }
            stage += 1
            var next = [[Node]](repeating: [], count: width)
            var carries = [[Node]](repeating: [], count: width + 1)
            for w in 0..<width {
                var bits = heap[w]
                // Compress only as much as needed to reach the target height, counting the
                // carries that arrive from the column below in this stage.
                while bits.count + next[w].count + carries[w].count > target {
                    let excess = bits.count + next[w].count + carries[w].count - target
                    if excess >= 2 && bits.count >= 3 {
                        let r = fullAdd(bits.removeFirst(), bits.removeFirst(), bits.removeFirst())
                        next[w].append(r.sum)
                        carries[w + 1].append(r.carry)
                    } else if bits.count >= 2 {
                        let r = halfAdd(bits.removeFirst(), bits.removeFirst())
                        next[w].append(r.sum)
                        carries[w + 1].append(r.carry)
                    } else { break }
                }
                next[w] += bits + carries[w]
            }
            heap = next
        }
        return heap
    }

    /// Adds a heap of columns of height ≤ 2 with one carry-propagate adder.
    func finalAdd(_ heap: [[Node]], _ architecture: AdderArchitecture) -> Bus {
        precondition(heap.allSatisfy { $0.count <= 2 })
        let a = heap.map { $0.first ?? Self.zero }
        let b = heap.map { $0.count > 1 ? $0[1] : Self.zero }
        return add(a, b, architecture: architecture).sum
    }

    /// Adds rows of weighted bits (row r: bits at weights offset_r + j) as a carry-save array:
    /// each new row is added into the running (sum, carry) vectors, one adder per column.
    func compressRows(_ rows: [(offset: Int, bits: [Node])], width: Int, finalAdder: AdderArchitecture) -> Bus {
        var heap = [[Node]](repeating: [], count: width)
        for row in rows {
            var carries = [[Node]](repeating: [], count: width + 1)
            var next = [[Node]](repeating: [], count: width)
            for w in 0..<width {
                var bits = heap[w]
                let j = w - row.offset
                if j >= 0 && j < row.bits.count && row.bits[j] != Self.zero { bits.append(row.bits[j]) }
                bits = bits.filter { $0 != Self.zero }
                switch bits.count {
                case 3...:
                    let r = fullAdd(bits[0], bits[1], bits[2])
                    next[w] = [r.sum] + bits.dropFirst(3); carries[w + 1].append(r.carry)
                case 2 where heap[w].count == 2:
                    // Already a (sum, carry) pair and nothing new: keep it for the next row.
                    next[w] = bits
                case 2:
                    let r = halfAdd(bits[0], bits[1])
                    next[w] = [r.sum]; carries[w + 1].append(r.carry)
                default:
                    next[w] = bits
                }
            }
            for w in 0..<width { next[w] += carries[w] }
            heap = next
        }
        // A column can end with 3 bits (a kept pair plus a late carry) for irregular heaps; the
        // Dadda pass reduces those and is a plain final adder when every column has ≤ 2.
        return daddaReduce(heap, finalAdder: finalAdder)
    }

    /// Unsigned a × b (widths m, n), result m + n bits.
    public func multiplyUnsigned(_ a: Bus, _ b: Bus, architecture: MultiplierArchitecture = .array, finalAdder: AdderArchitecture = .ripple) -> Bus {
        let rows = b.enumerated().map { (i, bi) in (offset: i, bits: a.map { and($0, bi) }) }
        return reducePartialProducts(rows, width: a.count + b.count, architecture: architecture, finalAdder: finalAdder)
    }

    /// Two's complement a × b (widths m, n), result m + n bits, by the modified Baugh-Wooley
    /// scheme: partial products with one sign bit are inverted (NAND2), the sign×sign product is
    /// kept (AND2), and the constant 2^(m−1) + 2^(n−1) + 2^(m+n−1) is added.
    public func multiplySigned(_ a: Bus, _ b: Bus, architecture: MultiplierArchitecture = .array, finalAdder: AdderArchitecture = .ripple) -> Bus {
        let m = a.count, n = b.count
        precondition(m >= 2 && n >= 2, "signed operands need at least 2 bits")
        var rows = b.enumerated().map { (i, bi) -> (offset: Int, bits: [Node]) in
            (offset: i, bits: a.enumerated().map { (j, aj) in
                (i == n - 1) != (j == m - 1) ? nand(aj, bi) : and(aj, bi)
            })
        }
        let width = m + n
        var constant = [Node](repeating: Self.zero, count: width)
        for w in [m - 1, n - 1, m + n - 1] {
            // Add 2^w into the constant row (m − 1 = n − 1 carries into 2^m).
            var k = w
            while k < width && constant[k] == Self.one { constant[k] = Self.zero; k += 1 }
            if k < width { constant[k] = Self.one }
        }
        // The constant goes first, into empty columns, as in the classic Baugh-Wooley array.
        rows.insert((offset: 0, bits: constant), at: 0)
        return reducePartialProducts(rows, width: width, architecture: architecture, finalAdder: finalAdder)
    }

    func reducePartialProducts(_ rows: [(offset: Int, bits: [Node])], width: Int, architecture: MultiplierArchitecture, finalAdder: AdderArchitecture) -> Bus {
        switch architecture {
        case .array:
            return compressRows(rows, width: width, finalAdder: finalAdder)
        case .dadda:
            var columns = [[Node]](repeating: [], count: width)
            for row in rows {
                for (j, bit) in row.bits.enumerated() where row.offset + j < width && bit != Self.zero {
                    columns[row.offset + j].append(bit)
                }
            }
            return daddaReduce(columns, finalAdder: finalAdder)
        }
    }

    /// Two's complement a − b = a + ~b + 1, result one bit wider than the wider operand.
    public func subtractSigned(_ a: Bus, _ b: Bus) -> Bus { addSigned(a, b.map { not($0) }, carryIn: Netlist.one) }

    /// bus == constant (unsigned), as an AND of matching literals.
    public func equals(_ bus: Bus, constant: Int) -> Node {
        bus.enumerated().reduce(Netlist.one) { acc, bit in and(acc, (constant >> bit.offset) & 1 == 1 ? bit.element : not(bit.element)) }
    }
}
