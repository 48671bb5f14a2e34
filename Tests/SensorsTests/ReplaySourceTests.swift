import Foundation
import Glibc
import Recording
import Testing
@testable import Sensors

/// A short labelled recording: what was written, to compare the replay against.
struct TestRecording {
    var path: String
    var times: [UInt64]
    var pixels: [[UInt8]]
    var labels: [[UInt8]]
    let width = 16, height = 8
}

final class ScratchDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func makeRecording(in dir: ScratchDirectory, frames: Int = 30, intervalNanos: UInt64 = 20_000_000,
                   labels: Bool = true) throws -> TestRecording {
    var rec = TestRecording(path: dir.path("replay.mcap"), times: [], pixels: [], labels: [])
    let writer = try FrameRecordingWriter(path: rec.path, options: .init(chunkSize: 4096))
    let t0: UInt64 = 1_700_000_000_000_000_000
    for i in 0..<frames {
        let t = t0 + UInt64(i) * intervalNanos
        let pixels = (0..<(rec.width * rec.height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7) }
        let map = (0..<(rec.width * rec.height)).map { UInt8(($0 + i) % 6) }
        // Labels first on odd frames: pairing must go by time, not file order.
        if labels && i % 2 == 1 {
            try writer.addLabelMap(labels: map, width: rec.width, height: rec.height, captureTimeNanos: t)
        }
        try writer.addCameraFrame(pixels: pixels, width: rec.width, height: rec.height, captureTimeNanos: t)
        if labels && i % 2 == 0 {
            try writer.addLabelMap(labels: map, width: rec.width, height: rec.height, captureTimeNanos: t)
        }
        rec.times.append(t)
        rec.pixels.append(pixels)
        rec.labels.append(map)
    }
    try writer.close()
    return rec
}

func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

@Test func maxRateDeliversEveryFrameInOrderWithOriginalTimestamps() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir)
    let source = try ReplaySource(path: rec.path, options: .init(rate: .maximum))
    #expect(source.cameraTopic == RecordingConventions.cameraTopic)
    #expect(source.labelTopic == RecordingConventions.labelTopic)
    var frame = Frame()
    for i in 0..<rec.times.count {
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == UInt64(i))
        #expect(frame.monotonicNanos == rec.times[i] && frame.realtimeNanos == rec.times[i])
        #expect(frame.width == rec.width && frame.height == rec.height && frame.format == .rgb8)
        #expect(frame.stride == rec.width * 3)
        #expect(frame.pixels == rec.pixels[i], "frame \(i)")
        #expect(frame.labels == rec.labels[i], "labels \(i)")
        #expect(frame.isReplayed)
    }
    #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .endOfStream)
    #expect(source.deliveredFrames == UInt64(rec.times.count) && source.skippedFrames == 0)
    source.close()
    #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .endOfStream)
}

/// Delivery times (CLOCK_MONOTONIC) and frames of a paced replay with a fast consumer.
func pacedRun(_ rec: TestRecording, rate: Double) throws -> (wall: [UInt64], stamps: [UInt64], source: ReplaySource) {
    let source = try ReplaySource(path: rec.path, options: .init(rate: .paced(rate)))
    var frame = Frame()
    var wall: [UInt64] = []
    var stamps: [UInt64] = []
    while try source.nextFrame(into: &frame, timeout: .seconds(2)) == .frame {
        wall.append(monotonicNow())
        stamps.append(frame.monotonicNanos)
    }
    return (wall, stamps, source)
}

@Test(arguments: [1.0, 2.0])
func pacedReplayKeepsTheRecordedSpacing(_ rate: Double) throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir)
    // Timing on a shared 2-core machine: a run disturbed by other load is retried (up to
    // three runs); the structural checks hold for every run.
    var attempts: [String] = []
    for _ in 0..<3 {
        let (wall, stamps, source) = try pacedRun(rec, rate: rate)
        // A consumer that misses a frame gets it skipped, not queued.
        #expect(wall.count + Int(source.skippedFrames) == rec.times.count)
        #expect(stamps == stamps.sorted() && Set(stamps).isSubset(of: Set(rec.times)))
        #expect(stamps.last == rec.times.last)
        guard wall.count >= rec.times.count - 5 else {
            attempts.append("only \(wall.count) frames delivered")
            continue
        }
        // Each wall interval against the recorded interval of the frames delivered.
        var errors: [Double] = []
        for i in 1..<wall.count {
            let recorded = Double(stamps[i] - stamps[i - 1]) / rate
            errors.append(Double(wall[i] - wall[i - 1]) - recorded)
        }
        let medianErrorMs = median(errors) / 1e6
        // Absolute deadlines: the run lasts the recorded span, not span + accumulated lateness.
        let span = Double(rec.times[rec.times.count - 1] - rec.times[0]) / rate
        let overrunMs = (Double(wall[wall.count - 1] - wall[0]) - span) / 1e6
        let summary = "\(wall.count) frames, median spacing error \(medianErrorMs) ms, run overrun \(overrunMs) ms"
        print("paced x\(rate): \(summary)")
        if abs(medianErrorMs) < 2.0 && abs(overrunMs) < 25 { return }
        attempts.append(summary)
    }
    Issue.record("paced x\(rate) missed the recorded spacing in every run: \(attempts)")
}

@Test func slowConsumerGetsTheNewestDueFrameNotABacklog() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir)
    let source = try ReplaySource(path: rec.path, options: .init(rate: .paced(1.0)))
    var frame = Frame()
    var start: UInt64?
    var sequences: [UInt64] = []
    while try source.nextFrame(into: &frame, timeout: .seconds(2)) == .frame {
        let now = monotonicNow()
        if start == nil { start = now }
        let elapsed = Double(now - (start ?? now))
        let recordedOffset = Double(frame.monotonicNanos - rec.times[0])
        // The frame handed over is due (not from the future) and is the newest due one:
        // the next frame would only have been due within one interval (+ scheduling slack).
        #expect(recordedOffset <= elapsed + 2e6)
        let isLast = frame.sequence == UInt64(rec.times.count - 1)
        #expect(isLast || recordedOffset > elapsed - 20e6 - 15e6, "stale frame: \(recordedOffset / 1e6) ms at \(elapsed / 1e6) ms")
        sequences.append(frame.sequence)
        usleep(70_000)
    }
    #expect(source.skippedFrames > 10)
    #expect(UInt64(sequences.count) + source.skippedFrames == UInt64(rec.times.count))
    #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
    #expect(sequences.last == UInt64(rec.times.count - 1))  // the end is always due eventually
}

@Test func loopAndStartOffsetKeepTimestampsMonotonic() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir)
    let source = try ReplaySource(path: rec.path, options: .init(rate: .maximum, loop: true, startOffsetSeconds: 0.1))
    var frame = Frame()
    var stamps: [UInt64] = []
    var pixels: [[UInt8]] = []
    for _ in 0..<60 {
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        stamps.append(frame.monotonicNanos)
        pixels.append(frame.pixels)
    }
    // Start offset 0.1 s = frame 5; one pass = frames 5...29 = 25 frames, then 20 ms gap.
    let pass = Array(rec.times[5...])
    let period = (rec.times[29] - rec.times[5]) + 20_000_000
    let expected = pass + pass.map { $0 + period } + pass.prefix(10).map { $0 + 2 * period }
    #expect(stamps == expected)
    #expect(pixels[0] == rec.pixels[5] && pixels[25] == rec.pixels[5] && pixels[24] == rec.pixels[29])
    #expect(source.completedLoops == 2)
    #expect(frame.sequence == 59)
}

@Test func timeoutWhenTheNextFrameIsNotDueYet() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir, frames: 3, intervalNanos: 1_000_000_000)
    let source = try ReplaySource(path: rec.path, options: .init(rate: .paced(1.0)))
    var frame = Frame()
    #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(100)) == .frame)
    let before = monotonicNow()
    #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(50)) == .timeout)
    let waited = Double(monotonicNow() - before) / 1e6
    #expect(waited >= 49 && waited < 500, "waited \(waited) ms")
    #expect(frame.sequence == 0)
}

@Test func replayErrorsAreClearOneLiners() throws {
    let dir = try ScratchDirectory()
    let missing = dir.path("missing.mcap")
    #expect(throws: ReplayError.self) { try ReplaySource(path: missing) }
    let text = dir.path("text.mcap")
    try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
    #expect(throws: ReplayError.recording(.badMagic(text))) { try ReplaySource(path: text) }

    let rec = try makeRecording(in: dir, frames: 5)
    #expect(throws: ReplayError.self) { try ReplaySource(path: rec.path, options: .init(rate: .paced(0))) }
    #expect(throws: ReplayError.self) { try ReplaySource(path: rec.path, options: .init(rate: .paced(.nan))) }
    #expect(throws: ReplayError.self) { try ReplaySource(path: rec.path, options: .init(startOffsetSeconds: 10)) }
    #expect(throws: ReplayError.self) { try ReplaySource(path: rec.path, options: .init(cameraTopic: "/nope")) }
    // Labels only: there is no rgb8 camera channel to pick.
    let labelsOnly = dir.path("labels.mcap")
    let writer = try FrameRecordingWriter(path: labelsOnly)
    try writer.addLabelMap(labels: [UInt8](repeating: 1, count: 4), width: 2, height: 2, captureTimeNanos: 1)
    try writer.close()
    do {
        _ = try ReplaySource(path: labelsOnly)
        Issue.record("replayed a recording without a camera channel")
    } catch {
        #expect("\(error)".contains("no foxglove.RawImage rgb8 camera channel"))
        #expect(!"\(error)".contains("\n"))
    }
    // Without labels the frames carry none.
    let plain = try ReplaySource(path: rec.path, options: .init(rate: .maximum, loadLabels: false))
    var frame = Frame()
    #expect(try plain.nextFrame(into: &frame, timeout: .seconds(1)) == .frame && frame.labels == nil)
}

@Test func truncatedRecordingReplaysItsCompleteChunks() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir, frames: 30)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: rec.path))
    let cut = dir.path("cut.mcap")
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
    let source = try ReplaySource(path: cut, options: .init(rate: .maximum))
    var frame = Frame()
    var stamps: [UInt64] = []
    while try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame { stamps.append(frame.monotonicNanos) }
    #expect(!stamps.isEmpty && stamps.count < 30)
    #expect(stamps == Array(rec.times.prefix(stamps.count)))
    #expect(source.issues.contains { $0.kind == .truncated })
}

/// One good rgb8 frame at t=1000, four undecodable ones at 2000...5000, optionally a good one at 9000.
func writeBadFrames(_ path: String, trailingGood: Bool) throws {
    let writer = try MCAPWriter(path: path)
    let schema = try writer.addSchema(name: RawImageSchema.name, encoding: RawImageSchema.encoding,
                                      data: RawImageSchema.descriptorSet)
    let camera = try writer.addChannel(topic: "/cam", messageEncoding: "protobuf", schemaId: schema)
    let good = RawImage(timestampNanoseconds: 1000, width: 2, height: 1, encoding: "rgb8", step: 6,
                        data: [1, 2, 3, 4, 5, 6]).encoded()
    try writer.addMessage(channelId: camera, logTime: 1000, publishTime: 0, data: good)
    let bad: [[UInt8]] = [
        [0xFF],
        Array(good.prefix(good.count - 3)),
        RawImage(timestampNanoseconds: 0, width: 4, height: 4, encoding: "rgb8", step: 12, data: [1]).encoded(),
        RawImage(timestampNanoseconds: 0, width: 2, height: 1, encoding: "jpeg", step: 6,
                 data: [UInt8](repeating: 0, count: 6)).encoded(),
    ]
    for (i, data) in bad.enumerated() {
        try writer.addMessage(channelId: camera, logTime: 2000 + UInt64(i) * 1000, publishTime: 0, data: data)
    }
    if trailingGood { try writer.addMessage(channelId: camera, logTime: 9000, publishTime: 0, data: good) }
    try writer.close()
}

@Test func undecodableFramesAreSkippedAndLoopingOverNothingEnds() throws {
    let dir = try ScratchDirectory()
    let path = dir.path("bad-frames.mcap")
    try writeBadFrames(path, trailingGood: true)
    let once = try ReplaySource(path: path, options: .init(rate: .maximum))
    var frame = Frame()
    #expect(try once.nextFrame(into: &frame, timeout: .seconds(1)) == .frame && frame.monotonicNanos == 1000)
    #expect(try once.nextFrame(into: &frame, timeout: .seconds(1)) == .frame && frame.monotonicNanos == 9000)
    #expect(frame.sequence == 5 && frame.pixels == [1, 2, 3, 4, 5, 6])
    #expect(try once.nextFrame(into: &frame, timeout: .seconds(1)) == .endOfStream)
    #expect(once.undecodableFrames == 4)

    // Starting after the only good frame leaves nothing playable: refused up front.
    let onlyBad = dir.path("only-bad.mcap")
    try writeBadFrames(onlyBad, trailingGood: false)
    do {
        _ = try ReplaySource(path: onlyBad, options: .init(rate: .maximum, loop: true, startOffsetSeconds: 0.0000015))
        Issue.record("accepted a replay without playable frames")
    } catch {
        #expect("\(error)".contains("no playable"))
    }
    // One playable frame among bad ones, looping fast: every call returns within its timeout.
    for rate in [ReplayRate.maximum, .paced(1000), .paced(1)] {
        let source = try ReplaySource(path: onlyBad, options: .init(rate: rate, loop: true))
        var frames = 0
        for _ in 0..<20 {
            let before = monotonicNow()
            let result = try source.nextFrame(into: &frame, timeout: .milliseconds(20))
            #expect(monotonicNow() - before < 500_000_000)
            if result == .frame {
                frames += 1
                #expect(frame.pixels == [1, 2, 3, 4, 5, 6])
            }
        }
        #expect(frames > 0, "\(rate)")
    }
}

/// Issue 13.3: damage that appears while a looping replay runs (the file corrupted in place)
/// is counted and described, and the loop stops instead of playing nothing forever.
@Test func damageFoundWhileReplayingIsReported() throws {
    let dir = try ScratchDirectory()
    let rec = try makeRecording(in: dir, frames: 60)
    let source = try ReplaySource(path: rec.path, options: ReplayOptions(rate: .maximum, loop: true))
    var frame = Frame()
    for _ in 0..<5 { #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame) }
    #expect(source.damageCount == 0 && source.problem == nil)

    let handle = try #require(FileHandle(forUpdatingAtPath: rec.path))
    let size = try handle.seekToEnd()
    try handle.seek(toOffset: size / 4)
    handle.write(Data(repeating: 0x5A, count: Int(size / 2)))
    try handle.close()

    var ended = false
    for _ in 0..<1000 where !ended {
        ended = try source.nextFrame(into: &frame, timeout: .seconds(1)) == .endOfStream
    }
    #expect(source.damageCount > 0)
    #expect(source.problem?.hasPrefix("recording damaged while replaying") == true, "\(source.problem ?? "nil")")
}
