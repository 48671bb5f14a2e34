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
            for i in 0..<n {
                var q = ((source[i] - offset) * inverse).rounded(.toNearestOrEven)
                if !(q >= 0) { q = source[i].isNaN ? 255 : 0 }
                out[i] = UInt8(min(q, 255))
            }
        case .f16:
            let out = destination.bindMemory(to: UInt16.self, capacity: n)
            for i in 0..<n { out[i] = Float16(source[i]).bitPattern.littleEndian }
        case .f32:
            let out = destination.bindMemory(to: UInt32.self, capacity: n)
            for i in 0..<n { out[i] = source[i].bitPattern.littleEndian }
        }
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
