import Evaluation
import Foundation
import Glibc
import Recording
import Testing
import ProcessSupport

/// `moeseg corrupt` end to end: the real binary on a tiny recording, read back with the
/// Swift reader; and its one-line errors.
@Suite struct CorruptCommandTests {
    /// A 3-frame 64x48 recording: crops of the fixture frames, with label maps and metadata.
    static func tinyRecording(in directory: URL) throws -> (path: String, frames: [[UInt8]], labels: [[UInt8]]) {
        let fixtures = try CorruptionFixtures.shared.get()
        let (width, height) = (64, 48)
        let path = directory.appendingPathComponent("tiny.mcap").path
        let writer = try FrameRecordingWriter(path: path)
        try writer.addRecordingInfo(RecordingInfo(domain: "urban", seed: 1, generatorVersion: "test"))
        var frames: [[UInt8]] = [], labels: [[UInt8]] = []
        for index in 0..<3 {
            let source = fixtures.frames[index]
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<(width * 3) { rgb[y * width * 3 + x] = source[(y + 40) * fixtures.width * 3 + x + 300] }
            }
            let label = (0..<(width * height)).map { UInt8(($0 / 7 + index) % 14) }
            let time = UInt64(index) * 100_000_000
            try writer.addCameraFrame(pixels: rgb, width: width, height: height, captureTimeNanos: time)
            try writer.addLabelMap(labels: label, width: width, height: height, captureTimeNanos: time)
            frames.append(rgb)
            labels.append(label)
        }
        try writer.close()
        return (path, frames, labels)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-corrupt-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func read(_ path: String) throws -> (frames: [LabelledFrame], reader: FrameRecordingReader) {
        let reader = try FrameRecordingReader(path: path)
        let frames = Array(try reader.frames(cameraTopic: RecordingConventions.cameraTopic,
                                             labelTopic: RecordingConventions.labelTopic))
        return (frames, reader)
    }

    @Test func roundTripKeepsLabelsAndCorruptsFrames() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.tinyRecording(in: directory)
        let output = directory.appendingPathComponent("fog.mcap").path
        let (status, stdout, stderr) = try ChildProcess.run(MoesegTools.moeseg(), ["corrupt", "--kind", "fog", "--severity", "3", "--seed", "5",
                                                     input.path, output])
        #expect(status == 0, "moeseg corrupt failed: \(stderr)")
        #expect(stdout.split(separator: "\n").count == 1, "expected one summary line, got: \(stdout)")
        #expect(stdout.contains("3 frames") && stdout.contains("3 label maps"), "summary: \(stdout)")

        let (frames, reader) = try Self.read(output)
        #expect(reader.mcap.issues.isEmpty, "output damaged: \(reader.mcap.issues)")
        try #require(frames.count == 3)
        for (index, frame) in frames.enumerated() {
            #expect(frame.camera.image.width == 64 && frame.camera.image.height == 48)
            #expect(frame.camera.image.encoding == "rgb8")
            #expect(frame.camera.logTime == UInt64(index) * 100_000_000)
            #expect(frame.camera.image.data != input.frames[index], "frame \(index) was not corrupted")
            #expect(frame.labels?.image.data == input.labels[index], "labels of frame \(index) changed")
            // The binary's output is the library's, frame by frame.
            var expected = input.frames[index]
            try Corruption.fog.apply(to: &expected, width: 64, height: 48, severity: 3,
                                     seed: CorruptedRecording.frameSeed(5, index: index))
            #expect(frame.camera.image.data == expected)
        }
        #expect(reader.recordingInfo?.domain == "urban")
        let record = reader.metadata(named: CorruptedRecording.metadataName)
        #expect(record?["kind"] == "fog" && record?["severity"] == "3" && record?["seed"] == "5")
    }

    @Test func badInputIsOneLineAndExitOne() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.tinyRecording(in: directory).path
        let output = directory.appendingPathComponent("out.mcap").path
        let cases: [([String], String)] = [
            (["--kind", "rain", "--severity", "1", input, output], "unknown corruption 'rain'"),
            (["--kind", "fog", "--severity", "6", input, output], "--severity must be an integer in 1...5"),
            (["--kind", "fog", "--severity", "x", input, output], "--severity must be an integer in 1...5"),
            (["--kind", "fog", "--severity", "2", directory.appendingPathComponent("missing.mcap").path, output],
             "missing.mcap"),
            (["--kind", "fog", "--severity", "2", input, input], "must not be the input"),
        ]
        for (arguments, message) in cases {
            let (status, _, stderr) = try ChildProcess.run(MoesegTools.moeseg(), ["corrupt"] + arguments)
            #expect(status == 1, "\(arguments): exit \(status)")
            let lines = stderr.split(separator: "\n")
            #expect(lines.count == 1 && stderr.contains(message), "\(arguments): stderr was \(stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output), "a failed run left \(output) behind")
    }
}
