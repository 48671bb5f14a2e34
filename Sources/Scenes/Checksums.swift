/// CRC-32 (ISO-HDLC, the one PNG and zlib's gzip use): reflected polynomial 0xEDB88320.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private(set) var value: UInt32 = 0xFFFF_FFFF

    mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var c = value
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        value = c
    }

    /// The finished checksum.
    var checksum: UInt32 { value ^ 0xFFFF_FFFF }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.checksum
    }
}

/// Adler-32, zlib's trailer checksum.
struct Adler32 {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        // 5552 is the largest block for which the sums cannot overflow 32 bits before reduction.
        var index = 0
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            for i in index..<end {
                a &+= UInt32(bytes[i])
                b &+= a
            }
            a %= 65521
            b %= 65521
            index = end
        }
    }

    var checksum: UInt32 { b << 16 | a }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var adler = Adler32()
        bytes.withUnsafeBufferPointer { adler.update($0) }
        return adler.checksum
    }
}
