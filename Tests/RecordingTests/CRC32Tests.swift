import Foundation
import Testing
@testable import Recording

/// Bit-at-a-time CRC-32 straight from the polynomial, as an independent reference.
private func naiveCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

@Test func crc32CheckVector() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
}

@Test func crc32MatchesBitwiseReferenceAtEveryLengthAndSplit() {
    var rng = SeededGenerator(seed: 1)
    for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
        let data = rng.bytes(length)
        #expect(CRC32.checksum(data) == naiveCRC32(data), "length \(length)")
        let split = length == 0 ? 0 : Int(rng.next() % UInt64(length))
        var crc = CRC32()
        crc.update(data[..<split])
        crc.update(data[split...])
        #expect(crc.value == naiveCRC32(data), "length \(length) split \(split)")
    }
}

@Test func crc32MatchesZlib() throws {
    // zlib.crc32 of 100000 bytes of i*7+3 mod 256, computed by the Python reference.
    let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
    let reference = try PythonTools.inline("import zlib; print(zlib.crc32(bytes((i*7+3) % 256 for i in range(100000))))")
    #expect(String(CRC32.checksum(data)) == reference.trimmingCharacters(in: .whitespacesAndNewlines))
}
