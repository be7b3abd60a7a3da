import Formats

/// The `.tahq` byte stream (docs/tahquant-wire.md): header, allocation bitmap, flag bitmap,
/// pivot indices, FP16 scales, FP16 zeros, INT4 payload, INT3 payload, CRC-32.
public enum TahQuantWire {
    public static let magic: [UInt8] = Array("TAHQ".utf8)
    public static let version: UInt16 = 1
    public static let headerSize = 36

    /// Bits in a writer, least significant bit first within each byte.
    struct BitWriter {
        var bytes: [UInt8] = []
        var bitCount = 0
        mutating func write(_ value: UInt64, bits: Int) {
            for b in 0..<bits {
                if bitCount % 8 == 0 { bytes.append(0) }
                if (value >> UInt64(b)) & 1 == 1 { bytes[bytes.count - 1] |= 1 << UInt8(bitCount % 8) }
                bitCount += 1
            }
        }
    }

    public static func encode(_ t: TahQuantTensor) -> [UInt8] {
        let c = t.configuration
        var out = magic
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { for k in 0..<4 { out.append(UInt8((v >> UInt32(8 * k)) & 0xFF)) } }
        func f64(_ v: Double) { for k in 0..<8 { out.append(UInt8((v.bitPattern >> UInt64(8 * k)) & 0xFF)) } }
        u16(version)
        out.append(UInt8(c.tileSize.trailingZeroBitCount))
        out.append(c.allocation == .token ? 0 : 1)
        u32(UInt32(t.sequences)); u32(UInt32(t.tokensPerSequence)); u32(UInt32(t.channels))
        f64(c.int4Share); f64(c.tau)
        var allocation = BitWriter()
        if c.allocation == .token {
            for token in 0..<t.tokens { allocation.write(t.tileBits[token * t.tilesPerToken] == 4 ? 1 : 0, bits: 1) }
        } else {
            for b in t.tileBits { allocation.write(b == 4 ? 1 : 0, bits: 1) }
        }
        out += allocation.bytes
        var flags = BitWriter()
        for f in t.flagged { flags.write(f ? 1 : 0, bits: 1) }
        out += flags.bytes
        var pivots = BitWriter()
        for (i, f) in t.flagged.enumerated() where f { pivots.write(UInt64(t.pivots[i]), bits: c.tileSize.trailingZeroBitCount) }
        out += pivots.bytes
        for s in t.scales { u16(s) }
        for z in t.zeros { u16(z) }
        for bits in [4, 3] {
            var payload = BitWriter()
            for index in 0..<t.tileCount where Int(t.tileBits[index]) == bits {
                for i in 0..<c.tileSize { payload.write(UInt64(t.codes[index * c.tileSize + i]), bits: bits) }
            }
            out += payload.bytes
        }
        u32(CRC32.checksum(out))
        return out
    }

    /// Parses and validates a stream; every failure names the byte offset.
    public static func decode(_ bytes: [UInt8]) throws -> TahQuantTensor {
        var offset = 0
        func need(_ n: Int, _ what: String) throws {
            guard offset + n <= bytes.count else { throw TahQuantError.corrupt(offset: offset, "truncated: \(what) needs \(n) bytes, \(bytes.count - offset) left") }
        }
        func u16() throws -> UInt16 { try need(2, "a 16-bit field"); defer { offset += 2 }; return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
        func u32() throws -> UInt32 { try need(4, "a 32-bit field"); defer { offset += 4 }; return (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) } }
        func f64() throws -> Double { try need(8, "a 64-bit field"); defer { offset += 8 }; return Double(bitPattern: (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }) }
        try need(4, "the magic number")
        guard Array(bytes[0..<4]) == magic else { throw TahQuantError.corrupt(offset: 0, "not a .tahq stream (magic)") }
        offset = 4
        let v = try u16()
        guard v == version else { throw TahQuantError.corrupt(offset: 4, "version \(v) is not supported (this reader: \(version))") }
        try need(2, "tile size and allocation")
        let log2G = Int(bytes[offset]), allocationByte = bytes[offset + 1]
        guard (3...7).contains(log2G) else { throw TahQuantError.corrupt(offset: offset, "tile size 2^\(log2G) is not one of 8…128") }
        guard allocationByte <= 1 else { throw TahQuantError.corrupt(offset: offset + 1, "allocation mode \(allocationByte) is unknown") }
        offset += 2
        let sequencesOffset = offset
        let sequences = Int(try u32()), perSequence = Int(try u32()), channels = Int(try u32())
        let share = try f64(), tau = try f64()
        let g = 1 << log2G
        let configuration = TahQuantConfiguration(tileSize: g, int4Share: share, allocation: allocationByte == 0 ? .token : .tile, tau: tau)
        guard sequences > 0, perSequence > 0, channels > 0, channels % g == 0 else {
            throw TahQuantError.corrupt(offset: sequencesOffset, "shape [\(sequences), \(perSequence), \(channels)] is empty or not a multiple of G = \(g)")
        }
        guard share.isFinite, (0...1).contains(share), tau.isFinite, tau >= 1 else { throw TahQuantError.corrupt(offset: 20, "INT4 share or tau out of range") }
        let (tokens, o1) = sequences.multipliedReportingOverflow(by: perSequence)
        let (elements, o2) = tokens.multipliedReportingOverflow(by: channels)
        // Each element costs at least 3 payload bits: refuse a shape the stream cannot hold
        // before allocating anything for it.
        guard !o1, !o2, elements / 8 * 3 <= bytes.count else {
            throw TahQuantError.corrupt(offset: sequencesOffset, "shape [\(sequences), \(perSequence), \(channels)] does not fit a \(bytes.count)-byte stream")
        }
        let tilesPerToken = channels / g, tiles = tokens * tilesPerToken
        func bitmap(_ count: Int, _ what: String) throws -> [Bool] {
            let n = (count + 7) / 8
            try need(n, what)
            defer { offset += n }
            return (0..<count).map { (bytes[offset + $0 / 8] >> UInt8($0 % 8)) & 1 == 1 }
        }
        let allocation = try bitmap(configuration.allocation == .token ? tokens : tiles, "the allocation bitmap")
        let tileBits: [UInt8] = (0..<tiles).map { index in
            (configuration.allocation == .token ? allocation[index / tilesPerToken] : allocation[index]) ? 4 : 3
        }
        let flagged = try bitmap(tiles, "the flag bitmap")
        let flaggedCount = flagged.filter { $0 }.count
        func unpack(_ count: Int, bits: Int, _ what: String) throws -> [UInt8] {
            let n = (count * bits + 7) / 8
            try need(n, what)
            defer { offset += n }
            return (0..<count).map { k in
                var v: UInt8 = 0
                for b in 0..<bits { let bit = k * bits + b; v |= ((bytes[offset + bit / 8] >> UInt8(bit % 8)) & 1) << UInt8(b) }
                return v
            }
        }
        let pivotList = try unpack(flaggedCount, bits: log2G, "the pivot indices")
        var pivots = [UInt8](repeating: 0, count: tiles)
        var k = 0
        for i in 0..<tiles where flagged[i] { pivots[i] = pivotList[k]; k += 1 }
        let scalesOffset = offset
        let scales = try (0..<tiles).map { _ in try u16() }
        let zerosOffset = offset
        let zeros = try (0..<tiles).map { _ in try u16() }
        for i in 0..<tiles {
            let s = UInt32(scales[i]), z = UInt32(zeros[i])
            guard s & 0x7C00 != 0x7C00, s & 0x8000 == 0, s != 0 else { throw TahQuantError.corrupt(offset: scalesOffset + 2 * i, "scale of tile \(i) is not a positive finite FP16") }
            guard z & 0x7C00 != 0x7C00 else { throw TahQuantError.corrupt(offset: zerosOffset + 2 * i, "zero point of tile \(i) is not a finite FP16") }
        }
        var codes = [UInt8](repeating: 0, count: elements)
        for bits in [4, 3] {
            let chosen = (0..<tiles).filter { Int(tileBits[$0]) == bits }
            let values = try unpack(chosen.count * g, bits: bits, "the INT\(bits) payload")
            for (n, index) in chosen.enumerated() { for i in 0..<g { codes[index * g + i] = values[n * g + i] } }
        }
        let checksumOffset = offset
        let stored = try u32()
        guard offset == bytes.count else { throw TahQuantError.corrupt(offset: offset, "\(bytes.count - offset) trailing bytes") }
        guard stored == CRC32.checksum(Array(bytes[0..<checksumOffset])) else { throw TahQuantError.corrupt(offset: checksumOffset, "CRC-32 mismatch") }
        return TahQuantTensor(sequences: sequences, tokensPerSequence: perSequence, channels: channels, configuration: configuration,
                              tileBits: tileBits, flagged: flagged, pivots: pivots, scales: scales, zeros: zeros, codes: codes)
    }

    /// Bits per element of a stream, everything included (header and checksum too).
    public static func bitsPerElement(_ t: TahQuantTensor, streamBytes: Int) -> Double { Double(streamBytes * 8) / Double(t.codes.count) }
}

/// CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
