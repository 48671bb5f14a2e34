/// One record the salvage scan found and trusts.
enum SalvagedRecord {
    case header(MCAPHeader)
    case schema(MCAPSchema)
    case channel(MCAPChannel)
    case metadata(MCAPMetadata)
    /// A top-level message (not in a chunk).
    case message(MCAPMessage)
    /// The schemas, channels and messages of one chunk whose CRC and decompression checked out.
    case chunk([SalvagedRecord])
}

/// Walks the data section of a damaged MCAP file record by record and hands over what can
/// be trusted, for `MCAPRecovery`.
///
/// Unlike `MCAPReader`'s scan it does not give up at the first record whose length runs
/// past the end or whose opcode is nonsense: it searches forward for the next chunk whose
/// header is self-consistent and whose CRC matches (a CRC-less chunk found by searching is
/// never trusted), and goes on from there. Only when no such chunk follows are the bytes
/// counted as lost at the tail. Record bodies are read one at a time.
struct MCAPSalvageScanner {
    /// A stretch of the input that was not used.
    struct Loss: Sendable, Equatable {
        var offset: UInt64
        var length: UInt64
        var reason: String
    }

    /// What the scan found besides the records.
    struct Outcome {
        /// Chunks skipped because their CRC, compression or fields were bad.
        var damagedChunks: [Loss] = []
        /// Other records skipped as unreadable.
        var unreadableRecords: [Loss] = []
        /// Bytes between records that could not be parsed, skipped up to the next trusted chunk.
        var skippedRanges: [Loss] = []
        /// Bytes lost at the end of the file (a cut-off record), if any.
        var tail: Loss?
        /// The data section ended with a DataEnd record (the writer closed the file).
        var sawDataEnd = false
        /// Chunks trusted.
        var chunkCount = 0
    }

    private let file: RandomAccessFile
    /// Records other than chunks larger than this are taken as a corrupted length.
    private let maxPlainRecord: UInt64 = 1 << 30
    /// Smallest chunk body: times, size, CRC, compression length and records length.
    private static let chunkFixedBytes: UInt64 = 8 + 8 + 8 + 4 + 4 + 8
    private static let knownCompressions: Set<String> = ["", "zstd", "lz4"]

    init(file: RandomAccessFile) {
        self.file = file
    }

    /// Scans from just after the magic, calling `visit` with every trusted record in file order.
    func scan(_ visit: (SalvagedRecord) throws(MCAPError) -> Void) throws(MCAPError) -> Outcome {
        var outcome = Outcome()
        let size = file.size
        var offset = UInt64(mcapMagic.count)
        while offset < size {
            let left = size - offset
            guard left >= UInt64(recordHeaderSize) else {
                outcome.tail = Loss(offset: offset, length: left, reason: "the file ends inside a record header")
                break
            }
            let head = try file.read(at: offset, count: recordHeaderSize)
            let opcode = head[0]
            let length = littleEndianU64(head, at: 1)
            let op = MCAPOpcode(rawValue: opcode)
            let fits = length <= left - UInt64(recordHeaderSize)
            // 0x00 and 0x10-0x7F are reserved by the spec, so no writer produces them: damage.
            let plausibleOpcode = op != nil || opcode >= 0x80
            let readable = op == .chunk || op == nil || length <= maxPlainRecord
            guard fits, plausibleOpcode, readable else {
                let what = plausibleOpcode ? "\(MCAPOpcode.name(opcode)) record declaring \(length) bytes" : "opcode \(MCAPOpcode.name(opcode))"
                if let next = try nextTrustedChunk(after: offset) {
                    outcome.skippedRanges.append(Loss(offset: offset, length: next - offset,
                                                      reason: "unreadable bytes (\(what)) before the next intact chunk"))
                    offset = next
                    continue
                }
                let reason = fits ? "unreadable bytes (\(what)) with no intact chunk after them"
                    : "the file ends inside a \(MCAPOpcode.name(opcode)) record that declares \(length) bytes"
                outcome.tail = Loss(offset: offset, length: left, reason: reason)
                break
            }
            let recordOffset = offset
            let recordLength = UInt64(recordHeaderSize) + length
            offset += recordLength
            switch op {
            case .chunk:
                do throws(MCAPFormatError) {
                    try checkChunkFields(at: recordOffset, length: length, requireCRC: false)
                } catch {
                    // The fields contradict the length, so the length is not to be trusted either.
                    if let next = try nextTrustedChunk(after: recordOffset) {
                        outcome.damagedChunks.append(Loss(offset: recordOffset, length: next - recordOffset, reason: "\(error)"))
                        offset = next
                        continue
                    }
                    outcome.tail = Loss(offset: recordOffset, length: size - recordOffset,
                                        reason: "a damaged chunk (\(error)) with no intact chunk after it")
                    return outcome
                }
                let records: [SalvagedRecord]
                do throws(MCAPFormatError) {
                    records = try chunkRecords(at: recordOffset, length: length, requireCRC: false)
                } catch {
                    outcome.damagedChunks.append(Loss(offset: recordOffset, length: recordLength, reason: "\(error)"))
                    continue
                }
                outcome.chunkCount += 1
                try visit(.chunk(records))
            case .header, .schema, .channel, .metadata, .message:
                let body = try file.read(at: recordOffset + UInt64(recordHeaderSize), count: Int(length))
                let record: SalvagedRecord?
                do throws(MCAPFormatError) { record = try Self.plainRecord(op!, body) } catch {
                    outcome.unreadableRecords.append(Loss(offset: recordOffset, length: recordLength,
                                                          reason: "\(op!) record unreadable: \(error)"))
                    continue
                }
                if let record { try visit(record) }
            case .dataEnd:
                outcome.sawDataEnd = true
                return outcome
            case .footer:
                return outcome
            default:
                break  // indexes, attachments, statistics, extension opcodes: not needed, skipped by length
            }
        }
        return outcome
    }

    /// A top-level record other than a chunk, or nil for a header seen anywhere but first.
    private static func plainRecord(_ op: MCAPOpcode, _ body: [UInt8]) throws(MCAPFormatError) -> SalvagedRecord? {
        var reader = ByteReader(body)
        switch op {
        case .header: return .header(try reader.headerBody())
        case .schema: return .schema(try reader.schemaBody())
        case .channel: return .channel(try reader.channelBody())
        case .metadata: return .metadata(try reader.metadataBody())
        case .message:
            guard body.count >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
            return .message(try reader.messageBody())
        default: return nil
        }
    }

    /// The records of the chunk at `offset` with body `length`, checked: consistent fields,
    /// decompression, CRC (required when the chunk was found by searching).
    private func chunkRecords(at offset: UInt64, length: UInt64, requireCRC: Bool) throws(MCAPFormatError)
        -> [SalvagedRecord] {
        try checkChunkFields(at: offset, length: length, requireCRC: requireCRC)
        let body: [UInt8]
        do { body = try file.read(at: offset + UInt64(recordHeaderSize), count: Int(length)) } catch {
            throw MCAPFormatError("\(error)")
        }
        let (_, records) = try MCAPChunkDecoding.records(ofChunkBody: body)
        var out: [SalvagedRecord] = []
        try MCAPChunkDecoding.forEachRecord(in: records) { opcode, inner throws(MCAPFormatError) in
            switch MCAPOpcode(rawValue: opcode) {
            case .schema: out.append(.schema(try inner.schemaBody()))
            case .channel: out.append(.channel(try inner.channelBody()))
            case .message:
                guard inner.remaining >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
                out.append(.message(try inner.messageBody()))
            default: break
            }
        }
        return out
    }

    /// Checks a chunk's fixed fields against its record length before its body is read, so a
    /// corrupted length is caught without reading (or allocating) what it claims.
    private func checkChunkFields(at offset: UInt64, length: UInt64, requireCRC: Bool) throws(MCAPFormatError) {
        guard length >= Self.chunkFixedBytes else { throw MCAPFormatError("chunk record of \(length) bytes is too short") }
        let prefixCount = Int(min(length, Self.chunkFixedBytes + 16))
        let prefix: [UInt8]
        do { prefix = try file.read(at: offset + UInt64(recordHeaderSize), count: prefixCount) } catch {
            throw MCAPFormatError("\(error)")
        }
        let start = littleEndianU64(prefix, at: 0)
        let end = littleEndianU64(prefix, at: 8)
        let uncompressedSize = littleEndianU64(prefix, at: 16)
        let crc = UInt32(littleEndianU64(prefix, at: 24) & 0xFFFF_FFFF)
        let compressionLength = UInt64(UInt32(truncatingIfNeeded: littleEndianU64(prefix, at: 28)))
        guard start <= end else { throw MCAPFormatError("chunk time range \(start)..\(end) runs backwards") }
        guard uncompressedSize <= maxChunkUncompressedSize else {
            throw MCAPFormatError("chunk declares \(uncompressedSize) uncompressed bytes")
        }
        if requireCRC, crc == 0 { throw MCAPFormatError("chunk without a CRC") }
        guard compressionLength <= 16, 32 + Int(compressionLength) + 8 <= prefix.count else {
            throw MCAPFormatError("chunk compression name of \(compressionLength) bytes")
        }
        let name = String(decoding: prefix[32..<(32 + Int(compressionLength))], as: UTF8.self)
        guard Self.knownCompressions.contains(name) else { throw MCAPFormatError("chunk compression \"\(name)\" is not known") }
        let recordsLength = littleEndianU64(prefix, at: 32 + Int(compressionLength))
        guard recordsLength == length - Self.chunkFixedBytes - compressionLength else {
            throw MCAPFormatError("chunk records length \(recordsLength) disagrees with the record length \(length)")
        }
        if name == "", recordsLength != uncompressedSize {
            throw MCAPFormatError("uncompressed chunk of \(recordsLength) bytes declares \(uncompressedSize)")
        }
    }

    /// The offset of the next chunk after `offset` that checks out completely, if any.
    private func nextTrustedChunk(after offset: UInt64) throws(MCAPError) -> UInt64? {
        let size = file.size
        let window = 1 << 20
        var base = offset + 1
        while base + UInt64(recordHeaderSize) <= size {
            let count = Int(min(UInt64(window + recordHeaderSize), size - base))
            let bytes = try file.read(at: base, count: count)
            let last = min(window, count - recordHeaderSize)
            var i = 0
            while i <= last {
                if bytes[i] == MCAPOpcode.chunk.rawValue {
                    let candidate = base + UInt64(i)
                    let length = littleEndianU64(bytes, at: i + 1)
                    if length <= size - candidate - UInt64(recordHeaderSize),
                       (try? chunkRecords(at: candidate, length: length, requireCRC: true)) != nil {
                        return candidate
                    }
                }
                i += 1
            }
            base += UInt64(window)
        }
        return nil
    }
}

/// The little-endian u64 at `at`, or what there is of it (missing bytes as zero).
func littleEndianU64(_ bytes: [UInt8], at: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<8 where at + k < bytes.count { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
    return v
}
