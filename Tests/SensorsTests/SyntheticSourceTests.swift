import Glibc
import Scenes
import Testing
@testable import Sensors

@Test func unpacedSourceDeliversConsecutiveFramesWithLabels() throws {
    let source = try SyntheticSource(domain: .urban, seed: 9, width: 128, height: 64, rate: nil)
    #expect(source.name == "synthetic:urban")
    var frame = Frame()
    var previousStamp: UInt64 = 0
    for expected in 0..<5 {
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(10)) == .frame)
        #expect(frame.sequence == UInt64(expected))
        #expect(frame.width == 128 && frame.height == 64 && frame.format == .rgb8 && frame.stride == 384)
        #expect(frame.pixels.count == 128 * 64 * 3)
        #expect(frame.labels?.count == 128 * 64)
        #expect(frame.labels?.allSatisfy(ClassTable.isValidLabel) == true)
        #expect(frame.monotonicNanos > previousStamp)
        #expect(frame.realtimeNanos > 1_600_000_000 * 1_000_000_000)
        #expect(!frame.isReplayed)
        previousStamp = frame.monotonicNanos
    }
    // Unpaced frame k is the renderer's frame k: the source adds nothing of its own.
    let renderer = try SceneRenderer(domain: .urban, seed: 9, width: 128, height: 64)
    var rgb = [UInt8](repeating: 0, count: 128 * 64 * 3)
    var labels = [UInt8](repeating: 0, count: 128 * 64)
    rgb.withUnsafeMutableBufferPointer { image in
        labels.withUnsafeMutableBufferPointer { renderer.render(frame: 4, rgb: image, labels: $0) }
    }
    #expect(frame.pixels == rgb && frame.labels == labels)
    source.close()
    #expect(try source.nextFrame(into: &frame, timeout: .zero) == .endOfStream)
}

@Test func pacedSourceKeepsToItsRate() throws {
    // 50 frames/s: five frames need at least the four periods between them (deadlines are
    // absolute, so frames never come early); the upper bound is generous for busy machines.
    let source = try SyntheticSource(domain: .highway, seed: 2, width: 96, height: 48, rate: 50)
    var frame = Frame()
    var sequences: [UInt64] = []
    var stamps: [UInt64] = []
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    while sequences.count < 5 {
        if try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame {
            sequences.append(frame.sequence)
            stamps.append(frame.monotonicNanos)
        }
    }
    var end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &end)
    let elapsed = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 })
    #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 < $1 })
    // Capture stamps sit on the 20 ms grid.
    let spanNanos = Double(stamps[4] - stamps[0])
    #expect(abs(spanNanos - Double(sequences[4] - sequences[0]) * 20e6) < 1e5)
    #expect(elapsed >= 0.079)
    #expect(elapsed < 5)
}

@Test func slowConsumerGetsTheNewestFrameAndFastOneTimesOut() throws {
    let source = try SyntheticSource(domain: .urban, seed: 4, width: 64, height: 32, rate: 100)
    var frame = Frame()
    #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
    #expect(frame.sequence == 0)
    var pause = timespec(tv_sec: 0, tv_nsec: 120_000_000)
    nanosleep(&pause, nil)
    #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
    // 120 ms at 100 frames/s: frames 1...10 or so were dropped, not queued.
    #expect(frame.sequence >= 8)

    let slow = try SyntheticSource(domain: .urban, seed: 4, width: 64, height: 32, rate: 1)
    #expect(try slow.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
    #expect(try slow.nextFrame(into: &frame, timeout: .milliseconds(5)) == .timeout)
}

@Test func invalidRatesAreRejected() {
    for rate in [0, -5, 5e-11, 0.09, .infinity, .nan, 5000] as [Double] {
        #expect(throws: SyntheticSourceError.self) {
            _ = try SyntheticSource(domain: .urban, seed: 1, width: 64, height: 32, rate: rate)
        }
    }
    #expect(throws: SceneError.self) {
        _ = try SyntheticSource(domain: .urban, seed: 1, width: 4, height: 32, rate: nil)
    }
}
