/// What `moeseg inspect FILE.mcap` shows: the `mcap info` facts plus an integrity verdict.
public struct RecordingDescription: Sendable, CustomStringConvertible {
    /// Per-channel facts.
    public struct Channel: Sendable, Equatable {
        /// Channel id.
        public var id: UInt16
        /// Topic name.
        public var topic: String
        /// Schema name ("" without a schema).
        public var schemaName: String
        /// Schema encoding ("" without a schema).
        public var schemaEncoding: String
        /// Message encoding.
        public var messageEncoding: String
        /// Readable messages on the channel.
        public var messageCount: UInt64
    }

    /// The file described.
    public var path: String
    /// Its size in bytes.
    public var fileSize: UInt64
    /// Header profile.
    public var profile: String
    /// Header library (the writer).
    public var library: String
    /// Readable messages.
    public var messageCount: UInt64
    /// Earliest log time, nanoseconds.
    public var startTime: UInt64
    /// Latest log time, nanoseconds.
    public var endTime: UInt64
    /// Channels by id.
    public var channels: [Channel]
    /// Number of schemas.
    public var schemaCount: Int
    /// Readable chunks.
    public var chunkCount: Int
    /// Compression name ("" = none) → (chunks, compressed bytes, uncompressed bytes).
    public var compression: [String: (chunks: Int, compressed: UInt64, uncompressed: UInt64)]
    /// Metadata records.
    public var metadata: [MCAPMetadata]
    /// True when the summary section was intact (readers take the indexed path).
    public var indexed: Bool
    /// Everything wrong with the file; empty for an intact one.
    public var issues: [MCAPIssue]
    /// Messages a reader can recover.
    public var recoverableMessages: UInt64

    /// True when nothing is damaged.
    public var isIntact: Bool { issues.isEmpty }

    /// Reads `path` twice: through its summary (what readers see quickly) and by a full
    /// scan that checks every CRC and decompresses every chunk.
    public init(path: String) throws(MCAPError) {
        let quick = try MCAPReader(path: path)
        let full = quick.usedSummary ? try MCAPReader(path: path, mode: .scan) : quick
        self.path = path
        fileSize = full.fileSize
        profile = full.header?.profile ?? ""
        library = full.header?.library ?? ""
        // The scan's view is what can actually be read.
        let stats = full.statistics
        messageCount = stats.messageCount
        startTime = stats.messageStartTime
        endTime = stats.messageEndTime
        chunkCount = full.chunks.count
        metadata = full.metadata
        recoverableMessages = stats.messageCount
        // A damaged chunk can hold the only Schema/Channel records of the data section;
        // an intact summary still knows them.
        let allChannels = quick.channels.merging(full.channels) { _, scanned in scanned }
        let allSchemas = quick.schemas.merging(full.schemas) { _, scanned in scanned }
        schemaCount = allSchemas.count
        channels = allChannels.values.sorted { $0.id < $1.id }.map { ch in
            let schema = ch.schemaId == 0 ? nil : allSchemas[ch.schemaId]
            return Channel(id: ch.id, topic: ch.topic, schemaName: schema?.name ?? "", schemaEncoding: schema?.encoding ?? "",
                           messageEncoding: ch.messageEncoding, messageCount: stats.channelMessageCounts[ch.id] ?? 0)
        }
        var compression: [String: (chunks: Int, compressed: UInt64, uncompressed: UInt64)] = [:]
        for c in full.chunks {
            let old = compression[c.compression] ?? (0, 0, 0)
            compression[c.compression] = (old.chunks + 1, old.compressed &+ c.compressedSize,
                                          old.uncompressed &+ c.uncompressedSize)
        }
        self.compression = compression

        var issues = quick.issues
        if quick !== full {
            issues += full.issues
            let q = quick.statistics
            if q.messageCount != stats.messageCount || q.channelMessageCounts != stats.channelMessageCounts {
                issues.append(MCAPIssue(kind: .summaryUnusable, offset: nil,
                                        message: "the summary counts \(q.messageCount) messages, a full scan finds \(stats.messageCount)"))
            }
            if quick.chunks.count != full.chunks.count {
                issues.append(MCAPIssue(kind: .summaryUnusable, offset: nil,
                                        message: "the summary indexes \(quick.chunks.count) chunks, \(full.chunks.count) are readable"))
            }
        }
        self.issues = issues
        indexed = quick.usedSummary
    }

    public var description: String {
        var lines: [String] = []
        func row(_ key: String, _ value: String) { lines.append(pad(key + ":", 13) + value) }
        row("file", "\(path) (\(formatBytes(fileSize)))")
        row("library", library)
        row("profile", profile)
        row("messages", "\(messageCount)")
        if messageCount > 0 {
            row("duration", formatDuration(endTime - startTime))
            row("start", formatTime(startTime))
            row("end", formatTime(endTime))
        }
        row("chunks", "\(chunkCount)")
        if !compression.isEmpty {
            lines.append("compression:")
            for name in compression.keys.sorted() {
                guard let c = compression[name] else { continue }
                let ratio = c.uncompressed > 0 ? 100 * Double(c.compressed) / Double(c.uncompressed) : 100
                lines.append("    \(name.isEmpty ? "none" : name): [\(c.chunks)/\(chunkCount) chunks] "
                    + "[\(formatBytes(c.uncompressed))/\(formatBytes(c.compressed)) (\(fixed(ratio, 2))%)]")
            }
        }
        lines.append("channels:")
        let width = channels.map(\.topic.count).max() ?? 0
        for ch in channels {
            var hz = ""
            if ch.messageCount > 1, endTime > startTime {
                hz = " (\(fixed(Double(ch.messageCount - 1) / (Double(endTime - startTime) / 1e9), 2)) Hz)"
            }
            let schema = ch.schemaName.isEmpty ? "<no schema>" : "\(ch.schemaName) [\(ch.schemaEncoding)]"
            lines.append("    (\(ch.id)) \(pad(ch.topic, width))  \(ch.messageCount) msgs\(hz) : \(schema) (\(ch.messageEncoding))")
        }
        row("schemas", "\(schemaCount)")
        if !metadata.isEmpty {
            lines.append("metadata:")
            for m in metadata {
                let entries = m.entries.keys.sorted().map { key -> String in
                    let value = m.entries[key] ?? ""
                    return "\(key)=\(value.count > 60 ? String(value.prefix(57)) + "..." : value)"
                }
                lines.append("    \(m.name): " + entries.joined(separator: ", "))
            }
        }
        row("index", indexed ? "summary section intact (checked against a full scan)"
            : "none usable: readers scan the data section")
        if issues.isEmpty {
            row("integrity", "ok (all CRCs match)")
        } else {
            row("integrity", "DAMAGED, \(issues.count) issue\(issues.count == 1 ? "" : "s"):")
            for issue in issues { lines.append("    - \(issue)") }
            row("recoverable", "\(recoverableMessages) messages in \(chunkCount) readable chunks; anything listed above is lost "
                + "(`moeseg recover FILE OUT.mcap` writes them to a valid indexed file)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `mcap info`-style text for a recording (channels, counts, times, chunks, metadata, damage).
public func describeRecording(at path: String) throws(MCAPError) -> String {
    try RecordingDescription(path: path).description
}

// MARK: - Formatting without Foundation

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return "\(value)" }
    let n = UInt64(scaled)
    let whole = n / UInt64(scale)
    var frac = String(n % UInt64(scale))
    frac = String(repeating: "0", count: max(0, digits - frac.count)) + frac
    return (value < 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + frac : "")
}

func formatTime(_ nanos: UInt64) -> String {
    let frac = String(nanos % 1_000_000_000)
    return "\(nanos / 1_000_000_000)." + String(repeating: "0", count: 9 - frac.count) + frac
}

func formatDuration(_ nanos: UInt64) -> String {
    fixed(Double(nanos) / 1e9, 3) + "s"
}

func formatBytes(_ n: UInt64) -> String {
    if n < 1024 { return "\(n) B" }
    if n < 1024 * 1024 { return fixed(Double(n) / 1024, 2) + " KiB" }
    if n < 1024 * 1024 * 1024 { return fixed(Double(n) / 1_048_576, 2) + " MiB" }
    return fixed(Double(n) / 1_073_741_824, 2) + " GiB"
}
