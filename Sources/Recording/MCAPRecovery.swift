import Glibc

/// What `MCAPRecovery.recover` kept and what it had to leave out.
public struct MCAPRecoveryReport: Sendable {
    /// A stretch of the input that was not used, and why.
    public struct Loss: Sendable, Equatable, CustomStringConvertible {
        /// Offset of the first byte left out.
        public var offset: UInt64
        /// Bytes left out.
        public var length: UInt64
        /// One phrase saying why.
        public var reason: String

        public var description: String { "\(length) bytes at \(offset): \(reason)" }
    }

    /// The file written.
    public var output: String
    /// Messages written to the output.
    public var messages: UInt64 = 0
    /// Channels, schemas and metadata records written.
    public var channels = 0
    public var schemas = 0
    public var metadata = 0
    /// Intact chunks of the input whose messages were kept.
    public var chunks = 0
    /// Chunks skipped because their CRC, compression or fields did not check out.
    public var damagedChunks: [Loss] = []
    /// Other records and unparseable stretches skipped in the middle of the file.
    public var skipped: [Loss] = []
    /// What was lost at the end of the input (a record cut off by the crash), if anything.
    public var tail: Loss?
    /// Messages left out because their channel record was lost.
    public var messagesWithoutChannel: UInt64 = 0
    /// The input had been closed properly (it ended with DataEnd and a summary).
    public var inputWasClosed = false

    /// The one line `moeseg recover` prints.
    public var line: String {
        var text = "recovered \(messages) messages on \(channels) channel\(channels == 1 ? "" : "s") from \(chunks) "
            + "chunk\(chunks == 1 ? "" : "s") into \(output)"
        if inputWasClosed {
            text += "; the input had been closed (it ends with DataEnd), no tail dropped"
        } else {
            text += "; dropped \(tail?.length ?? 0) bytes at the tail"
            if let tail { text += " (\(tail.reason))" }
        }
        if !damagedChunks.isEmpty {
            let bytes = damagedChunks.reduce(0) { $0 + $1.length }
            text += "; skipped \(damagedChunks.count) damaged chunk\(damagedChunks.count == 1 ? "" : "s") (\(bytes) bytes)"
        }
        if !skipped.isEmpty {
            let bytes = skipped.reduce(0) { $0 + $1.length }
            text += "; skipped \(bytes) unreadable bytes in \(skipped.count) place\(skipped.count == 1 ? "" : "s")"
        }
        if messagesWithoutChannel > 0 { text += "; left out \(messagesWithoutChannel) messages whose channel record was lost" }
        return text
    }
}

/// Rewrites a recording that was never closed (power loss, SIGKILL, a full disk) or is
/// damaged into a valid, indexed MCAP file: every message of every intact chunk (and every
/// intact top-level message) is copied, with the schemas, channels and metadata the input
/// declared; chunks whose CRC does not match are left out, never trusted.
public enum MCAPRecovery {
    /// Reads `input`, writes `output` (which must not be the input) and says what was kept.
    /// `options` set the output's chunking and compression; chunk boundaries of the input
    /// are kept (an input chunk never shares an output chunk with another).
    public static func recover(input: String, output: String,
                               options: MCAPWriterOptions = MCAPWriterOptions()) throws(MCAPError) -> MCAPRecoveryReport {
        let file = try RandomAccessFile(path: input)
        let prefixCount = Int(min(file.size, UInt64(mcapMagic.count)))
        guard try file.read(at: 0, count: prefixCount) == Array(mcapMagic[0..<prefixCount]), prefixCount > 0 else {
            throw MCAPError.badMagic(input)
        }
        guard prefixCount == mcapMagic.count else {
            throw MCAPError.io(input, "only \(file.size) bytes, shorter than the MCAP magic; nothing to recover")
        }
        try refuseSameFile(input: input, output: output)

        var rewriter = Rewriter(output: output, options: options)
        let outcome = try MCAPSalvageScanner(file: file).scan { record throws(MCAPError) in
            try rewriter.take(record)
        }
        let writer = try rewriter.writerOpened()
        try writer.close()

        var report = MCAPRecoveryReport(output: output)
        report.messages = writer.messageCount
        report.channels = rewriter.channelIds.count
        report.schemas = rewriter.schemaIds.count
        report.metadata = rewriter.metadataCount
        report.chunks = outcome.chunkCount
        report.messagesWithoutChannel = rewriter.orphans
        report.inputWasClosed = outcome.sawDataEnd
        func loss(_ l: MCAPSalvageScanner.Loss) -> MCAPRecoveryReport.Loss {
            .init(offset: l.offset, length: l.length, reason: l.reason)
        }
        report.damagedChunks = outcome.damagedChunks.map(loss)
        report.skipped = (outcome.unreadableRecords + outcome.skippedRanges).map(loss).sorted { $0.offset < $1.offset }
        report.tail = outcome.tail.map(loss)
        return report
    }

    /// Writing the output over the input would destroy what is being recovered.
    private static func refuseSameFile(input: String, output: String) throws(MCAPError) {
        var a = stat(), b = stat()
        guard stat(input, &a) == 0, stat(output, &b) == 0 else { return }
        if a.st_dev == b.st_dev && a.st_ino == b.st_ino {
            throw MCAPError.invalidArgument("the output \(output) is the input file; give another path")
        }
    }

    /// Feeds salvaged records to an `MCAPWriter`, renumbering schemas and channels (the
    /// writer numbers them 1, 2, ...) and keeping the first definition of each id.
    private struct Rewriter {
        let output: String
        let options: MCAPWriterOptions
        var writer: MCAPWriter?
        var schemaIds: [UInt16: UInt16] = [:]
        var channelIds: [UInt16: UInt16] = [:]
        var metadataCount = 0
        var orphans: UInt64 = 0

        init(output: String, options: MCAPWriterOptions) {
            self.output = output
            self.options = options
        }

        /// The writer, created with the input's header when that came first, else a plain one.
        mutating func writerOpened(header: MCAPHeader? = nil) throws(MCAPError) -> MCAPWriter {
            if let writer { return writer }
            var o = options
            if let header {
                o.profile = header.profile
                o.library = header.library.isEmpty ? "moeseg recover" : header.library
            } else {
                o.library = "moeseg recover"
            }
            let opened = try MCAPWriter(path: output, options: o)
            writer = opened
            return opened
        }

        mutating func take(_ record: SalvagedRecord) throws(MCAPError) {
            switch record {
            case let .header(header):
                _ = try writerOpened(header: header)
            case let .schema(schema):
                guard schemaIds[schema.id] == nil, schema.id != 0 else { return }
                schemaIds[schema.id] = try writerOpened().addSchema(name: schema.name, encoding: schema.encoding, data: schema.data)
            case let .channel(channel):
                guard channelIds[channel.id] == nil else { return }
                // A channel whose schema record was lost keeps its messages, schemaless.
                let schema = schemaIds[channel.schemaId] ?? 0
                channelIds[channel.id] = try writerOpened().addChannel(
                    topic: channel.topic, messageEncoding: channel.messageEncoding, schemaId: schema, metadata: channel.metadata)
            case let .metadata(metadata):
                try writerOpened().addMetadata(name: metadata.name, entries: metadata.entries)
                metadataCount += 1
            case let .message(message):
                guard let channel = channelIds[message.channelId] else {
                    orphans += 1
                    return
                }
                try writerOpened().addMessage(channelId: channel, sequence: message.sequence, logTime: message.logTime,
                                              publishTime: message.publishTime, data: message.data)
            case let .chunk(records):
                for inner in records { try take(inner) }
                try writerOpened().flush()
            }
        }
    }
}
