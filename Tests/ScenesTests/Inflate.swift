/// A small independent DEFLATE decoder (stored and fixed-Huffman blocks only, which is what
/// the encoder under test emits), written from RFC 1951 for checking PNG output.
struct Inflate {
    enum Failure: Error { case truncated, unsupportedBlock(Int), badSymbol, badDistance }

    private let data: [UInt8]
    private var bytePosition = 0
    private var bitPosition = 0

    init(_ data: [UInt8]) { self.data = data }

    private mutating func bit() throws -> Int {
        guard bytePosition < data.count else { throw Failure.truncated }
        let value = Int(data[bytePosition] >> UInt8(bitPosition)) & 1
        bitPosition += 1
        if bitPosition == 8 { bitPosition = 0; bytePosition += 1 }
        return value
    }

    /// An integer stored least significant bit first.
    private mutating func bits(_ count: Int) throws -> Int {
        var value = 0
        for i in 0..<count { value |= try bit() << i }
        return value
    }

    /// Fixed literal/length code (RFC 1951 section 3.2.6), read most significant bit first.
    private mutating func literalLength() throws -> Int {
        var code = 0
        for _ in 0..<7 { code = code << 1 | (try bit()) }
        if code <= 0b0010111 { return 256 + code }
        code = code << 1 | (try bit())
        if (0x30...0xBF).contains(code) { return code - 0x30 }
        if (0xC0...0xC7).contains(code) { return 280 + code - 0xC0 }
        code = code << 1 | (try bit())
        if (0x190...0x1FF).contains(code) { return 144 + code - 0x190 }
        throw Failure.badSymbol
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
                             115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                               1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                12, 12, 13, 13]

    /// Decodes a raw DEFLATE stream.
    mutating func decode() throws -> [UInt8] {
        var out = [UInt8]()
        var final = 0
        repeat {
            final = try bit()
            let type = try bits(2)
            switch type {
            case 0:
                if bitPosition != 0 { bitPosition = 0; bytePosition += 1 }
                guard bytePosition + 4 <= data.count else { throw Failure.truncated }
                let length = Int(data[bytePosition]) | Int(data[bytePosition + 1]) << 8
                let check = Int(data[bytePosition + 2]) | Int(data[bytePosition + 3]) << 8
                guard length ^ 0xFFFF == check else { throw Failure.badSymbol }
                bytePosition += 4
                guard bytePosition + length <= data.count else { throw Failure.truncated }
                out += data[bytePosition..<(bytePosition + length)]
                bytePosition += length
            case 1:
                while true {
                    let symbol = try literalLength()
                    if symbol < 256 { out.append(UInt8(symbol)); continue }
                    if symbol == 256 { break }
                    let index = symbol - 257
                    guard index < Self.lengthBase.count else { throw Failure.badSymbol }
                    let length = Self.lengthBase[index] + (try bits(Self.lengthExtra[index]))
                    var code = 0
                    for _ in 0..<5 { code = code << 1 | (try bit()) }
                    guard code < Self.distanceBase.count else { throw Failure.badDistance }
                    let distance = Self.distanceBase[code] + (try bits(Self.distanceExtra[code]))
                    guard distance <= out.count else { throw Failure.badDistance }
                    for _ in 0..<length { out.append(out[out.count - distance]) }
                }
            default:
                throw Failure.unsupportedBlock(type)
            }
        } while final == 0
        return out
    }
}
