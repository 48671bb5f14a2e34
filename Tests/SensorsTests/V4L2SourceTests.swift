import Glibc
import Testing
@testable import Sensors

@Suite struct V4L2SourceTests {
    private func options(_ change: (inout V4L2Options) -> Void = { _ in }) -> V4L2Options {
        var o = V4L2Options(device: "/dev/fake", minBackoff: .milliseconds(1), maxBackoff: .milliseconds(8))
        change(&o)
        return o
    }

    private func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    // MARK: - Format negotiation

    @Test func prefersNativeFormatsInOrder() {
        let native = [V4L2FormatDescription(fourcc: .mjpeg, description: "Motion-JPEG", compressed: true),
                      V4L2FormatDescription(fourcc: .bgr24, description: "BGR"),
                      V4L2FormatDescription(fourcc: .yuyv, description: "YUYV"),
                      V4L2FormatDescription(fourcc: .rgb24, description: "RGB", emulated: true)]
        #expect(V4L2Source.chooseFormat(native)?.fourcc == .yuyv)
        #expect(V4L2Source.chooseFormat(native, forced: .rgb8) == native[3])
        #expect(V4L2Source.chooseFormat(native, forced: .bgr8) == native[1])
        #expect(V4L2Source.chooseFormat(Array(native[0...1]))?.fourcc == .bgr24)
    }

    @Test func convertsMJPEGThroughLibv4l2WhenNothingNativeFits() {
        let mjpegOnly = [V4L2FormatDescription(fourcc: .mjpeg, description: "Motion-JPEG", compressed: true),
                         V4L2FormatDescription(fourcc: .bgr24, description: "BGR", emulated: true),
                         V4L2FormatDescription(fourcc: .rgb24, description: "RGB", emulated: true),
                         V4L2FormatDescription(fourcc: FourCC("YU12"), description: "YUV 4:2:0", emulated: true)]
        let choice = V4L2Source.chooseFormat(mjpegOnly)
        #expect(choice?.fourcc == .rgb24 && choice?.emulated == true)
        #expect(V4L2Source.chooseFormat([mjpegOnly[0]]) == nil)
    }

    @Test func negotiatesRequestedSizeAndRate() throws {
        let fake = FakeV4L2Device()
        fake.formats = [V4L2FormatDescription(fourcc: .mjpeg, description: "MJPEG", compressed: true),
                        V4L2FormatDescription(fourcc: .rgb24, description: "RGB", emulated: true)]
        fake.widthAlignment = 16
        let source = try V4L2Source(options: options { $0.width = 650; $0.height = 480; $0.fps = 15 }, device: fake)
        #expect(fake.requestedFormat?.width == 650 && fake.requestedFormat?.fourcc == .rgb24)
        #expect(fake.requestedInterval.map { $0 == (1000, 15000) } == true)
        let n = try #require(source.negotiated)
        #expect(n.format.width == 640 && n.format.height == 480 && n.pixelFormat == .rgb8 && n.converted && n.fps == 15)
        #expect(n.buffers == 4 && fake.queued.count == 4 && fake.streaming)
        #expect(source.state == .streaming && source.name == "v4l2:/dev/fake")
    }

    @Test func keepsTheDriversSizeWhenNoneIsRequested() throws {
        let fake = FakeV4L2Device()
        fake.currentSize = (320, 240)
        let source = try V4L2Source(options: options(), device: fake)
        #expect(fake.requestedFormat?.width == 320 && fake.requestedFormat?.height == 240)
        #expect(source.negotiated?.pixelFormat == .yuyv && source.negotiated?.converted == false)
    }

    @Test func rejectsDevicesThatCannotCaptureOrStream() {
        let fake = FakeV4L2Device()
        fake.capabilities.capabilities = V4L2Capabilities.streaming | 0x2  // an output node
        #expect(throws: V4L2Error.notCapture(path: "/dev/fake", card: "Fake Camera")) {
            try V4L2Source(options: options(), device: fake)
        }
        fake.capabilities.capabilities = V4L2Capabilities.videoCapture
        #expect(throws: V4L2Error.noStreaming(path: "/dev/fake", card: "Fake Camera")) {
            try V4L2Source(options: options(), device: fake)
        }
        fake.capabilities.capabilities = V4L2Capabilities.videoCapture | V4L2Capabilities.streaming
        fake.formats = [V4L2FormatDescription(fourcc: .mjpeg, description: "MJPEG", compressed: true)]
        #expect {
            try V4L2Source(options: options(), device: fake)
        } throws: { error in
            "\(error)" == "/dev/fake offers no format moeseg can use (YUYV, RGB3, BGR3, or one libv4l2 converts to them); offered: MJPG"
        }
        #expect(!fake.isOpen && fake.protocolErrors.isEmpty)
    }

    @Test func tooFewBuffersIsAnError() {
        let fake = FakeV4L2Device()
        fake.grantedBuffers = 1
        #expect(throws: V4L2Error.tooFewBuffers(path: "/dev/fake", granted: 1)) {
            try V4L2Source(options: options(), device: fake)
        }
    }

    // MARK: - Latest frame wins

    @Test func drainsUntilEAGAINKeepsNewestAndRequeuesTheRest() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0, 1, 2])]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 2 && frame.pixels.allSatisfy { $0 == 2 })
        #expect(frame.width == 64 && frame.height == 32 && frame.format == .yuyv && frame.stride == 128 && !frame.isReplayed)
        #expect(source.staleDrops == 2 && source.driverDrops == 0 && source.drops == 2)
        #expect(fake.queued.count == 4 && fake.ready.isEmpty && fake.protocolErrors.isEmpty)
    }

    @Test func sequenceGapsAreDriverDrops() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0]), .frames([3]), .frames([4]), .frames([10, 11])]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        var seen: [UInt64] = []
        for _ in 0..<4 {
            #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
            seen.append(frame.sequence)
        }
        #expect(seen == [0, 3, 4, 11])
        #expect(source.driverDrops == 2 + 5 && source.staleDrops == 1 && source.drops == 8)
    }

    @Test func driverDropsWhenNoBufferIsQueuedShowAsGaps() throws {
        let fake = FakeV4L2Device()
        fake.grantedBuffers = 2
        fake.script = [.frames([0, 1, 2, 3])]  // only two buffers: 2 and 3 are lost in the driver
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 1 && source.staleDrops == 1)
        fake.script = [.frames([4])]
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 4 && source.driverDrops == 2)
    }

    @Test func corruptBuffersAreReturnedUnused() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0], flags: V4L2DequeuedBuffer.flagError | V4L2DequeuedBuffer.timestampMonotonic), .frames([1])]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 1 && source.corruptDrops == 1 && fake.queued.count == 4)
    }

    @Test func rowPaddingIsNotCopied() throws {
        let fake = FakeV4L2Device()
        fake.rowPadding = 16
        fake.script = [.frames([7])]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.stride == 128 && frame.pixels.count == 128 * 32 && frame.pixels.allSatisfy { $0 == 7 })
    }

    // MARK: - Timestamps

    @Test func usesTheBuffersMonotonicStamp() throws {
        let fake = FakeV4L2Device()
        fake.timestampOffsetNanos = -5_000_000
        fake.script = [.frames([0])]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        let now = monotonicNow()
        #expect(now - frame.monotonicNanos >= 5_000_000 && now - frame.monotonicNanos < 500_000_000)
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        let realNow = UInt64(real.tv_sec) * 1_000_000_000 + UInt64(real.tv_nsec)
        #expect(realNow - frame.realtimeNanos >= 5_000_000 && realNow - frame.realtimeNanos < 500_000_000)
    }

    @Test func stampsOnArrivalWhenTheDriverClockIsNotMonotonic() throws {
        let fake = FakeV4L2Device()
        fake.timestampOffsetNanos = -3_000_000_000  // a stamp on some other clock, far off
        fake.script = [.frames([0], flags: 0)]
        let source = try V4L2Source(options: options(), device: fake)
        let before = monotonicNow()
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.monotonicNanos >= before && frame.monotonicNanos <= monotonicNow())
    }

    // MARK: - Unplug and recovery

    @Test func enodevMidStreamGoesUnavailableThenReopens() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0]), .frames([1]), .unplug]
        let source = try V4L2Source(options: options(), device: fake)
        var changes: [String] = []
        source.onStateChange = { old, new, reason in
            changes.append("\(old.rawValue)->\(new.rawValue)\(reason.map { ": \($0)" } ?? "")")
        }
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 1)
        fake.present = false  // the node is gone until the "module is reloaded"
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(50)) == .timeout)
        #expect(source.state == .unavailable && source.disconnects == 1)
        #expect(source.lastError?.deviceGone == true || source.lastError == .pollFailed(path: "/dev/fake"))
        #expect(!fake.isOpen)
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(30)) == .timeout)
        #expect(source.state == .unavailable && source.lastError?.deviceGone == true)

        fake.present = true
        fake.script = [.frames([0]), .frames([1])]  // the driver counts from 0 again
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(source.state == .streaming && source.opens == 2 && source.disconnects == 1)
        #expect(frame.sequence == 2)  // keeps rising across the reopen
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.sequence == 3 && fake.protocolErrors.isEmpty)
        #expect(changes == ["streaming->unavailable: /dev/fake: VIDIOC_DQBUF failed: No such device", "unavailable->streaming"])
    }

    @Test func dequeueFailureAlsoCountsAsUnplug() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0]), .unplug]
        let source = try V4L2Source(options: options(), device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        fake.present = false
        _ = try source.nextFrame(into: &frame, timeout: .milliseconds(20))
        #expect(source.state == .unavailable)
    }

    @Test func aStalledCameraIsReopened() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0])]
        let source = try V4L2Source(options: options { $0.stallTimeout = .milliseconds(60) }, device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        // Short calls that each time out must add up to a stall.
        for _ in 0..<5 { _ = try source.nextFrame(into: &frame, timeout: .milliseconds(20)) }
        #expect(source.disconnects == 1 && fake.opens == 2)
        if case .stalled = source.lastError {} else { Issue.record("expected a stall, got \(String(describing: source.lastError))") }
        fake.script = [.frames([0])]
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(source.state == .streaming)
    }

    @Test func aConsumerThatPausesDoesNotLookLikeAStall() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0]), .frames([1])]
        let source = try V4L2Source(options: options { $0.stallTimeout = .milliseconds(50) }, device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        usleep(120_000)
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(source.disconnects == 0)
    }

    @Test func reopeningNeverBlocksPastTheTimeout() throws {
        let fake = FakeV4L2Device()
        fake.script = [.frames([0]), .unplug]
        let source = try V4L2Source(options: options { $0.minBackoff = .milliseconds(100); $0.maxBackoff = .seconds(2) }, device: fake)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        fake.present = false
        var longest: UInt64 = 0
        let start = monotonicNow()
        let attemptsBefore = fake.openAttempts
        while monotonicNow() - start < 600_000_000 {
            let t = monotonicNow()
            #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(25)) == .timeout)
            longest = max(longest, monotonicNow() - t)
        }
        // Backoff 0.1 s then 0.2 s then 0.4 s: about two attempts in 0.6 s, not one per call.
        let attempts = fake.openAttempts - attemptsBefore
        #expect((1...3).contains(attempts), "\(attempts) open attempts")
        #expect(longest < 250_000_000, "a 25 ms call took \(Double(longest) / 1e6) ms")
        #expect(source.state == .unavailable)
    }

    @Test func realHardwareRejectsANodeThatIsNotVideo4Linux() {
        #expect {
            try V4L2Source(options: V4L2Options(device: "/dev/null"))
        } throws: { error in
            "\(error)" == "/dev/null is not a video4linux device"
        }
        #expect {
            _ = try V4L2Source.describe(path: "/dev/moeseg-no-camera")
        } throws: { error in
            "\(error)" == "/dev/moeseg-no-camera: open failed: No such file or directory"
        }
    }

    @Test func missingCameraAtStartFailsOrIsWaitedFor() throws {
        let fake = FakeV4L2Device()
        fake.present = false
        #expect {
            try V4L2Source(options: options(), device: fake)
        } throws: { error in
            "\(error)" == "/dev/fake: open failed: No such file or directory"
        }
        let source = try V4L2Source(options: options { $0.waitForDevice = true }, device: fake)
        // Waiting for a camera is an outage with its reason (it was a silent `starting` before).
        #expect(source.state == .unavailable)
        #expect(source.problem == "/dev/fake: open failed: No such file or directory")
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(20)) == .timeout)
        #expect(source.state == .unavailable)
        fake.present = true
        fake.script = [.frames([0])]
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(source.state == .streaming)
        #expect(source.problem == nil)
        source.close()
        #expect(source.state == .closed && !fake.isOpen)
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(10)) == .endOfStream)
    }
}
