/// The 8-byte MCAP magic that opens and closes every file: `\x89MCAP0\r\n`.
public let mcapMagic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]

/// MCAP record opcodes (https://mcap.dev/spec).
public enum MCAPOpcode: UInt8, Sendable {
    case header = 0x01, footer = 0x02, schema = 0x03, channel = 0x04, message = 0x05
    case chunk = 0x06, messageIndex = 0x07, chunkIndex = 0x08, attachment = 0x09
    case attachmentIndex = 0x0A, statistics = 0x0B, metadata = 0x0C, metadataIndex = 0x0D
    case summaryOffset = 0x0E, dataEnd = 0x0F

    /// A readable name for diagnostics, including opcodes we do not know.
    static func name(_ raw: UInt8) -> String {
        if let op = MCAPOpcode(rawValue: raw) { return "\(op)" }
        return String(format0x: raw)
    }
}

extension String {
    init(format0x v: UInt8) {
        let hex = String(v, radix: 16)
        self = "0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}

/// Record opcode + u64 length.
let recordHeaderSize = 9
/// Footer record (opcode, length, 8 + 8 + 4) followed by the closing magic.
let footerRecordSize = recordHeaderSize + 20

/// The Header record: profile and writing library.
public struct MCAPHeader: Sendable, Equatable {
    /// Profile naming field conventions (empty for none).
    public var profile: String
    /// Free-form identity of the writer.
    public var library: String
}

/// A Schema record: how to decode the messages of channels that reference it.
public struct MCAPSchema: Sendable, Equatable {
    /// Nonzero schema id, unique within the file.
    public var id: UInt16
    /// Schema name, e.g. `foxglove.RawImage`.
    public var name: String
    /// Schema encoding, e.g. `protobuf`.
    public var encoding: String
    /// Encoded schema (for protobuf a FileDescriptorSet).
    public var data: [UInt8]
}

/// A Channel record: a topic, its message encoding and schema.
public struct MCAPChannel: Sendable, Equatable {
    /// Channel id, unique within the file.
    public var id: UInt16
    /// Schema id, 0 for schemaless channels.
    public var schemaId: UInt16
    /// Topic name.
    public var topic: String
    /// Message encoding, e.g. `protobuf`.
    public var messageEncoding: String
    /// Free-form key/value metadata.
    public var metadata: [String: String]
}

/// One message as stored in the file.
public struct MCAPMessage: Sendable, Equatable {
    /// Channel the message belongs to.
    public var channelId: UInt16
    /// Publisher-assigned sequence number.
    public var sequence: UInt32
    /// When the message was recorded, nanoseconds.
    public var logTime: UInt64
    /// When the message was published, nanoseconds.
    public var publishTime: UInt64
    /// The encoded payload.
    public var data: [UInt8]
}

/// A Metadata record: named key/value pairs.
public struct MCAPMetadata: Sendable, Equatable {
    /// Metadata record name, e.g. `moeseg.recording`.
    public var name: String
    /// The key/value pairs.
    public var entries: [String: String]
}

/// Summary statistics of a file.
public struct MCAPStatistics: Sendable, Equatable {
    /// Messages in the file.
    public var messageCount: UInt64 = 0
    /// Schema records (distinct ids).
    public var schemaCount: UInt16 = 0
    /// Channel records (distinct ids).
    public var channelCount: UInt32 = 0
    /// Attachment records.
    public var attachmentCount: UInt32 = 0
    /// Metadata records.
    public var metadataCount: UInt32 = 0
    /// Chunk records.
    public var chunkCount: UInt32 = 0
    /// Earliest message log time (0 without messages).
    public var messageStartTime: UInt64 = 0
    /// Latest message log time (0 without messages).
    public var messageEndTime: UInt64 = 0
    /// Messages per channel id.
    public var channelMessageCounts: [UInt16: UInt64] = [:]
}

/// Where one chunk sits and what it holds, from a ChunkIndex record or a scan.
public struct MCAPChunkInfo: Sendable, Equatable {
    /// Earliest message log time in the chunk.
    public var messageStartTime: UInt64
    /// Latest message log time in the chunk.
    public var messageEndTime: UInt64
    /// File offset of the chunk record's opcode byte.
    public var chunkStartOffset: UInt64
    /// Length of the whole chunk record, opcode and length field included.
    public var chunkLength: UInt64
    /// Channel id → file offset of that channel's MessageIndex record.
    public var messageIndexOffsets: [UInt16: UInt64]
    /// Total bytes of the MessageIndex records after the chunk.
    public var messageIndexLength: UInt64
    /// Compression name: "" or "zstd" (or what another writer used).
    public var compression: String
    /// Bytes of the (compressed) records field.
    public var compressedSize: UInt64
    /// Bytes of the records once decompressed.
    public var uncompressedSize: UInt64
}

/// A MetadataIndex record.
struct MCAPMetadataIndex: Sendable, Equatable {
    var offset: UInt64
    var length: UInt64
    var name: String
}

/// Fixed fields of a Chunk record, before its records.
struct MCAPChunkHeader {
    var messageStartTime: UInt64
    var messageEndTime: UInt64
    var uncompressedSize: UInt64
    var uncompressedCRC: UInt32
    var compression: String
    /// Where the (possibly compressed) records sit in the record body.
    var recordsRange: Range<Int>
}

// MARK: - Encoding

extension ByteWriter {
    mutating func header(_ h: MCAPHeader) {
        let at = beginRecord(.header)
        string(h.profile)
        string(h.library)
        endRecord(lengthAt: at)
    }

    mutating func schema(_ s: MCAPSchema) {
        let at = beginRecord(.schema)
        u16(s.id)
        string(s.name)
        string(s.encoding)
        u32(UInt32(truncatingIfNeeded: s.data.count))
        raw(s.data)
        endRecord(lengthAt: at)
    }

    mutating func channel(_ c: MCAPChannel) {
        let at = beginRecord(.channel)
        u16(c.id)
        u16(c.schemaId)
        string(c.topic)
        string(c.messageEncoding)
        stringMap(c.metadata)
        endRecord(lengthAt: at)
    }

    mutating func message(channelId: UInt16, sequence: UInt32, logTime: UInt64, publishTime: UInt64,
                          data: UnsafeRawBufferPointer) {
        u8(MCAPOpcode.message.rawValue)
        u64(UInt64(22 + data.count))
        u16(channelId)
        u32(sequence)
        u64(logTime)
        u64(publishTime)
        raw(data)
    }

    mutating func metadata(_ m: MCAPMetadata) {
        let at = beginRecord(.metadata)
        string(m.name)
        stringMap(m.entries)
        endRecord(lengthAt: at)
    }

    mutating func messageIndex(channelId: UInt16, entries: [(logTime: UInt64, offset: UInt64)]) {
        let at = beginRecord(.messageIndex)
        u16(channelId)
        u32(UInt32(truncatingIfNeeded: entries.count * 16))
        // Readers binary-search these by time, so they go out sorted (stable for ties).
        for e in entries.enumerated().sorted(by: { ($0.element.logTime, $0.offset) < ($1.element.logTime, $1.offset) }).map(\.element) {
            u64(e.logTime)
            u64(e.offset)
        }
        endRecord(lengthAt: at)
    }

    mutating func chunkIndex(_ c: MCAPChunkInfo) {
        let at = beginRecord(.chunkIndex)
        u64(c.messageStartTime)
        u64(c.messageEndTime)
        u64(c.chunkStartOffset)
        u64(c.chunkLength)
        u32(UInt32(truncatingIfNeeded: c.messageIndexOffsets.count * 10))
        for id in c.messageIndexOffsets.keys.sorted() {
            u16(id)
            u64(c.messageIndexOffsets[id] ?? 0)
        }
        u64(c.messageIndexLength)
        string(c.compression)
        u64(c.compressedSize)
        u64(c.uncompressedSize)
        endRecord(lengthAt: at)
    }

    mutating func metadataIndex(_ m: MCAPMetadataIndex) {
        let at = beginRecord(.metadataIndex)
        u64(m.offset)
        u64(m.length)
        string(m.name)
        endRecord(lengthAt: at)
    }

    mutating func statistics(_ s: MCAPStatistics) {
        let at = beginRecord(.statistics)
        u64(s.messageCount)
        u16(s.schemaCount)
        u32(s.channelCount)
        u32(s.attachmentCount)
        u32(s.metadataCount)
        u32(s.chunkCount)
        u64(s.messageStartTime)
        u64(s.messageEndTime)
        u32(UInt32(truncatingIfNeeded: s.channelMessageCounts.count * 10))
        for id in s.channelMessageCounts.keys.sorted() {
            u16(id)
            u64(s.channelMessageCounts[id] ?? 0)
        }
        endRecord(lengthAt: at)
    }

    mutating func summaryOffset(opcode: MCAPOpcode, start: UInt64, length: UInt64) {
        let at = beginRecord(.summaryOffset)
        u8(opcode.rawValue)
        u64(start)
        u64(length)
        endRecord(lengthAt: at)
    }

    mutating func dataEnd(crc: UInt32) {
        let at = beginRecord(.dataEnd)
        u32(crc)
        endRecord(lengthAt: at)
    }
}

// MARK: - Decoding (each reads one record body, already cut to its length)

extension ByteReader {
    mutating func headerBody() throws(MCAPFormatError) -> MCAPHeader {
        MCAPHeader(profile: try string(), library: try string())
    }

    mutating func schemaBody() throws(MCAPFormatError) -> MCAPSchema {
        let id = try u16()
        let name = try string()
        let encoding = try string()
        let n = try length32("schema data")
        return MCAPSchema(id: id, name: name, encoding: encoding, data: try bytes(count: n))
    }

    mutating func channelBody() throws(MCAPFormatError) -> MCAPChannel {
        let id = try u16()
        let schemaId = try u16()
        let topic = try string()
        let encoding = try string()
        let metadata = try stringMap()
        return MCAPChannel(id: id, schemaId: schemaId, topic: topic, messageEncoding: encoding, metadata: metadata)
    }

    mutating func messageBody() throws(MCAPFormatError) -> MCAPMessage {
        let channelId = try u16()
        let sequence = try u32()
        let logTime = try u64()
        let publishTime = try u64()
        return MCAPMessage(channelId: channelId, sequence: sequence, logTime: logTime,
                           publishTime: publishTime, data: try bytes(count: remaining))
    }

    mutating func metadataBody() throws(MCAPFormatError) -> MCAPMetadata {
        MCAPMetadata(name: try string(), entries: try stringMap())
    }

    mutating func chunkHeaderBody() throws(MCAPFormatError) -> MCAPChunkHeader {
        let start = try u64()
        let end = try u64()
        let size = try u64()
        let crc = try u32()
        let compression = try string()
        let n = try length64("chunk records")
        return MCAPChunkHeader(messageStartTime: start, messageEndTime: end, uncompressedSize: size,
                               uncompressedCRC: crc, compression: compression, recordsRange: try range(count: n))
    }

    mutating func chunkIndexBody() throws(MCAPFormatError) -> MCAPChunkInfo {
        let start = try u64()
        let end = try u64()
        let offset = try u64()
        let length = try u64()
        let n = try length32("message index offsets")
        let stop = position + n
        var offsets: [UInt16: UInt64] = [:]
        while position < stop {
            let id = try u16()
            offsets[id] = try u64()
        }
        guard position == stop else { throw MCAPFormatError("message index offsets overrun") }
        let indexLength = try u64()
        let compression = try string()
        let compressed = try u64()
        let uncompressed = try u64()
        return MCAPChunkInfo(messageStartTime: start, messageEndTime: end, chunkStartOffset: offset,
                             chunkLength: length, messageIndexOffsets: offsets, messageIndexLength: indexLength,
                             compression: compression, compressedSize: compressed, uncompressedSize: uncompressed)
    }

    mutating func metadataIndexBody() throws(MCAPFormatError) -> MCAPMetadataIndex {
        MCAPMetadataIndex(offset: try u64(), length: try u64(), name: try string())
    }

    mutating func statisticsBody() throws(MCAPFormatError) -> MCAPStatistics {
        var s = MCAPStatistics()
        s.messageCount = try u64()
        s.schemaCount = try u16()
        s.channelCount = try u32()
        s.attachmentCount = try u32()
        s.metadataCount = try u32()
        s.chunkCount = try u32()
        s.messageStartTime = try u64()
        s.messageEndTime = try u64()
        let n = try length32("channel message counts")
        let stop = position + n
        while position < stop {
            let id = try u16()
            s.channelMessageCounts[id] = try u64()
        }
        guard position == stop else { throw MCAPFormatError("channel message counts overrun") }
        return s
    }
}
