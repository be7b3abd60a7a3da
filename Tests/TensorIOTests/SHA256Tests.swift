import Testing
@testable import TensorIO

/// FIPS 180-4's example digests, and the same digest whatever the chunking of the input.
@Suite struct SHA256Tests {
    @Test func knownAnswers() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func chunkingDoesNotMatter() {
        var state: UInt64 = 99
        let data = (0..<1000).map { _ -> UInt8 in state = state &* 6364136223846793005 &+ 1; return UInt8(truncatingIfNeeded: state >> 56) }
        let whole = SHA256.hex(data)
        for chunk in [1, 3, 63, 64, 65, 127, 500] {
            var h = SHA256()
            for start in stride(from: 0, to: data.count, by: chunk) { h.update(data[start..<min(data.count, start + chunk)]) }
            #expect(h.finalizeHex() == whole, "chunks of \(chunk)")
        }
    }
}
