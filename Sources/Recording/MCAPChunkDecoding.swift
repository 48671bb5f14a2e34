/// Turning a Chunk record body into its records: decompress, check the CRC, split.
enum MCAPChunkDecoding {
    /// The uncompressed records of a chunk body, or the reason they cannot be trusted.
    static func records(ofChunkBody body: [UInt8]) throws(MCAPFormatError) -> (MCAPChunkHeader, [UInt8]) {
        var reader = ByteReader(body)
        let header = try reader.chunkHeaderBody()
        let records: [UInt8]
        switch header.compression {
        case "":
            records = Array(body[header.recordsRange])
            guard UInt64(records.count) == header.uncompressedSize else {
                throw MCAPFormatError("uncompressed chunk holds \(records.count) bytes but declares \(header.uncompressedSize)")
            }
        case "zstd":
            records = try Zstd.decompress(body[header.recordsRange], expectedSize: header.uncompressedSize)
        default:
            throw MCAPFormatError("unsupported chunk compression \"\(header.compression)\"", kind: .unsupported)
        }
        if header.uncompressedCRC != 0 {
            let actual = CRC32.checksum(records)
            guard actual == header.uncompressedCRC else {
                throw MCAPFormatError("chunk CRC is \(hex(actual)), the record says \(hex(header.uncompressedCRC))",
                                      kind: .crcMismatch)
            }
        }
        return (header, records)
    }

    /// Calls `visit` with each record's opcode and a reader over its body.
    static func forEachRecord(in records: [UInt8],
                              _ visit: (UInt8, inout ByteReader) throws(MCAPFormatError) -> Void) throws(MCAPFormatError) {
        var cursor = ByteReader(records)
        while !cursor.isAtEnd {
            let opcode = try cursor.u8()
            let length = try cursor.length64("chunk inner record")
            let range = try cursor.range(count: length)
            var body = ByteReader(records, range: range)
            try visit(opcode, &body)
        }
    }
}

func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
