import Foundation
import Testing
import Recording

/// A message as the Python reference reports it, independent of channel numbering.
private struct PythonMessage: Hashable, Comparable, CustomStringConvertible {
    var topic: String
    var sequence: Int
    var logTime: UInt64
    var publishTime: UInt64
    var crc: Int

    static func < (a: Self, b: Self) -> Bool {
        (a.logTime, a.topic, a.sequence) < (b.logTime, b.topic, b.sequence)
    }

    var description: String { "\(topic)#\(sequence)@\(logTime)" }
}

/// The messages of an mcap_check report (`messages: true`), with their channel ids.
private func pythonMessages(_ report: [String: Any]) -> [(channel: Int, message: PythonMessage)] {
    (report["messages"] as? [[String: Any]] ?? []).map { m in
        (int(m["channel_id"]) ?? -1,
         PythonMessage(topic: m["topic"] as? String ?? "", sequence: int(m["sequence"]) ?? -1, logTime: u64(m["log_time"]) ?? 0,
                       publishTime: u64(m["publish_time"]) ?? 0, crc: int(m["crc32"]) ?? -1))
    }
}

/// What `make_reader(...).get_summary()` and `iter_messages()` of the Python package say.
private func pythonSummary(_ path: String) throws -> [String: Any] {
    let literal = String(decoding: try JSONSerialization.data(withJSONObject: [path]), as: UTF8.self)
    let out = try PythonTools.inline("""
    import json
    from mcap.reader import make_reader
    path = json.loads('\(literal)')[0]
    with open(path, "rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        count = sum(1 for _ in reader.iter_messages())
        print(json.dumps({"has_summary": summary is not None,
                          "statistics_messages": summary.statistics.message_count if summary and summary.statistics else -1,
                          "chunk_indexes": len(summary.chunk_indexes) if summary else -1,
                          "topics": sorted(c.topic for c in summary.channels.values()) if summary else [],
                          "iter_messages": count}))
    """)
    return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
}

/// A recording of `frames` frames in many small chunks, with its reference layout and messages.
private struct Original {
    let path: String
    let bytes: [UInt8]
    let chunks: [ReferenceChunk]
    let messages: [(channel: Int, message: PythonMessage)]

    init(in dir: TemporaryDirectory, compression: MCAPCompression = .zstd, frames: Int = 40) throws {
        path = dir.path("original.mcap")
        _ = try writeRecording(WriteCase(name: "r", frames: frames, width: 32, height: 24, labels: true, metadata: true,
                                         options: .init(chunkSize: 6000, compression: compression)), to: path)
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        chunks = try referenceChunks(path)
        messages = pythonMessages(try PythonTools.check(path))
    }

    /// The messages of the chunks that lie wholly before byte `end`, except `excluding`.
    func messages(ofChunksBefore end: Int, excluding: Set<Int> = []) -> [PythonMessage] {
        var keys = Set<MessageKey>()
        for (i, c) in chunks.enumerated() where c.offset + c.length <= end && !excluding.contains(i) {
            keys.formUnion(c.messages)
        }
        return messages.filter { keys.contains(MessageKey(channel: UInt16($0.channel), sequence: UInt32($0.message.sequence),
                                                          logTime: $0.message.logTime)) }.map(\.message).sorted()
    }
}

/// Recovers `input`, checks the result with the Python reader, and returns the report.
private func recoverAndCheck(_ input: String, expecting expected: [PythonMessage], _ label: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> MCAPRecoveryReport {
    let output = input + ".recovered.mcap"
    let report = try MCAPRecovery.recover(input: input, output: output)
    let check = try PythonTools.check(output)
    #expect(check["ok"] as? Bool == true, "\(label): \(check["errors"] ?? "")", sourceLocation: sourceLocation)
    #expect(check["has_summary"] as? Bool == true, "\(label)", sourceLocation: sourceLocation)
    let got = pythonMessages(check).map(\.message).sorted()
    #expect(got == expected, "\(label): recovered \(got.count) messages, expected \(expected.count)", sourceLocation: sourceLocation)
    #expect(report.messages == UInt64(expected.count), "\(label): \(report.line)", sourceLocation: sourceLocation)
    let summary = try pythonSummary(output)
    #expect(summary["has_summary"] as? Bool == true, "\(label)", sourceLocation: sourceLocation)
    #expect(int(summary["statistics_messages"]) == expected.count, "\(label): \(summary)", sourceLocation: sourceLocation)
    #expect(int(summary["iter_messages"]) == expected.count, "\(label): \(summary)", sourceLocation: sourceLocation)
    #expect(summary["topics"] as? [String] == [RecordingConventions.cameraTopic, RecordingConventions.labelTopic],
            "\(label): \(summary)", sourceLocation: sourceLocation)
    let metadata = (check["metadata"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    #expect(metadata == [RecordingConventions.recordingMetadataName, "test.extra"], "\(label)", sourceLocation: sourceLocation)
    return report
}

@Suite("moeseg recover (MCAPRecovery)")
struct RecoveryTests {
    /// A crash leaves the file cut anywhere: every complete chunk's messages come back, in a
    /// file both Python readers accept, and the report names the lost tail.
    @Test(arguments: [MCAPCompression.zstd, .none])
    func truncatedRecordingKeepsEveryCompleteChunk(compression: MCAPCompression) throws {
        let dir = try TemporaryDirectory()
        let original = try Original(in: dir, compression: compression)
        let c = original.chunks
        try #require(c.count >= 6, "want several chunks, got \(c.count)")
        let k = 2
        let cuts: [(String, Int)] = [
            ("before the first chunk", c[0].offset),
            ("inside the record header of chunk \(k)", c[k].offset + 4),
            ("in the middle of chunk \(k)", c[k].offset + c[k].length / 2),
            ("right after chunk \(k), before its message indexes", c[k].offset + c[k].length),
            ("after chunk \(k)'s message indexes", c[k + 1].offset),
            ("inside the last chunk", c[c.count - 1].offset + 30),
            ("inside the footer", original.bytes.count - 12),
        ]
        for (label, cut) in cuts {
            let path = dir.path("cut-\(cut).mcap")
            try writeFile(original.bytes.prefix(cut), path)
            let report = try recoverAndCheck(path, expecting: original.messages(ofChunksBefore: cut), "cut \(label) (\(cut))")
            let complete = c.filter { $0.offset + $0.length <= cut }
            #expect(report.chunks == complete.count, "\(label): \(report.line)")
            #expect(report.damagedChunks.isEmpty && report.skipped.isEmpty, "\(label): \(report.line)")
            #expect(report.channels == 2 && report.line.contains("on 2 channels"), "\(label): \(report.line)")
            if cut == original.bytes.count - 12 {
                #expect(report.inputWasClosed && report.tail == nil, "\(label): \(report.line)")
            } else if let partial = c.first(where: { $0.offset < cut && cut < $0.offset + $0.length }) {
                #expect(report.tail?.offset == UInt64(partial.offset), "\(label): \(report.line)")
                #expect(report.tail?.length == UInt64(cut - partial.offset), "\(label): \(report.line)")
                #expect(report.line.contains("dropped \(cut - partial.offset) bytes at the tail"), "\(report.line)")
            } else {
                #expect(report.tail == nil && report.line.contains("dropped 0 bytes at the tail"), "\(label): \(report.line)")
            }
            #expect(!report.line.contains("\n"))
        }
    }

    /// Damage in the middle: the chunk concerned is skipped and said to be, everything after it is kept.
    @Test func damagedChunkInTheMiddleIsSkipped() throws {
        let dir = try TemporaryDirectory()
        let original = try Original(in: dir, compression: .none)
        let c = original.chunks
        try #require(c.count >= 6)
        let victim = c[2]
        func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        let declared = UInt64(victim.length - 9)
        let damages: [(String, (inout [UInt8]) -> Void)] = [
            ("a flipped payload bit (CRC mismatch)", { $0[victim.offset + victim.length / 2] ^= 0x10 }),
            ("a length running past the end", { $0.replaceSubrange((victim.offset + 1)..<(victim.offset + 9), with: le64(UInt64.max / 3)) }),
            ("a length 1000 bytes short", { $0.replaceSubrange((victim.offset + 1)..<(victim.offset + 9), with: le64(declared - 1000)) }),
            ("a reserved opcode", { $0[victim.offset] = 0x42 }),
        ]
        let expected = original.messages(ofChunksBefore: original.bytes.count, excluding: [2])
        for (label, damage) in damages {
            var bytes = original.bytes
            damage(&bytes)
            let path = dir.path("damaged-\(damages.firstIndex { $0.0 == label }!).mcap")
            try writeFile(bytes, path)
            let report = try recoverAndCheck(path, expecting: expected, label)
            let lost = report.damagedChunks + report.skipped
            #expect(lost.count == 1 && lost.first?.offset == UInt64(victim.offset), "\(label): \(report.line) \(lost)")
            #expect(report.chunks == c.count - 1, "\(label): \(report.line)")
            #expect(report.inputWasClosed, "\(label): \(report.line)")
            #expect(report.line.contains("skipped"), "\(label): \(report.line)")
        }

        // Damage and a crash together: the chunks between the damage and the cut survive.
        var bytes = original.bytes
        bytes[victim.offset + victim.length / 2] ^= 0x10
        let cut = c[5].offset + c[5].length / 2
        let path = dir.path("damaged-and-cut.mcap")
        try writeFile(bytes.prefix(cut), path)
        let report = try recoverAndCheck(path, expecting: original.messages(ofChunksBefore: cut, excluding: [2]), "damage and cut")
        #expect(report.damagedChunks.count == 1 && report.tail?.offset == UInt64(c[5].offset), "\(report.line)")
    }

    @Test func badInputGivesOneClearError() throws {
        let dir = try TemporaryDirectory()
        let original = try Original(in: dir, frames: 4)
        func refusal(_ input: String, _ output: String) -> String {
            do {
                let report = try MCAPRecovery.recover(input: input, output: output)
                return "no error: \(report.line)"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(dir.path("missing.mcap"), dir.path("o1.mcap")).contains("No such file"))
        try writeFile(Array("not an mcap file at all".utf8), dir.path("text.mcap"))
        #expect(refusal(dir.path("text.mcap"), dir.path("o2.mcap")).contains("not an MCAP file"))
        try writeFile(mcapMagic.prefix(5), dir.path("short.mcap"))
        #expect(refusal(dir.path("short.mcap"), dir.path("o3.mcap")).contains("shorter than the MCAP magic"))
        #expect(refusal(original.path, original.path).contains("is the input file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: original.path)) == Data(original.bytes))
        let link = dir.path("link.mcap")
        #expect(symlink(original.path, link) == 0)
        #expect(refusal(original.path, link).contains("is the input file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: original.path)) == Data(original.bytes))
        for problem in [refusal(dir.path("missing.mcap"), dir.path("o1.mcap")), refusal(original.path, original.path)] {
            #expect(!problem.contains("\n"))
        }
    }
}
