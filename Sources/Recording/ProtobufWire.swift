/// A malformed protobuf message.
public struct ProtobufDecodingError: Error, Equatable, CustomStringConvertible {
    /// What was wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Protobuf wire types we write or skip (groups, 3 and 4, are rejected).
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

/// Minimal protobuf wire-format writer: varints, fixed32 and length-delimited fields.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: UInt32, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    mutating func fixed32(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(8 * i))) }
    }

    mutating func lengthDelimited(_ field: UInt32, _ payload: UnsafeRawBufferPointer) {
        tag(field, .lengthDelimited)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func lengthDelimited(_ field: UInt32, _ payload: [UInt8]) {
        payload.withUnsafeBytes { lengthDelimited(field, $0) }
    }
}

/// Minimal bounds-checked protobuf wire-format reader over untrusted bytes.
struct ProtobufReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    mutating func varint() throws(ProtobufDecodingError) -> UInt64 {
        var result: UInt64 = 0
        for i in 0..<10 {
            guard position < end else { throw ProtobufDecodingError("varint runs past the end") }
            let byte = bytes[position]
            position += 1
            if i == 9 && byte > 1 { throw ProtobufDecodingError("varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << UInt64(7 * i)
            if byte & 0x80 == 0 { return result }
        }
        throw ProtobufDecodingError("varint longer than 10 bytes")
    }

    /// Field number and wire type of the next field.
    mutating func tag() throws(ProtobufDecodingError) -> (field: UInt32, type: WireType) {
        let key = try varint()
        let field = key >> 3
        guard field >= 1, field <= 0x1FFF_FFFF else { throw ProtobufDecodingError("invalid field number \(field)") }
        guard let type = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufDecodingError("unsupported wire type \(key & 7) for field \(field)")
        }
        return (UInt32(field), type)
    }

    mutating func fixed32() throws(ProtobufDecodingError) -> UInt32 {
        guard end - position >= 4 else { throw ProtobufDecodingError("fixed32 runs past the end") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return v
    }

    /// Range of a length-delimited payload, checked against what is left.
    mutating func lengthDelimited() throws(ProtobufDecodingError) -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - position) else {
            throw ProtobufDecodingError("length \(n) exceeds the \(end - position) bytes left")
        }
        let r = position..<(position + Int(n))
        position += Int(n)
        return r
    }

    mutating func skip(_ type: WireType) throws(ProtobufDecodingError) {
        switch type {
        case .varint: _ = try varint()
        case .fixed32: _ = try fixed32()
        case .fixed64:
            guard end - position >= 8 else { throw ProtobufDecodingError("fixed64 runs past the end") }
            position += 8
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
