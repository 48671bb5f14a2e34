import Foundation
import Testing
@testable import Recording

/// What a test wrote, to compare with what a reader reports.
struct WrittenImage: Equatable {
    var topic: String
    var logTime: UInt64
    var publishTime: UInt64
    var sequence: UInt32
    var width: Int
    var height: Int
    var encoding: String
    var step: Int
    var frameId: String
    var dataCRC: UInt32
}

/// One writer configuration of the interop matrix.
struct WriteCase: CustomTestStringConvertible, Sendable {
    var name: String
    var frames: Int
    var width: Int
    var height: Int
    var labels: Bool
    var metadata: Bool
    var options: MCAPWriterOptions
    var testDescription: String { name }
}

let startNanos: UInt64 = 1_700_000_000_000_000_000
let frameNanos: UInt64 = 20_000_000

/// Writes `c.frames` camera frames (and label maps) with seeded content.
func writeRecording(_ c: WriteCase, to path: String, seed: UInt64 = 42) throws -> (images: [WrittenImage], metadata: [String: [String: String]]) {
    let writer = try FrameRecordingWriter(path: path, options: c.options)
    var rng = SeededGenerator(seed: seed)
    var written: [WrittenImage] = []
    var metadata: [String: [String: String]] = [:]
    if c.metadata {
        let info = RecordingInfo(domain: "urban", seed: seed, generatorVersion: "test-1",
                                 classTableJSON: "{\"0\":\"road\",\"1\":\"car\",\"254\":\"unknown\"}",
                                 fx: 500, fy: 501.5, cx: Double(c.width) / 2, cy: Double(c.height) / 2)
        try writer.addRecordingInfo(info)
        metadata[RecordingConventions.recordingMetadataName] = info.entries
        try writer.addMetadata(name: "test.extra", entries: ["key": "value", "empty": ""])
        metadata["test.extra"] = ["key": "value", "empty": ""]
    }
    for i in 0..<c.frames {
        let t = startNanos + UInt64(i) * frameNanos + UInt64(i % 3)
        // Half noise, half smooth: some of it compresses, some does not.
        var pixels = rng.bytes(c.width * c.height * 3 / 2)
        pixels += (0..<(c.width * c.height * 3 - pixels.count)).map { UInt8(truncatingIfNeeded: $0 / 7 + i) }
        let publish = t + 5_000_000
        try writer.addCameraFrame(pixels: pixels, width: c.width, height: c.height, captureTimeNanos: t,
                                  frameId: "cam0", publishTimeNanos: publish)
        written.append(WrittenImage(topic: RecordingConventions.cameraTopic, logTime: t, publishTime: publish,
                                    sequence: UInt32(i), width: c.width, height: c.height, encoding: "rgb8",
                                    step: c.width * 3, frameId: "cam0", dataCRC: CRC32.checksum(pixels)))
        if c.labels {
            let labels = (0..<(c.width * c.height)).map { p -> UInt8 in
                p % 17 == 0 ? RecordingConventions.ignoreLabel : p % 23 == 0 ? RecordingConventions.unknownObjectLabel : UInt8((p + i) % 5)
            }
            try writer.addLabelMap(labels: labels, width: c.width, height: c.height, captureTimeNanos: t,
                                   frameId: "cam0", publishTimeNanos: publish)
            written.append(WrittenImage(topic: RecordingConventions.labelTopic, logTime: t, publishTime: publish,
                                        sequence: UInt32(i), width: c.width, height: c.height, encoding: "mono8",
                                        step: c.width, frameId: "cam0", dataCRC: CRC32.checksum(labels)))
        }
    }
    try writer.close()
    return (written, metadata)
}

let writeCases: [WriteCase] = [
    WriteCase(name: "empty", frames: 0, width: 4, height: 4, labels: false, metadata: false, options: .init()),
    WriteCase(name: "empty with metadata", frames: 0, width: 4, height: 4, labels: false, metadata: true, options: .init()),
    WriteCase(name: "one message zstd", frames: 1, width: 8, height: 6, labels: false, metadata: false, options: .init()),
    WriteCase(name: "one message uncompressed", frames: 1, width: 8, height: 6, labels: false, metadata: false,
              options: .init(compression: .none)),
    WriteCase(name: "many chunks zstd", frames: 40, width: 32, height: 24, labels: true, metadata: true,
              options: .init(chunkSize: 4096, compression: .zstd)),
    WriteCase(name: "many chunks uncompressed", frames: 40, width: 32, height: 24, labels: true, metadata: true,
              options: .init(chunkSize: 4096, compression: .none)),
    WriteCase(name: "tiny chunks (one message each)", frames: 10, width: 16, height: 8, labels: true, metadata: false,
              options: .init(chunkSize: 1, compression: .zstd)),
    WriteCase(name: "unchunked", frames: 12, width: 16, height: 12, labels: true, metadata: true,
              options: .init(useChunks: false)),
    WriteCase(name: "large frames, default 1 MiB chunks", frames: 6, width: 320, height: 240, labels: true,
              metadata: true, options: .init()),
    WriteCase(name: "frame larger than a chunk", frames: 2, width: 800, height: 600, labels: false, metadata: false,
              options: .init(compression: .none)),
]

@Test(arguments: writeCases)
func pythonMcapReadsWhatMoesegWrites(_ c: WriteCase) throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("out.mcap")
    let (written, metadata) = try writeRecording(c, to: path)
    let report = try PythonTools.check(path)

    #expect(report["errors"] as? [String] == [], "\(report["errors"] ?? "no errors key")")
    #expect(report["ok"] as? Bool == true)
    #expect(int(report["message_count"]) == written.count)
    #expect(report["has_summary"] as? Bool == true)
    let header = report["header"] as? [String: Any]
    #expect(header?["library"] as? String == "moeseg")

    let chunkCount = int(report["chunk_count"]) ?? -1
    let compression = report["compression"] as? [String: Any] ?? [:]
    if !c.options.useChunks || written.isEmpty {
        #expect(chunkCount == 0)
    } else {
        #expect(chunkCount >= 1)
        #expect(Set(compression.keys) == [c.options.compression.rawValue])
        if c.options.chunkSize <= 4096 { #expect(chunkCount > 3) }
    }

    let channels = report["channels"] as? [[String: Any]] ?? []
    let topics = Set(written.map(\.topic))
    #expect(Set(channels.compactMap { $0["topic"] as? String }) == topics)
    for ch in channels {
        let topic = ch["topic"] as? String ?? ""
        #expect(ch["schema_name"] as? String == "foxglove.RawImage")
        #expect(ch["schema_encoding"] as? String == "protobuf")
        #expect(ch["message_encoding"] as? String == "protobuf")
        #expect(int(ch["count"]) == written.filter { $0.topic == topic }.count)
    }
    if !topics.isEmpty {
        let schemas = report["schemas"] as? [[String: Any]] ?? []
        #expect(schemas.count == 1)
        #expect(schemas.first?["files"] as? [String] == ["google/protobuf/timestamp.proto", "foxglove/RawImage.proto"])
    }

    var seenMetadata: [String: [String: String]] = [:]
    for m in report["metadata"] as? [[String: Any]] ?? [] {
        seenMetadata[m["name"] as? String ?? ""] = m["data"] as? [String: String]
    }
    #expect(seenMetadata == metadata)

    let messages = report["messages"] as? [[String: Any]] ?? []
    #expect(messages.count == written.count)
    for (m, w) in zip(messages, written) {
        let image = m["image"] as? [String: Any] ?? [:]
        let seen = WrittenImage(
            topic: m["topic"] as? String ?? "", logTime: u64(m["log_time"]) ?? 0, publishTime: u64(m["publish_time"]) ?? 0,
            sequence: UInt32(int(m["sequence"]) ?? -1), width: int(image["width"]) ?? -1, height: int(image["height"]) ?? -1,
            encoding: image["encoding"] as? String ?? "", step: int(image["step"]) ?? -1,
            frameId: image["frame_id"] as? String ?? "", dataCRC: UInt32(u64(image["data_crc32"]) ?? 0))
        #expect(seen == w)
        #expect(u64(image["ts_sec"]).map { $0 * 1_000_000_000 } .map { $0 + (u64(image["ts_nsec"]) ?? 0) } == w.logTime)
    }
    if let expected = written.first {
        _ = expected
        #expect(u64(report["start_time"]) == written.map(\.logTime).min())
        #expect(u64(report["end_time"]) == written.map(\.logTime).max())
    }

    // Our own reader agrees with what was written, through the summary.
    let reader = try FrameRecordingReader(path: path)
    #expect(reader.mcap.usedSummary == (c.options.useChunks || written.isEmpty))
    #expect(reader.mcap.issues.isEmpty, "\(reader.mcap.issues)")
    var ours: [WrittenImage] = []
    for message in reader.mcap.messages() {
        let topic = reader.mcap.channels[message.channelId]?.topic ?? "?"
        guard let rec = reader.decode(message, topic: topic) else { continue }
        ours.append(WrittenImage(topic: topic, logTime: rec.logTime, publishTime: rec.publishTime, sequence: rec.sequence,
                                 width: Int(rec.image.width), height: Int(rec.image.height), encoding: rec.image.encoding,
                                 step: Int(rec.image.step), frameId: rec.image.frameId, dataCRC: CRC32.checksum(rec.image.data)))
    }
    #expect(ours == written)
    if c.metadata { #expect(reader.recordingInfo?.domain == "urban" && reader.recordingInfo?.fy == 501.5) }
}

@Test func pythonMcapReadsRawMessagesOfManySizes() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("sizes.mcap")
    let sizes = [0, 1, 2, 100, 4095, 70_000, 1 << 20, 2_100_000, 3]
    var rng = SeededGenerator(seed: 3)
    let writer = try MCAPWriter(path: path, options: .init(chunkSize: 256 * 1024))
    let blob = try writer.addChannel(topic: "/blob", messageEncoding: "application/octet-stream", schemaId: 0,
                                     metadata: ["note": "no schema", "unicode": "grüße"])
    var expected: [(UInt64, Int, UInt32)] = []
    for (i, size) in sizes.enumerated() {
        let data = rng.bytes(size)
        let t = startNanos + UInt64(i)
        try writer.addMessage(channelId: blob, sequence: UInt32(i), logTime: t, publishTime: t, data: data)
        expected.append((t, size, CRC32.checksum(data)))
    }
    try writer.close()
    #expect(throws: MCAPError.writerClosed) { try writer.addMessage(channelId: blob, logTime: 0, publishTime: 0, data: [1]) }

    let report = try PythonTools.check(path)
    #expect(report["errors"] as? [String] == [])
    let channel = (report["channels"] as? [[String: Any]])?.first
    #expect(channel?["metadata"] as? [String: String] == ["note": "no schema", "unicode": "grüße"])
    #expect(channel?["schema_name"] as? String == "")
    let messages = report["messages"] as? [[String: Any]] ?? []
    #expect(messages.count == sizes.count)
    for (m, e) in zip(messages, expected) {
        #expect(u64(m["log_time"]) == e.0 && int(m["size"]) == e.1 && UInt32(u64(m["crc32"]) ?? 0) == e.2)
    }
    let reader = try MCAPReader(path: path)
    let ours = Array(reader.messages())
    #expect(ours.map { $0.data.count } == sizes)
    #expect(ours.map { CRC32.checksum($0.data) } == expected.map(\.2))
}

/// Files the reference Python writer produces, read by moeseg.
@Test(arguments: ["zstd", "none", "unchunked"])
func moesegReadsWhatPythonMcapWrites(_ mode: String) throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("fixture-\(mode).mcap")
    let manifest = try PythonTools.json("mcap_write_fixture.py",
                                        [path, "--mode", mode, "--frames", "25", "--chunk-size", "8192"])
    let entries = manifest["messages"] as? [[String: Any]] ?? []
    #expect(entries.count == 50)

    let reader = try FrameRecordingReader(path: path)
    #expect(reader.mcap.issues.isEmpty, "\(reader.mcap.issues)")
    #expect(reader.mcap.usedSummary == (mode != "unchunked"))
    #expect(reader.mcap.header?.library == "mcap_write_fixture.py")
    #expect(reader.mcap.statistics.messageCount == 50)
    if mode != "unchunked" { #expect(reader.mcap.chunks.count > 2) }
    #expect(reader.imageChannels.map(\.topic) == ["/camera/image", "/camera/labels"])
    #expect(reader.firstTopic(withEncoding: "rgb8") == "/camera/image")
    #expect(reader.firstTopic(withEncoding: "mono8") == "/camera/labels")
    let info = reader.recordingInfo
    #expect(info?.domain == "fixture" && info?.seed == 7 && info?.cx == 16)
    #expect(reader.metadata(named: "moeseg.fixture.other") == ["note": "metadata before frames"])

    func matches(_ rec: RecordedImage?, _ e: [String: Any]) -> Bool {
        guard let rec else { return false }
        return rec.logTime == u64(e["log_time"]) && rec.publishTime == u64(e["publish_time"])
            && Int(rec.sequence) == int(e["sequence"]) && Int(rec.image.width) == int(e["width"])
            && Int(rec.image.height) == int(e["height"]) && rec.image.encoding == e["encoding"] as? String
            && Int(rec.image.step) == int(e["step"]) && rec.image.frameId == e["frame_id"] as? String
            && rec.image.timestampNanoseconds == rec.logTime
            && UInt64(CRC32.checksum(rec.image.data)) == u64(e["data_crc32"])
    }
    let cameraEntries = entries.filter { $0["topic"] as? String == "/camera/image" }
    let labelEntries = entries.filter { $0["topic"] as? String == "/camera/labels" }
    let frames = Array(try reader.frames(cameraTopic: "/camera/image", labelTopic: "/camera/labels"))
    #expect(frames.count == cameraEntries.count)
    for (i, frame) in frames.enumerated() where i < cameraEntries.count {
        #expect(matches(frame.camera, cameraEntries[i]), "camera frame \(i)")
        #expect(matches(frame.labels, labelEntries[i]), "label map \(i)")
    }
    let labelsOnly = Array(try reader.images(topic: "/camera/labels"))
    #expect(labelsOnly.count == labelEntries.count)
    #expect(zip(labelsOnly, labelEntries).allSatisfy { matches($0, $1) })
}
