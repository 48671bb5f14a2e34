import Foundation
import Testing
@testable import Recording

/// A message's identity for comparing reader output with a reference.
struct MessageKey: Hashable, CustomStringConvertible {
    var channel: UInt16
    var sequence: UInt32
    var logTime: UInt64
    var description: String { "(\(channel),\(sequence),\(logTime))" }
}

func keys(_ reader: MCAPReader) -> [MessageKey] {
    reader.messages().map { MessageKey(channel: $0.channelId, sequence: $0.sequence, logTime: $0.logTime) }
}

/// Chunk layout of a complete file as the Python reference sees it.
struct ReferenceChunk {
    var offset: Int
    var length: Int
    var messages: [MessageKey]
}

func referenceChunks(_ path: String) throws -> [ReferenceChunk] {
    let report = try PythonTools.check(path, messages: false)
    #expect(report["ok"] as? Bool == true, "\(report["errors"] ?? "")")
    return (report["chunks"] as? [[String: Any]] ?? []).map { c in
        ReferenceChunk(offset: int(c["offset"]) ?? -1, length: int(c["length"]) ?? -1,
                       messages: (c["messages"] as? [[Any]] ?? []).map {
                           MessageKey(channel: UInt16(int($0[0]) ?? 0), sequence: UInt32(int($0[1]) ?? 0), logTime: u64($0[2]) ?? 0)
                       })
    }
}

/// Messages in log-time order, file order among equal times (what the reader promises).
func logTimeOrder(_ messages: [MessageKey]) -> [MessageKey] {
    messages.enumerated().sorted { ($0.element.logTime, $0.offset) < ($1.element.logTime, $1.offset) }.map(\.element)
}

/// Top-level message records of a file, found by a naive walk independent of the reader.
func topLevelMessages(_ bytes: [UInt8]) -> [(end: Int, key: MessageKey)] {
    func le(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << UInt64(8 * $1) } }
    var out: [(Int, MessageKey)] = []
    var pos = 8
    while pos + 9 <= bytes.count {
        let op = bytes[pos]
        let length = Int(le(pos + 1, 8))
        if op == 0x0F { break }
        if op == 0x05 {
            out.append((pos + 9 + length, MessageKey(channel: UInt16(le(pos + 9, 2)), sequence: UInt32(le(pos + 11, 4)),
                                                     logTime: le(pos + 15, 8))))
        }
        pos += 9 + length
    }
    return out
}

func writeFile(_ bytes: some Collection<UInt8>, _ path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

enum TruncationSource: String, CaseIterable, Sendable {
    case moesegZstd, moesegUncompressed, moesegUnchunked, pythonZstd
}

@Test(arguments: TruncationSource.allCases)
func truncatedRecordingYieldsExactlyItsCompleteChunks(_ source: TruncationSource) throws {
    let dir = try TemporaryDirectory()
    let full = dir.path("full.mcap")
    switch source {
    case .moesegZstd, .moesegUncompressed, .moesegUnchunked:
        let options = MCAPWriterOptions(chunkSize: 3000, compression: source == .moesegZstd ? .zstd : .none,
                                        useChunks: source != .moesegUnchunked)
        _ = try writeRecording(WriteCase(name: "t", frames: 30, width: 24, height: 16, labels: true, metadata: true,
                                         options: options), to: full)
    case .pythonZstd:
        _ = try PythonTools.json("mcap_write_fixture.py", [full, "--mode", "zstd", "--frames", "30", "--chunk-size", "6000"])
    }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
    let chunks = try referenceChunks(full)
    let loose = topLevelMessages(bytes)
    if source == .moesegUnchunked { #expect(chunks.isEmpty && loose.count == 60) } else { #expect(chunks.count >= 5) }

    var rng = SeededGenerator(seed: 2024)
    var offsets = (0..<100).map { _ in Int(rng.next() % UInt64(bytes.count)) }
    // Also the edges where a chunk just became complete or just missed it.
    for c in chunks.prefix(3) { offsets += [c.offset + c.length - 1, c.offset + c.length, c.offset + c.length + 1] }
    let cut = dir.path("cut.mcap")
    for length in offsets {
        try writeFile(bytes[..<length], cut)
        let expected = logTimeOrder(chunks.filter { $0.offset + $0.length <= length }.flatMap(\.messages)
            + loose.filter { $0.end <= length }.map(\.key))
        let reader: MCAPReader
        do {
            reader = try MCAPReader(path: cut)
        } catch {
            Issue.record("cut at \(length): reader threw \(error)")
            continue
        }
        #expect(keys(reader) == expected, "cut at \(length) of \(bytes.count)")
        #expect(!reader.issues.isEmpty && reader.issues.contains { $0.kind == .truncated }, "cut at \(length): \(reader.issues)")
        let description = try RecordingDescription(path: cut)
        #expect(!description.isIntact && description.recoverableMessages == UInt64(expected.count))
    }
}

@Test func unclosedWriterLeavesARecoverableFile() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("crash.mcap")
    let snapshot = dir.path("snapshot.mcap")
    var writer: MCAPWriter? = try MCAPWriter(path: path, options: .init(chunkSize: 1 << 20))
    let channel = try writer?.addChannel(topic: "/x", messageEncoding: "raw", schemaId: 0) ?? 0
    var sent: [MessageKey] = []
    func add(_ n: Int) throws {
        for _ in 0..<n {
            let key = MessageKey(channel: channel, sequence: UInt32(sent.count), logTime: UInt64(1000 + sent.count))
            try writer?.addMessage(channelId: channel, sequence: key.sequence, logTime: key.logTime, publishTime: 0,
                                   data: [UInt8](repeating: 7, count: 100))
            sent.append(key)
        }
    }
    func recovered() throws -> [MessageKey] {
        try FileManager.default.removeItem(atPath: snapshot)
        try FileManager.default.copyItem(atPath: path, toPath: snapshot)
        return keys(try MCAPReader(path: snapshot))
    }
    try FileManager.default.copyItem(atPath: path, toPath: snapshot)
    try add(5)
    #expect(try recovered() == [])  // still in the open chunk
    try writer?.flush()
    #expect(try recovered() == sent)
    try add(3)
    #expect(try recovered() == Array(sent.prefix(5)))
    try writer?.flush()
    try add(2)
    writer = nil  // dropped without close(): the open chunk is lost, the rest is not
    let reader = try MCAPReader(path: path)
    #expect(keys(reader) == Array(sent.prefix(8)))
    #expect(!reader.usedSummary && reader.issues.map(\.kind) == [.truncated])
}

@Test func corruptChunkIsReportedAndSkipped() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("crc.mcap")
    _ = try writeRecording(WriteCase(name: "c", frames: 30, width: 24, height: 16, labels: true, metadata: false,
                                     options: .init(chunkSize: 3000, compression: .none)), to: path)
    let chunks = try referenceChunks(path)
    let all = keys(try MCAPReader(path: path))
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let victim = chunks[2]
    bytes[victim.offset + victim.length / 2] ^= 0x40
    try writeFile(bytes, path)
    #expect(try PythonTools.check(path, messages: false)["ok"] as? Bool == false)  // the damage is real

    let reader = try MCAPReader(path: path)
    #expect(reader.usedSummary)
    let lost = Set(victim.messages)
    #expect(keys(reader) == all.filter { !lost.contains($0) })
    #expect(reader.issues.count == 1 && reader.issues.first?.kind == .crcMismatch)
    #expect(reader.issues.first?.offset == UInt64(victim.offset))

    let scanned = try MCAPReader(path: path, mode: .scan)
    #expect(keys(scanned) == all.filter { !lost.contains($0) })
    #expect(scanned.issues.contains { $0.kind == .crcMismatch })
    #expect(scanned.issues.contains { $0.kind == .crcMismatch && $0.message.contains("data section") })
    #expect(try describeRecording(at: path).contains("DAMAGED"))
}

@Test func corruptSummaryFallsBackToScan() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("summary.mcap")
    _ = try writeRecording(WriteCase(name: "s", frames: 10, width: 8, height: 8, labels: true, metadata: true,
                                     options: .init(chunkSize: 1000)), to: path)
    let all = keys(try MCAPReader(path: path))
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[bytes.count - 60] ^= 0x01  // inside the summary section (SummaryOffset records)
    try writeFile(bytes, path)
    let reader = try MCAPReader(path: path)
    #expect(!reader.usedSummary)
    #expect(reader.issues.map(\.kind) == [.crcMismatch])
    #expect(keys(reader) == all)
    #expect(reader.metadata.count == 2 && reader.channels.count == 2)
}

@Test func unsupportedCompressionIsReportedNotTrusted() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("lz4.mcap")
    _ = try PythonTools.json("mcap_write_fixture.py", [path, "--mode", "lz4", "--frames", "5"])
    let reader = try MCAPReader(path: path)
    #expect(keys(reader).isEmpty)
    #expect(reader.issues.contains { $0.kind == .unsupported && $0.message.contains("lz4") })
}

@Test func badFilesGiveOneClearError() throws {
    let dir = try TemporaryDirectory()
    let notMCAP = dir.path("not.mcap")
    try writeFile(Array("PK\u{3}\u{4} this is a zip file, not MCAP".utf8), notMCAP)
    #expect(throws: MCAPError.badMagic(notMCAP)) { try MCAPReader(path: notMCAP) }
    #expect(throws: MCAPError.badMagic(notMCAP)) { try describeRecording(at: notMCAP) }
    #expect("\(MCAPError.badMagic(notMCAP))" == "\(notMCAP): not an MCAP file (bad magic)")
    let missing = dir.path("missing.mcap")
    #expect(throws: MCAPError.io(missing, "cannot open: No such file or directory")) { try MCAPReader(path: missing) }
    #expect(throws: MCAPError.self) { try MCAPReader(path: dir.url.path) }
    let empty = dir.path("empty.mcap")
    try writeFile([UInt8](), empty)
    let reader = try MCAPReader(path: empty)
    #expect(keys(reader).isEmpty && reader.issues.first?.kind == .truncated)
}

@Test func garbageAndRandomByteFlipsNeverCrashNorInventMessages() throws {
    let dir = try TemporaryDirectory()
    let original = dir.path("orig.mcap")
    _ = try writeRecording(WriteCase(name: "g", frames: 16, width: 16, height: 8, labels: true, metadata: true,
                                     options: .init(chunkSize: 1500)), to: original)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
    let reference = Set(try MCAPReader(path: original).messages().map { m in
        MessageKeyWithData(key: MessageKey(channel: m.channelId, sequence: m.sequence, logTime: m.logTime), data: m.data)
    })
    let path = dir.path("mutant.mcap")
    var rng = SeededGenerator(seed: 77)
    func exercise(_ mode: MCAPReader.Mode) -> [MessageKeyWithData]? {
        guard let reader = try? MCAPReader(path: path, mode: mode) else { return nil }
        let got = reader.messages().map {
            MessageKeyWithData(key: MessageKey(channel: $0.channelId, sequence: $0.sequence, logTime: $0.logTime), data: $0.data)
        }
        _ = reader.verifyAllChunks()
        _ = try? describeRecording(at: path)
        if let frames = try? FrameRecordingReader(path: path) {
            _ = frames.firstTopic(withEncoding: "rgb8")
            if let it = try? frames.frames(cameraTopic: "/camera/image", labelTopic: "/camera/labels") { _ = Array(it) }
        }
        return got
    }
    for trial in 0..<300 {
        var mutant = bytes
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let at = Int(rng.next() % UInt64(mutant.count))
            mutant[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
        }
        try writeFile(mutant, path)
        for mode in [MCAPReader.Mode.automatic, .scan] {
            guard let got = exercise(mode) else { continue }
            #expect(got.allSatisfy { reference.contains($0) }, "trial \(trial): a corrupted message was returned")
        }
    }
    for trial in 0..<200 {
        var garbage = rng.bytes(Int(rng.next() % 3000))
        if trial % 2 == 0 { garbage = mcapMagic + garbage }
        try writeFile(garbage, path)
        _ = exercise(.automatic)
    }
}

struct MessageKeyWithData: Hashable {
    var key: MessageKey
    var data: [UInt8]
}

@Test func describeReportsWhatMcapInfoReports() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("info.mcap")
    _ = try writeRecording(WriteCase(name: "i", frames: 20, width: 16, height: 8, labels: true, metadata: true,
                                     options: .init(chunkSize: 2000)), to: path)
    let text = try describeRecording(at: path)
    for needle in ["/camera/image", "/camera/labels", "20 msgs", "foxglove.RawImage [protobuf] (protobuf)",
                   "zstd:", "moeseg.recording:", "domain=urban", "integrity:   ok", "messages:    40",
                   "start:       1700000000.000000000", "duration:    0.380s"] {
        #expect(text.contains(needle), "missing \(needle) in\n\(text)")
    }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let cut = dir.path("cut.mcap")
    try writeFile(bytes[..<(bytes.count * 2 / 3)], cut)
    let damaged = try describeRecording(at: cut)
    #expect(damaged.contains("DAMAGED") && damaged.contains("truncated at byte") && damaged.contains("recoverable:"))
}

@Test func damagedChunkHoldingTheChannelsStillDescribesThemFromTheSummary() throws {
    // The Python writer puts Schema and Channel records inside the first chunk.
    let dir = try TemporaryDirectory()
    let path = dir.path("py.mcap")
    _ = try PythonTools.json("mcap_write_fixture.py", [path, "--mode", "none", "--frames", "20", "--chunk-size", "8192"])
    let chunks = try referenceChunks(path)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[chunks[0].offset + chunks[0].length / 2] ^= 0x10
    try writeFile(bytes, path)

    let reader = try FrameRecordingReader(path: path)
    let survivors = chunks.dropFirst().flatMap(\.messages)
    #expect(keys(reader.mcap) == logTimeOrder(survivors))
    #expect(reader.imageChannels.map(\.topic) == ["/camera/image", "/camera/labels"])
    let description = try RecordingDescription(path: path)
    #expect(description.indexed && !description.isIntact)
    #expect(description.channels.map(\.topic) == ["/camera/image", "/camera/labels"])
    #expect(description.recoverableMessages == UInt64(survivors.count))
    #expect(description.issues.contains { $0.kind == .crcMismatch && $0.offset == UInt64(chunks[0].offset) })
}
