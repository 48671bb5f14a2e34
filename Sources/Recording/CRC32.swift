/// CRC-32 (ISO-HDLC, the zlib/PNG polynomial 0xEDB88320 reflected) as MCAP uses it.
///
/// Slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per step,
/// which keeps checksumming a multi-megabyte chunk well below the cost of compressing it.
public struct CRC32: Sendable {
    /// The running register (already inverted back, so `value` is valid at any point).
    public private(set) var value: UInt32 = 0

    /// A checksum over nothing yet.
    public init() {}

    /// The checksum of `bytes` alone.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// Folds more bytes into the checksum.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// Folds the bytes of a raw buffer into the checksum.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var crc = ~value
        var index = 0
        let count = buffer.count
        CRC32Tables.shared.withUnsafeBufferPointer { t in
            while count - index >= 8 {
                let lo = UInt32(base.load(fromByteOffset: index, as: UInt8.self))
                    | UInt32(base.load(fromByteOffset: index + 1, as: UInt8.self)) << 8
                    | UInt32(base.load(fromByteOffset: index + 2, as: UInt8.self)) << 16
                    | UInt32(base.load(fromByteOffset: index + 3, as: UInt8.self)) << 24
                let hi = UInt32(base.load(fromByteOffset: index + 4, as: UInt8.self))
                    | UInt32(base.load(fromByteOffset: index + 5, as: UInt8.self)) << 8
                    | UInt32(base.load(fromByteOffset: index + 6, as: UInt8.self)) << 16
                    | UInt32(base.load(fromByteOffset: index + 7, as: UInt8.self)) << 24
                let x = crc ^ lo
                crc = t[7 * 256 + Int(x & 0xFF)]
                    ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)]
                    ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)]
                    ^ t[Int(hi >> 24)]
                index += 8
            }
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        value = ~crc
    }
}

/// Table k maps a byte to its CRC contribution when followed by k zero bytes.
enum CRC32Tables {
    static let shared: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 {
                c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
            }
            table[n] = c
        }
        for n in 0..<256 {
            var c = table[n]
            for k in 1..<8 {
                c = table[Int(c & 0xFF)] ^ (c >> 8)
                table[k * 256 + n] = c
            }
        }
        return table
    }()
}
