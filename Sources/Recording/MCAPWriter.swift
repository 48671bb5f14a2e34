/// How chunk records are compressed.
public enum MCAPCompression: String, Sendable, CaseIterable {
    /// Chunk records stored as they are (compression field "").
    case none = ""
    /// zstd, one frame per chunk.
    case zstd = "zstd"
}

/// Knobs of an `MCAPWriter`.
public struct MCAPWriterOptions: Sendable {
    /// A chunk is closed once its uncompressed records reach this many bytes.
    public var chunkSize: Int
    /// Chunk compression.
    public var compression: MCAPCompression
    /// zstd level; low levels keep up with live camera rates on a small CPU.
    public var zstdLevel: Int32
    /// Group messages in chunks (with message indexes); false writes messages top-level.
    public var useChunks: Bool
    /// Header profile.
    public var profile: String
    /// Header library identity.
    public var library: String

    /// Defaults: 1 MiB zstd chunks at level 1 (about 3x cheaper than level 3 for camera frames).
    public init(chunkSize: Int = 1 << 20, compression: MCAPCompression = .zstd, zstdLevel: Int32 = 1,
                useChunks: Bool = true, profile: String = "", library: String = "moeseg") {
        self.chunkSize = chunkSize
        self.compression = compression
        self.zstdLevel = zstdLevel
        self.useChunks = useChunks
        self.profile = profile
        self.library = library
    }
}

/// Writes an MCAP file: chunked, indexed, CRC-protected, with a full summary section.
///
/// Schema, Channel and Metadata records go to the file at once and every finished chunk
/// is handed to the kernel with its message indexes, so a process that dies without
/// `close()` leaves a file whose complete chunks a reader still recovers. Not thread-safe.
public final class MCAPWriter {
    /// The file being written.
    public var path: String { out.path }

    private let out: FileOutput
    private let options: MCAPWriterOptions
    private var dataCRC = CRC32()
    private var schemas: [MCAPSchema] = []
    private var channels: [MCAPChannel] = []
    private var statistics = MCAPStatistics()
    private var chunkIndexes: [MCAPChunkInfo] = []
    private var metadataIndexes: [MCAPMetadataIndex] = []

    private var chunk = ByteWriter()
    private var chunkMessageCount = 0
    private var chunkStartTime = UInt64.max
    private var chunkEndTime: UInt64 = 0
    private var chunkMessageIndex: [UInt16: [(logTime: UInt64, offset: UInt64)]] = [:]

    private var scratch = ByteWriter()
    private var compressed: [UInt8] = []
    private var state = State.open
    /// The write error that stopped the file from growing, if any.
    public private(set) var failure: MCAPError?

    private enum State { case open, closed, failed }

    /// Creates (truncates) `path`, which must be a regular file or nothing (never a symbolic
    /// link), with mode 0640, and writes the magic and Header record.
    public convenience init(path: String, options: MCAPWriterOptions = MCAPWriterOptions()) throws(MCAPError) {
        try self.init(path: path, options: options, allowingNonRegularFiles: false)
    }

    /// The designated initialiser; tests pass `allowingNonRegularFiles` to write to /dev/full.
    init(path: String, options: MCAPWriterOptions, allowingNonRegularFiles: Bool) throws(MCAPError) {
        guard options.chunkSize > 0 else { throw MCAPError.invalidArgument("chunk size must be positive") }
        self.options = options
        out = try FileOutput(path: path, allowingNonRegularFiles: allowingNonRegularFiles)
        scratch.raw(mcapMagic)
        scratch.header(MCAPHeader(profile: options.profile, library: options.library))
        try emitScratch()
    }

    /// Number of messages added so far.
    public var messageCount: UInt64 { statistics.messageCount }

    /// Bytes handed to the kernel so far.
    public var bytesWritten: UInt64 { out.offset }

    /// Uncompressed bytes of the open chunk, not yet written.
    public var pendingChunkBytes: Int { chunk.count }

    /// Registers a schema and writes its record; returns its id (1, 2, ...).
    public func addSchema(name: String, encoding: String, data: [UInt8]) throws(MCAPError) -> UInt16 {
        try checkOpen()
        guard schemas.count < Int(UInt16.max) else { throw MCAPError.invalidArgument("more than 65535 schemas") }
        guard data.count <= Int(UInt32.max) else { throw MCAPError.invalidArgument("schema data over 4 GiB") }
        let schema = MCAPSchema(id: UInt16(schemas.count + 1), name: name, encoding: encoding, data: data)
        scratch.schema(schema)
        try emitScratch()
        schemas.append(schema)
        statistics.schemaCount += 1
        return schema.id
    }

    /// Registers a channel and writes its record; returns its id (1, 2, ...).
    public func addChannel(topic: String, messageEncoding: String, schemaId: UInt16,
                           metadata: [String: String] = [:]) throws(MCAPError) -> UInt16 {
        try checkOpen()
        guard channels.count < Int(UInt16.max) else { throw MCAPError.invalidArgument("more than 65535 channels") }
        guard schemaId == 0 || Int(schemaId) <= schemas.count else {
            throw MCAPError.unknownId("schema \(schemaId) for topic \(topic)")
        }
        let channel = MCAPChannel(id: UInt16(channels.count + 1), schemaId: schemaId, topic: topic,
                                  messageEncoding: messageEncoding, metadata: metadata)
        scratch.channel(channel)
        try emitScratch()
        channels.append(channel)
        statistics.channelCount += 1
        return channel.id
    }

    /// Adds one message (to the open chunk, or top-level when chunking is off).
    public func addMessage(channelId: UInt16, sequence: UInt32 = 0, logTime: UInt64, publishTime: UInt64,
                           data: UnsafeRawBufferPointer) throws(MCAPError) {
        try checkOpen()
        guard channelId >= 1, Int(channelId) <= channels.count else {
            throw MCAPError.unknownId("channel \(channelId)")
        }
        if statistics.messageCount == 0 {
            statistics.messageStartTime = logTime
            statistics.messageEndTime = logTime
        } else {
            statistics.messageStartTime = min(statistics.messageStartTime, logTime)
            statistics.messageEndTime = max(statistics.messageEndTime, logTime)
        }
        statistics.messageCount += 1
        statistics.channelMessageCounts[channelId, default: 0] += 1

        if options.useChunks {
            let offset = UInt64(chunk.count)
            chunk.message(channelId: channelId, sequence: sequence, logTime: logTime, publishTime: publishTime, data: data)
            chunkMessageIndex[channelId, default: []].append((logTime, offset))
            chunkStartTime = min(chunkStartTime, logTime)
            chunkEndTime = max(chunkEndTime, logTime)
            chunkMessageCount += 1
            if chunk.count >= options.chunkSize { try finishChunk() }
        } else {
            scratch.message(channelId: channelId, sequence: sequence, logTime: logTime, publishTime: publishTime, data: data)
            try emitScratch()
        }
    }

    /// Adds one message from an array.
    public func addMessage(channelId: UInt16, sequence: UInt32 = 0, logTime: UInt64, publishTime: UInt64,
                           data: [UInt8]) throws(MCAPError) {
        var failure: MCAPError?
        data.withUnsafeBytes { buffer in
            do throws(MCAPError) {
                try addMessage(channelId: channelId, sequence: sequence, logTime: logTime,
                               publishTime: publishTime, data: buffer)
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes a Metadata record (indexed in the summary).
    public func addMetadata(name: String, entries: [String: String]) throws(MCAPError) {
        try checkOpen()
        let offset = out.offset
        scratch.metadata(MCAPMetadata(name: name, entries: entries))
        let length = UInt64(scratch.count)
        try emitScratch()
        metadataIndexes.append(MCAPMetadataIndex(offset: offset, length: length, name: name))
        statistics.metadataCount += 1
    }

    /// Closes the open chunk early and hands everything to the kernel; `sync` also fsyncs.
    public func flush(sync: Bool = false) throws(MCAPError) {
        try checkOpen()
        try finishChunk()
        if sync { try out.sync() }
    }

    /// Writes the last chunk, DataEnd, the summary section and the footer, and closes the file.
    /// After a write failure it only releases the file and throws that failure again.
    public func close() throws(MCAPError) {
        if state == .closed { return }
        if state == .failed, let failure {
            try? out.close()
            state = .closed
            throw failure
        }
        try checkOpen()
        try finishChunk()
        scratch.dataEnd(crc: dataCRC.value)
        try emitScratch()

        let summaryStart = out.offset
        var summary = ByteWriter()
        var groups: [(MCAPOpcode, Int, Int)] = []
        func group(_ opcode: MCAPOpcode, _ body: (inout ByteWriter) -> Void) {
            let start = summary.count
            body(&summary)
            if summary.count > start { groups.append((opcode, start, summary.count - start)) }
        }
        group(.schema) { w in for s in schemas { w.schema(s) } }
        group(.channel) { w in for c in channels { w.channel(c) } }
        group(.statistics) { w in
            var stats = statistics
            stats.chunkCount = UInt32(truncatingIfNeeded: chunkIndexes.count)
            w.statistics(stats)
        }
        group(.chunkIndex) { w in for c in chunkIndexes { w.chunkIndex(c) } }
        group(.metadataIndex) { w in for m in metadataIndexes { w.metadataIndex(m) } }
        let summaryOffsetStart = summaryStart + UInt64(summary.count)
        for (opcode, start, length) in groups {
            summary.summaryOffset(opcode: opcode, start: summaryStart + UInt64(start), length: UInt64(length))
        }

        // The summary CRC covers the summary and the footer up to its own CRC field.
        var footerPrefix = ByteWriter()
        footerPrefix.u8(MCAPOpcode.footer.rawValue)
        footerPrefix.u64(20)
        footerPrefix.u64(summaryStart)
        footerPrefix.u64(summaryOffsetStart)
        var crc = CRC32()
        crc.update(summary.bytes)
        crc.update(footerPrefix.bytes)

        summary.raw(footerPrefix.bytes)
        summary.u32(crc.value)
        summary.raw(mcapMagic)
        do {
            try out.write(summary.bytes)
            try out.close()
        } catch {
            fail(error)
            try? out.close()
            state = .closed
            throw error
        }
        state = .closed
    }

    // MARK: - Internals

    private func checkOpen() throws(MCAPError) {
        switch state {
        case .open: return
        case .closed: throw MCAPError.writerClosed
        case .failed: throw failure ?? MCAPError.io(out.path, "an earlier write failed; the file is incomplete")
        }
    }

    /// Remembers the first failure; the writer refuses everything after it.
    private func fail(_ error: MCAPError) {
        if failure == nil { failure = error }
        state = .failed
    }

    /// Writes the scratch buffer as data-section bytes.
    private func emitScratch() throws(MCAPError) {
        do {
            try out.write(scratch.bytes)
        } catch {
            scratch.removeAll()
            fail(error)
            throw error
        }
        dataCRC.update(scratch.bytes)
        scratch.removeAll()
    }

    private func finishChunk() throws(MCAPError) {
        guard chunkMessageCount > 0 else { return }
        let uncompressedCRC = CRC32.checksum(chunk.bytes)
        let compressionName = options.compression.rawValue
        let payloadCount: Int
        switch options.compression {
        case .none:
            payloadCount = chunk.count
        case .zstd:
            try Zstd.compress(chunk.bytes, level: options.zstdLevel, into: &compressed)
            payloadCount = compressed.count
        }

        let chunkStart = out.offset
        let at = scratch.beginRecord(.chunk)
        scratch.u64(chunkStartTime)
        scratch.u64(chunkEndTime)
        scratch.u64(UInt64(chunk.count))
        scratch.u32(uncompressedCRC)
        scratch.string(compressionName)
        scratch.u64(UInt64(payloadCount))
        switch options.compression {
        case .none: scratch.raw(chunk.bytes)
        case .zstd: scratch.raw(compressed)
        }
        scratch.endRecord(lengthAt: at)
        let chunkLength = UInt64(scratch.count)

        var indexOffsets: [UInt16: UInt64] = [:]
        for channelId in chunkMessageIndex.keys.sorted() {
            indexOffsets[channelId] = chunkStart + UInt64(scratch.count)
            scratch.messageIndex(channelId: channelId, entries: chunkMessageIndex[channelId] ?? [])
        }
        let indexLength = UInt64(scratch.count) - chunkLength
        try emitScratch()

        chunkIndexes.append(MCAPChunkInfo(
            messageStartTime: chunkStartTime, messageEndTime: chunkEndTime, chunkStartOffset: chunkStart,
            chunkLength: chunkLength, messageIndexOffsets: indexOffsets, messageIndexLength: indexLength,
            compression: compressionName, compressedSize: UInt64(payloadCount), uncompressedSize: UInt64(chunk.count)))

        chunk.removeAll()
        chunkMessageIndex.removeAll(keepingCapacity: true)
        chunkMessageCount = 0
        chunkStartTime = .max
        chunkEndTime = 0
    }
}
