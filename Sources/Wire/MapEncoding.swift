/// How an uncertainty map travels: one byte per pixel with a scale, or half / single floats.
public enum MapEncoding: String, Sendable, CaseIterable {
    case u8, f16, f32

    /// The schema's enum value.
    public var wire: Moeseg_V1_MapEncoding {
        switch self {
        case .u8: return .u8Scaled
        case .f16: return .f16
        case .f32: return .f32
        }
    }

    /// Bytes per pixel on the wire.
    public var bytesPerValue: Int {
        switch self {
        case .u8: return 1
        case .f16: return 2
        case .f32: return 4
        }
    }

    /// The Swift-side encoding of a schema value; nil for UNSPECIFIED or unknown values.
    public init?(wire: Moeseg_V1_MapEncoding) {
        switch wire {
        case .u8Scaled: self = .u8
        case .f16: self = .f16
        case .f32: self = .f32
        default: return nil
        }
    }
}

/// Converts float maps to their wire bytes and back (little-endian, row-major).
public enum MapCodec {
    /// Writes `values` in `encoding` to `destination` (values.count * bytesPerValue bytes).
    /// u8: round((v - offset) / scale) clamped to 0...255; NaN becomes 255 so that a broken
    /// map never reads as certain.
    public static func encode(_ values: UnsafeBufferPointer<Float>, as encoding: MapEncoding,
                              scale: Float, offset: Float, into destination: UnsafeMutableRawPointer) {
        let n = values.count
        guard n > 0, let source = values.baseAddress else { return }
        switch encoding {
        case .u8:
            let out = destination.bindMemory(to: UInt8.self, capacity: n)
            let inverse = 1 / scale
            // Branch-free so the loop vectorises: clamp with selects (NaN → 255), then adding
            // 2^23 leaves round-to-nearest-even of the value in the low mantissa bits.
            for i in 0..<n {
                var x = (source[i] - offset) * inverse
                x = x > 255 ? 255 : x
                x = x >= 0 ? x : (x != x ? 255 : 0)
                out[i] = UInt8(truncatingIfNeeded: (x + 8_388_608).bitPattern)
            }
        case .f16:
            let out = destination.bindMemory(to: UInt16.self, capacity: n)
            for i in 0..<n { out[i] = halfBits(source[i]).littleEndian }
        case .f32:
            let out = destination.bindMemory(to: UInt32.self, capacity: n)
            for i in 0..<n { out[i] = source[i].bitPattern.littleEndian }
        }
    }

    /// IEEE binary16 bits of `value`, rounded to nearest even, identical to `Float16(value)`
    /// but in integer selects that vectorise (Swift's conversion is a library call per value
    /// on x86 without F16C). After F. Giesen's float_to_half_fast3_rtne.
    @inline(__always)
    static func halfBits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = bits & 0x8000_0000
        let magnitude = bits ^ sign
        // Inf or NaN in half: quiet NaN stays NaN, the rest (overflow too) is infinity.
        let special: UInt32 = magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00
        // Subnormal half: let the FPU round by adding a magic number.
        let denormMagic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23
        let subnormal = (Float(bitPattern: magnitude) + Float(bitPattern: denormMagic)).bitPattern &- denormMagic
        // Normal half: rebias the exponent and round to nearest even on the dropped 13 bits.
        let odd = (magnitude >> 13) & 1
        let normal = (magnitude &+ (UInt32(bitPattern: Int32(15 - 127)) << 23) &+ 0xFFF &+ odd) >> 13
        let result = magnitude >= (127 + 16) << 23 ? special : (magnitude < 113 << 23 ? subnormal : normal)
        return UInt16(truncatingIfNeeded: result | (sign >> 16))
    }

    /// Decodes wire bytes to floats; nil if the byte count does not fit width*height.
    public static func decode(_ map: Moeseg_V1_UncertaintyMap) -> [Float]? {
        guard let encoding = MapEncoding(wire: map.encoding) else { return nil }
        let n = Int(map.width) * Int(map.height)
        guard map.data.count == n * encoding.bytesPerValue else { return nil }
        return map.data.withUnsafeBytes { raw -> [Float] in
            switch encoding {
            case .u8:
                return raw.map { map.offset + Float($0) * map.scale }
            case .f16:
                return (0..<n).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            case .f32:
                return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
        }
    }
}
