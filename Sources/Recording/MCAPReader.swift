/// Reads an MCAP file: through its summary and chunk indexes when they are intact, by a
/// linear scan of the data section when they are missing or damaged.
///
/// Damage never traps and never makes the reader trust bad bytes: a file cut at any byte
/// yields every message of every complete chunk (and every complete top-level message);
/// a chunk whose CRC fails is skipped. Each such event becomes an `MCAPIssue` in `issues`.
/// Not thread-safe: one reader per thread.
public final class MCAPReader {
    /// How to find the file's contents.
    public enum Mode: Sendable {
        /// Summary and indexes when usable, otherwise a linear scan.
        case automatic
        /// Always scan the data section (verification, damaged files).
        case scan
    }

    /// The file read.
    public var path: String { file.path }
    /// File size in bytes.
    public var fileSize: UInt64 { file.size }
    /// Header record, nil if the file ends before it.
    public private(set) var header: MCAPHeader?
    /// Schemas by id.
    public private(set) var schemas: [UInt16: MCAPSchema] = [:]
    /// Channels by id.
    public private(set) var channels: [UInt16: MCAPChannel] = [:]
    /// Metadata records in file order.
    public private(set) var metadata: [MCAPMetadata] = []
    /// Chunks in file order (from the chunk index, or found by the scan and readable).
    public private(set) var chunks: [MCAPChunkInfo] = []
    /// Counts and time range: the summary's Statistics, or what the scan recovered.
    public private(set) var statistics = MCAPStatistics()
    /// Damage found so far (grows while messages are read, e.g. a chunk failing its CRC).
    public private(set) var issues: [MCAPIssue] = []
    /// True when contents came from the summary section rather than a scan.
    public private(set) var usedSummary = false
    /// True when the file ends with an intact Footer and magic.
    public private(set) var hasFooter = false

    let file: RandomAccessFile
    /// Top-level (unchunked) messages found by the scan.
    private var looseMessages: [LooseMessage] = []
    /// Channels present in each chunk, when known (scan), aligned with `chunks`.
    private var chunkChannels: [Set<UInt16>?] = []
    private var issueKeys: Set<String> = []

    struct LooseMessage {
        var offset: UInt64
        var length: UInt64
        var logTime: UInt64
        var channelId: UInt16
    }

    /// Opens `path`; throws only if it cannot be read at all or is not MCAP.
    public init(path: String, mode: Mode = .automatic) throws(MCAPError) {
        file = try RandomAccessFile(path: path)
        let prefixCount = Int(min(file.size, UInt64(mcapMagic.count)))
        let prefix = try file.read(at: 0, count: prefixCount)
        guard prefix == Array(mcapMagic[0..<prefixCount]) else { throw MCAPError.badMagic(path) }
        if prefixCount < mcapMagic.count {
            record(.truncated, at: 0, "the file is \(file.size) bytes, shorter than the MCAP magic; nothing to recover")
            return
        }
        if mode == .automatic, readSummary() {
            usedSummary = true
            return
        }
        scan()
    }

    /// Channel id for a topic (first match).
    public func channelId(topic: String) -> UInt16? {
        channels.values.filter { $0.topic == topic }.map(\.id).min()
    }

    /// The schema of a channel, if it has one.
    public func schema(forChannel id: UInt16) -> MCAPSchema? {
        guard let channel = channels[id], channel.schemaId != 0 else { return nil }
        return schemas[channel.schemaId]
    }

    /// Messages in log-time order (file order among equal times), optionally restricted to
    /// some channels and to log times at or after `startTime`.
    public func messages(channels wanted: Set<UInt16>? = nil, startTime: UInt64 = 0) -> MCAPMessageIterator {
        var blocks: [MCAPMessageIterator.Block] = []
        for (i, chunk) in chunks.enumerated() {
            if chunk.messageEndTime < startTime { continue }
            if let wanted {
                let present = chunkChannels[i] ?? (chunk.messageIndexOffsets.isEmpty ? nil : Set(chunk.messageIndexOffsets.keys))
                if let present, present.isDisjoint(with: wanted) { continue }
            }
            blocks.append(.init(startTime: chunk.messageStartTime, offset: chunk.chunkStartOffset, kind: .chunk(i)))
        }
        for (i, loose) in looseMessages.enumerated() {
            if loose.logTime < startTime { continue }
            if let wanted, !wanted.contains(loose.channelId) { continue }
            blocks.append(.init(startTime: loose.logTime, offset: loose.offset, kind: .loose(i)))
        }
        blocks.sort { ($0.startTime, $0.offset) < ($1.startTime, $1.offset) }
        return MCAPMessageIterator(reader: self, blocks: blocks, channels: wanted, startTime: startTime)
    }

    /// Reads every message once to check all chunks (CRC, decompression); returns the
    /// number of messages that could be read. New damage lands in `issues`.
    @discardableResult
    public func verifyAllChunks() -> UInt64 {
        var count: UInt64 = 0
        for i in chunks.indices { count += UInt64(loadChunk(i).count) }
        for i in looseMessages.indices where loadLoose(i) != nil { count += 1 }
        return count
    }

    // MARK: - Issues

    func record(_ kind: MCAPIssue.Kind, at offset: UInt64?, _ message: String) {
        let key = "\(kind.rawValue)@\(offset.map(String.init) ?? "-"):\(message)"
        guard issueKeys.insert(key).inserted else { return }
        issues.append(MCAPIssue(kind: kind, offset: offset, message: message))
    }

    // MARK: - Summary (fast path)

    /// Loads everything from the summary section; false (with state reset) when the file
    /// has none or it cannot be trusted, so the caller scans instead.
    private func readSummary() -> Bool {
        let size = file.size
        let tail = UInt64(footerRecordSize + mcapMagic.count)
        guard size >= UInt64(mcapMagic.count) + tail, let footer = try? file.read(at: size - tail, count: Int(tail)) else {
            return false
        }
        guard Array(footer[footerRecordSize...]) == mcapMagic, footer[0] == MCAPOpcode.footer.rawValue else {
            return false
        }
        var f = ByteReader(footer, range: 1..<footerRecordSize)
        guard let length = try? f.u64(), length == 20,
              let summaryStart = try? f.u64(), let summaryOffsetStart = try? f.u64(), let summaryCRC = try? f.u32()
        else { return false }
        hasFooter = true
        let footerOffset = size - tail
        guard summaryStart != 0 else { return false }  // a valid file without a summary
        guard summaryStart >= UInt64(mcapMagic.count), summaryStart <= footerOffset,
              summaryOffsetStart == 0 || (summaryOffsetStart >= summaryStart && summaryOffsetStart <= footerOffset)
        else {
            record(.summaryUnusable, at: footerOffset, "footer points outside the file; scanned the data section instead")
            return false
        }
        guard let summary = try? file.read(at: summaryStart, count: Int(footerOffset - summaryStart)) else { return false }
        if summaryCRC != 0 {
            var crc = CRC32()
            crc.update(summary)
            crc.update(footer[0..<(1 + 8 + 8 + 8)])
            guard crc.value == summaryCRC else {
                record(.crcMismatch, at: summaryStart,
                       "summary CRC is \(hex(crc.value)), the footer says \(hex(summaryCRC)); scanned the data section instead")
                return false
            }
        }

        var stats: MCAPStatistics?
        var metadataIndexes: [MCAPMetadataIndex] = []
        do throws(MCAPFormatError) {
            var cursor = ByteReader(summary)
            while !cursor.isAtEnd {
                let opcode = try cursor.u8()
                let length = try cursor.length64("summary record")
                var body = ByteReader(summary, range: try cursor.range(count: length))
                switch MCAPOpcode(rawValue: opcode) {
                case .schema:
                    let s = try body.schemaBody()
                    schemas[s.id] = s
                case .channel:
                    let c = try body.channelBody()
                    channels[c.id] = c
                case .statistics: stats = try body.statisticsBody()
                case .chunkIndex: chunks.append(try body.chunkIndexBody())
                case .metadataIndex: metadataIndexes.append(try body.metadataIndexBody())
                default: break  // SummaryOffset, AttachmentIndex, unknown
                }
            }
        } catch {
            record(.summaryUnusable, at: summaryStart, "summary section unreadable (\(error)); scanned the data section instead")
            resetContents()
            return false
        }

        // The summary can only stand in for a scan if it indexes every message.
        let dataEnd = summaryStart
        guard let stats, stats.chunkCount == UInt32(truncatingIfNeeded: chunks.count),
              stats.messageCount == 0 || !chunks.isEmpty,
              Int(stats.channelCount) <= channels.count
        else {
            resetContents()
            return false
        }
        for c in chunks {
            let (end, overflow) = c.chunkStartOffset.addingReportingOverflow(c.chunkLength)
            guard c.chunkStartOffset >= UInt64(mcapMagic.count), !overflow, end <= dataEnd,
                  c.chunkLength >= UInt64(recordHeaderSize) else {
                record(.summaryUnusable, at: c.chunkStartOffset,
                       "chunk index points outside the data section; scanned the data section instead")
                resetContents()
                return false
            }
        }
        chunks.sort { $0.chunkStartOffset < $1.chunkStartOffset }
        chunkChannels = Array(repeating: nil, count: chunks.count)
        statistics = stats
        header = readHeaderRecord()
        for index in metadataIndexes {
            if let m = readMetadataRecord(index) { metadata.append(m) }
        }
        return true
    }

    private func resetContents() {
        schemas = [:]
        channels = [:]
        chunks = []
        chunkChannels = []
        metadata = []
        looseMessages = []
        statistics = MCAPStatistics()
    }

    private func readHeaderRecord() -> MCAPHeader? {
        guard let bytes = try? readTopLevelRecord(at: UInt64(mcapMagic.count), expecting: .header) else {
            record(.malformed, at: UInt64(mcapMagic.count), "no readable Header record after the magic")
            return nil
        }
        var body = ByteReader(bytes)
        return try? body.headerBody()
    }

    private func readMetadataRecord(_ index: MCAPMetadataIndex) -> MCAPMetadata? {
        do {
            let bytes = try readTopLevelRecord(at: index.offset, expecting: .metadata)
            var body = ByteReader(bytes)
            return try body.metadataBody()
        } catch {
            record(.malformed, at: index.offset, "metadata \"\(index.name)\" unreadable (\(error)); it is left out")
            return nil
        }
    }

    /// The body of the top-level record at `offset`, checked to have the expected opcode
    /// and to lie inside the file.
    func readTopLevelRecord(at offset: UInt64, expecting opcode: MCAPOpcode,
                            length expectedLength: UInt64? = nil) throws -> [UInt8] {
        guard offset <= file.size, file.size - offset >= UInt64(recordHeaderSize) else {
            throw MCAPFormatError("record offset \(offset) is past the end of the file")
        }
        let head = try file.read(at: offset, count: recordHeaderSize)
        var r = ByteReader(head)
        let op = try r.u8()
        let length = try r.u64()
        guard op == opcode.rawValue else {
            throw MCAPFormatError("expected a \(opcode) record at \(offset), found opcode \(MCAPOpcode.name(op))")
        }
        guard length <= file.size - offset - UInt64(recordHeaderSize) else {
            throw MCAPFormatError("\(opcode) record at \(offset) runs past the end of the file")
        }
        if let expectedLength, expectedLength != length + UInt64(recordHeaderSize) {
            throw MCAPFormatError("\(opcode) record at \(offset) is \(length + 9) bytes, the index says \(expectedLength)")
        }
        return try file.read(at: offset + UInt64(recordHeaderSize), count: Int(length))
    }

    // MARK: - Linear scan (fallback, verification)

    private func scan() {
        resetContents()
        let size = file.size
        var offset = UInt64(mcapMagic.count)
        var dataCRC = CRC32()
        dataCRC.update(mcapMagic)
        var stats = MCAPStatistics()
        var sawDataEnd = false

        func noteMessage(_ channelId: UInt16, _ logTime: UInt64) {
            if stats.messageCount == 0 {
                stats.messageStartTime = logTime
                stats.messageEndTime = logTime
            } else {
                stats.messageStartTime = min(stats.messageStartTime, logTime)
                stats.messageEndTime = max(stats.messageEndTime, logTime)
            }
            stats.messageCount += 1
            stats.channelMessageCounts[channelId, default: 0] += 1
        }

        scanning: while true {
            if offset == size {
                record(.truncated, at: offset,
                       "the file ends after its last complete record, without DataEnd, summary or footer (writer not closed)")
                break
            }
            let left = size - offset
            guard left >= UInt64(recordHeaderSize), let head = try? file.read(at: offset, count: recordHeaderSize) else {
                record(.truncated, at: offset, "the file ends inside a record header; the last \(left) bytes are lost")
                break
            }
            let opcode = head[0]
            var h = ByteReader(head, range: 1..<9)
            let length = (try? h.u64()) ?? UInt64.max
            guard length <= left - UInt64(recordHeaderSize) else {
                let what = MCAPOpcode.name(opcode)
                record(.truncated, at: offset,
                       "the file ends inside a \(what) record that declares \(length) bytes; the last \(left) bytes are lost")
                break
            }
            guard let body = try? file.read(at: offset + UInt64(recordHeaderSize), count: Int(length)) else {
                record(.truncated, at: offset, "cannot read the record at this offset; the last \(left) bytes are lost")
                break
            }
            let recordOffset = offset
            offset += UInt64(recordHeaderSize) + length
            let op = MCAPOpcode(rawValue: opcode)
            if op != .dataEnd && op != .footer {
                dataCRC.update(head)
                dataCRC.update(body)
            }
            var reader = ByteReader(body)
            do throws(MCAPFormatError) {
                switch op {
                case .header:
                    header = try reader.headerBody()
                case .schema:
                    let s = try reader.schemaBody()
                    schemas[s.id] = s
                case .channel:
                    let c = try reader.channelBody()
                    channels[c.id] = c
                case .message:
                    guard body.count >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
                    let channelId = try reader.u16()
                    _ = try reader.u32()
                    let logTime = try reader.u64()
                    looseMessages.append(LooseMessage(offset: recordOffset, length: length + 9, logTime: logTime,
                                                      channelId: channelId))
                    noteMessage(channelId, logTime)
                case .chunk:
                    let chunkLength = length + UInt64(recordHeaderSize)
                    do throws(MCAPFormatError) {
                        let (chunkHeader, records) = try MCAPChunkDecoding.records(ofChunkBody: body)
                        var present = Set<UInt16>()
                        var start = UInt64.max
                        var end: UInt64 = 0
                        var count = 0
                        try MCAPChunkDecoding.forEachRecord(in: records) { opcode, inner throws(MCAPFormatError) in
                            switch MCAPOpcode(rawValue: opcode) {
                            case .schema:
                                let s = try inner.schemaBody()
                                schemas[s.id] = s
                            case .channel:
                                let c = try inner.channelBody()
                                channels[c.id] = c
                            case .message:
                                guard inner.remaining >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
                                let channelId = try inner.u16()
                                _ = try inner.u32()
                                let logTime = try inner.u64()
                                present.insert(channelId)
                                start = min(start, logTime)
                                end = max(end, logTime)
                                count += 1
                                noteMessage(channelId, logTime)
                            default: break
                            }
                        }
                        chunks.append(MCAPChunkInfo(
                            messageStartTime: count > 0 ? start : chunkHeader.messageStartTime,
                            messageEndTime: count > 0 ? end : chunkHeader.messageEndTime,
                            chunkStartOffset: recordOffset, chunkLength: chunkLength, messageIndexOffsets: [:],
                            messageIndexLength: 0, compression: chunkHeader.compression,
                            compressedSize: UInt64(chunkHeader.recordsRange.count),
                            uncompressedSize: chunkHeader.uncompressedSize))
                        chunkChannels.append(present)
                    } catch {
                        record(error.kind, at: recordOffset, "chunk skipped, its messages are lost: \(error)")
                    }
                case .metadata:
                    metadata.append(try reader.metadataBody())
                case .dataEnd:
                    let expected = try reader.u32()
                    if expected != 0 && expected != dataCRC.value {
                        record(.crcMismatch, at: recordOffset,
                               "data section CRC is \(hex(dataCRC.value)), DataEnd says \(hex(expected))")
                    }
                    sawDataEnd = true
                    break scanning
                case .footer:
                    break scanning
                default:
                    break  // message indexes, attachments, index records, unknown opcodes: skipped by length
                }
            } catch {
                record(error.kind, at: recordOffset, "\(MCAPOpcode.name(opcode)) record unreadable (\(error)); skipped")
            }
        }
        if sawDataEnd, !hasFooter {
            let tail = UInt64(footerRecordSize + mcapMagic.count)
            let intact = size >= tail && (try? file.read(at: size - UInt64(mcapMagic.count), count: mcapMagic.count)) == mcapMagic
            if !intact {
                record(.truncated, at: offset,
                       "the file ends inside its summary section or footer; every message was still recovered")
            }
        }
        stats.schemaCount = UInt16(truncatingIfNeeded: schemas.count)
        stats.channelCount = UInt32(truncatingIfNeeded: channels.count)
        stats.metadataCount = UInt32(truncatingIfNeeded: metadata.count)
        stats.chunkCount = UInt32(truncatingIfNeeded: chunks.count)
        statistics = stats
    }

    // MARK: - Loading messages

    /// Messages of chunk `i` in file order; empty (and an issue) if it cannot be trusted.
    func loadChunk(_ i: Int) -> [MCAPMessage] {
        let info = chunks[i]
        do {
            let body = try readTopLevelRecord(at: info.chunkStartOffset, expecting: .chunk, length: info.chunkLength)
            let (_, records) = try MCAPChunkDecoding.records(ofChunkBody: body)
            var messages: [MCAPMessage] = []
            try MCAPChunkDecoding.forEachRecord(in: records) { opcode, inner throws(MCAPFormatError) in
                if opcode == MCAPOpcode.message.rawValue {
                    guard inner.remaining >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
                    messages.append(try inner.messageBody())
                }
            }
            return messages
        } catch let error as MCAPFormatError {
            record(error.kind, at: info.chunkStartOffset, "chunk skipped, its messages are lost: \(error)")
        } catch {
            record(.malformed, at: info.chunkStartOffset, "chunk skipped, its messages are lost: \(error)")
        }
        return []
    }

    /// The top-level message `i`, or nil (and an issue).
    func loadLoose(_ i: Int) -> MCAPMessage? {
        let loose = looseMessages[i]
        do {
            var body = ByteReader(try readTopLevelRecord(at: loose.offset, expecting: .message, length: loose.length))
            guard body.remaining >= 22 else { throw MCAPFormatError("message record shorter than 22 bytes") }
            return try body.messageBody()
        } catch {
            record(.malformed, at: loose.offset, "message unreadable: \(error)")
            return nil
        }
    }
}

/// Iterates messages in log-time order by merging chunks as their time ranges come due.
public struct MCAPMessageIterator: IteratorProtocol, Sequence {
    struct Block {
        enum Kind { case chunk(Int), loose(Int) }
        var startTime: UInt64
        var offset: UInt64
        var kind: Kind
    }

    private let reader: MCAPReader
    private let blocks: [Block]
    private let wanted: Set<UInt16>?
    private let startTime: UInt64
    private var nextBlock = 0
    private var heap = MessageHeap()
    private var ordinal: UInt64 = 0

    init(reader: MCAPReader, blocks: [Block], channels: Set<UInt16>?, startTime: UInt64) {
        self.reader = reader
        self.blocks = blocks
        self.wanted = channels
        self.startTime = startTime
    }

    /// The next message, or nil at the end.
    public mutating func next() -> MCAPMessage? {
        while nextBlock < blocks.count {
            if let first = heap.first, blocks[nextBlock].startTime > first.message.logTime { break }
            load(blocks[nextBlock])
            nextBlock += 1
        }
        return heap.popFirst()?.message
    }

    private mutating func load(_ block: Block) {
        let messages: [MCAPMessage]
        switch block.kind {
        case let .chunk(i): messages = reader.loadChunk(i)
        case let .loose(i): messages = reader.loadLoose(i).map { [$0] } ?? []
        }
        for m in messages {
            if m.logTime < startTime { continue }
            if let wanted, !wanted.contains(m.channelId) { continue }
            heap.push(.init(message: m, ordinal: ordinal))
            ordinal += 1
        }
    }
}

/// Binary min-heap of messages by (log time, arrival order).
struct MessageHeap {
    struct Entry {
        var message: MCAPMessage
        var ordinal: UInt64
        static func < (a: Entry, b: Entry) -> Bool {
            (a.message.logTime, a.ordinal) < (b.message.logTime, b.ordinal)
        }
    }

    private var items: [Entry] = []

    var first: Entry? { items.first }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func popFirst() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count, items[l] < items[smallest] { smallest = l }
            if r < items.count, items[r] < items[smallest] { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
