import Glibc

/// Settings of a `V4L2Source`.
public struct V4L2Options: Sendable, Equatable {
    /// Device path, e.g. /dev/video0 or a stable /dev/v4l/by-id/... link.
    public var device: String
    /// Requested size; nil keeps what the node is set to (the driver may adjust either way).
    public var width: Int?
    public var height: Int?
    /// Requested frame rate; nil keeps the driver's.
    public var fps: Double?
    /// Insist on one pixel format instead of the negotiation order.
    public var format: PixelFormat?
    /// MMAP buffers to request (3-4 keeps latency low and still absorbs jitter).
    public var bufferCount: Int
    /// A camera missing at start: true waits for it (state `starting`), false fails at once.
    public var waitForDevice: Bool
    /// No frame for this long while streaming counts as a failure: close and reopen.
    public var stallTimeout: Duration
    /// First reopen delay; doubles per failed attempt up to `maxBackoff`.
    public var minBackoff: Duration
    public var maxBackoff: Duration

    public init(device: String, width: Int? = nil, height: Int? = nil, fps: Double? = nil, format: PixelFormat? = nil,
                bufferCount: Int = 4, waitForDevice: Bool = false, stallTimeout: Duration = .seconds(2),
                minBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(2)) {
        self.device = device
        self.width = width
        self.height = height
        self.fps = fps
        self.format = format
        self.bufferCount = bufferCount
        self.waitForDevice = waitForDevice
        self.stallTimeout = stallTimeout
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
    }
}

/// What the source settled on when it last opened the camera.
public struct V4L2Negotiated: Sendable, Equatable {
    public var capabilities: V4L2Capabilities
    public var format: V4L2Format
    public var pixelFormat: PixelFormat
    /// The format came from libv4l2's user-space conversion rather than the camera.
    public var converted: Bool
    /// Frames per second the driver accepted, when it has a frame-rate control.
    public var fps: Double?
    public var buffers: Int
    /// The node the path resolved to when it was opened (symlinks followed).
    public var resolvedPath: String
}

/// A V4L2 camera as a `FrameSource`: MMAP streaming, latest frame wins, and a device that
/// may vanish and come back.
///
/// `nextFrame` polls for up to its timeout, dequeues every ready buffer, keeps the newest and
/// returns the others to the driver at once, so the consumer never sees a backlog. Sequence
/// gaps (frames the driver dropped) and stale buffers skipped here are counted in `drops`.
/// ENODEV, a poll error or no frame for `stallTimeout` closes the device and makes the state
/// `unavailable`; later calls reopen it (by path, so by-id links are resolved again) with
/// exponential backoff, never blocking past their timeout and never throwing.
public final class V4L2Source: FrameSource {
    public let name: String
    public let options: V4L2Options
    public private(set) var state: SourceState {
        didSet { if state != oldValue { onStateChange?(oldValue, state, state == .unavailable ? lastError : nil) } }
    }
    /// Called on every state change (old, new, and for `unavailable` the reason), on the
    /// thread that calls `nextFrame`; changes inside one call are not missed.
    public var onStateChange: ((SourceState, SourceState, V4L2Error?) -> Void)?
    /// What the last successful open negotiated.
    public private(set) var negotiated: V4L2Negotiated?
    /// Why the source last became unavailable (or failed to reopen).
    public private(set) var lastError: V4L2Error?
    /// Why the camera is unavailable now (nil while streaming).
    public var problem: String? { state == .unavailable ? lastError.map { "\($0)" } : nil }
    /// Frames the driver dropped (gaps in its sequence numbers).
    public private(set) var driverDrops: UInt64 = 0
    /// Ready frames passed over because a newer one was ready too.
    public private(set) var staleDrops: UInt64 = 0
    /// Buffers flagged as erroneous or too short, returned unused.
    public private(set) var corruptDrops: UInt64 = 0
    /// Times the device was lost after it had been streaming.
    public private(set) var disconnects: UInt64 = 0
    /// Successful (re)opens.
    public private(set) var opens: UInt64 = 0
    public var drops: UInt64 { driverDrops + staleDrops + corruptDrops }

    private let device: V4L2Device
    private var isOpen = false
    private var nextAttemptNanos: UInt64 = 0
    private var backoffNanos: UInt64
    private var lastFrameNanos: UInt64 = 0
    /// Time spent polling without any buffer arriving since the last one; a consumer that
    /// simply did not ask for frames for a while does not make the camera look stalled.
    private var silentNanos: UInt64 = 0
    private var lastDriverSequence: UInt32?
    /// Added to the driver's sequence so that numbers keep rising across reopens.
    private var sequenceBase: UInt64 = 0
    private var nextSequence: UInt64 = 0

    /// Opens the camera at once (throwing one clear error if that fails), or with
    /// `waitForDevice` starts in state `starting` and keeps trying inside `nextFrame`.
    public init(options: V4L2Options, device: V4L2Device = V4L2Hardware()) throws(V4L2Error) {
        self.options = options
        self.device = device
        name = "v4l2:\(options.device)"
        backoffNanos = Self.nanos(options.minBackoff)
        state = .starting
        do throws(V4L2Error) {
            try open()
        } catch {
            device.close()
            guard options.waitForDevice else { throw error }
            lastError = error
            // Waiting for a camera is an outage with a reason, not a silent start-up.
            state = .unavailable
            scheduleRetry(now: MonotonicClock.nanoseconds())
        }
    }

    public func nextFrame(into frame: inout Frame, timeout: Duration) throws -> FrameResult {
        if state == .closed { return .endOfStream }
        let deadline = MonotonicClock.nanoseconds() &+ Self.nanos(timeout)
        while true {
            var now = MonotonicClock.nanoseconds()
            if !isOpen {
                if now < nextAttemptNanos {
                    if nextAttemptNanos >= deadline {
                        MonotonicClock.sleep(until: deadline)
                        return .timeout
                    }
                    MonotonicClock.sleep(until: nextAttemptNanos)
                }
                do throws(V4L2Error) {
                    try open()
                } catch {
                    device.close()
                    lastError = error
                    if state == .starting { state = .unavailable }
                    scheduleRetry(now: MonotonicClock.nanoseconds())
                    if MonotonicClock.nanoseconds() >= deadline { return .timeout }
                    continue
                }
                now = MonotonicClock.nanoseconds()
            }
            let remaining = deadline > now ? deadline - now : 0
            let stallLimit = Self.nanos(options.stallTimeout)
            let wait = min(remaining, stallLimit > silentNanos ? stallLimit - silentNanos : 0)
            let polled: V4L2PollResult
            do throws(V4L2Error) {
                polled = try device.poll(timeoutMillis: Int((wait + 999_999) / 1_000_000))
            } catch {
                lose(error)
                continue
            }
            if polled == .timeout {
                let before = now
                now = MonotonicClock.nanoseconds()
                silentNanos &+= now - before
                if silentNanos >= stallLimit {
                    lose(.stalled(path: options.device, seconds: Double(silentNanos) / 1e9))
                    continue
                }
                if now >= deadline { return .timeout }
                continue
            }
            switch drain(into: &frame) {
            case .delivered:
                return .frame
            case .failed:
                continue
            case .empty:
                if polled == .failed {
                    lose(.pollFailed(path: options.device))
                    continue
                }
                if MonotonicClock.nanoseconds() >= deadline { return .timeout }
            }
        }
    }

    public func close() {
        if isOpen {
            device.streamOff()
            device.close()
            isOpen = false
        }
        state = .closed
    }

    /// Lists what a camera offers, without streaming from it.
    public static func describe(path: String, device: V4L2Device = V4L2Hardware()) throws(V4L2Error)
        -> (V4L2Capabilities, [(V4L2FormatDescription, [V4L2FrameSize])]) {
        try device.open(path: path)
        defer { device.close() }
        let caps = try device.queryCapabilities()
        var formats: [(V4L2FormatDescription, [V4L2FrameSize])] = []
        for format in try device.enumerateFormats() {
            formats.append((format, (try? device.enumerateFrameSizes(format.fourcc)) ?? []))
        }
        return (caps, formats)
    }

    /// The format to ask for: what the camera delivers natively first (YUYV, RGB24, BGR24),
    /// then a libv4l2 conversion to RGB24 or BGR24 (e.g. from MJPEG); `forced` narrows it to one.
    public static func chooseFormat(_ offered: [V4L2FormatDescription], forced: PixelFormat? = nil) -> V4L2FormatDescription? {
        let native: [FourCC] = [.yuyv, .rgb24, .bgr24]
        let converted: [FourCC] = [.rgb24, .bgr24, .yuyv]
        let wanted = forced.flatMap(FourCC.init)
        for code in native where wanted == nil || code == wanted {
            if let found = offered.first(where: { $0.fourcc == code && !$0.emulated }) { return found }
        }
        for code in converted where wanted == nil || code == wanted {
            if let found = offered.first(where: { $0.fourcc == code && $0.emulated }) { return found }
        }
        return nil
    }

    // MARK: - Opening and losing the device

    private func open() throws(V4L2Error) {
        let path = options.device
        try device.open(path: path)
        let caps = try device.queryCapabilities()
        guard caps.canCapture else { throw .notCapture(path: path, card: caps.card) }
        guard caps.canStream else { throw .noStreaming(path: path, card: caps.card) }
        let offered = try device.enumerateFormats()
        guard let choice = Self.chooseFormat(offered, forced: options.format), let pixelFormat = choice.fourcc.pixelFormat else {
            throw .noUsableFormat(path: path, offered: offered.map { "\($0.fourcc)\($0.emulated ? " (converted)" : "")" })
        }
        var width = options.width ?? 0, height = options.height ?? 0
        if width == 0 || height == 0 {
            let current = try device.currentFormat()
            if width == 0 { width = current.width }
            if height == 0 { height = current.height }
        }
        let format = try device.setFormat(width: width, height: height, fourcc: choice.fourcc)
        guard format.fourcc == choice.fourcc else {
            throw .formatRejected(path: path, wanted: "\(choice.fourcc)", got: "\(format.fourcc)")
        }
        guard format.width > 0, format.height > 0 else {
            throw .shortBuffer(path: path, bytes: format.sizeImage, needed: 1)
        }
        var fps: Double?
        if let wanted = options.fps {
            if let (n, d) = try device.setFrameInterval(numerator: 1000, denominator: UInt32((wanted * 1000).rounded())) {
                fps = Double(d) / Double(n)
            }
        }
        let granted = try device.mapBuffers(count: options.bufferCount)
        guard granted >= 2 else { throw .tooFewBuffers(path: path, granted: granted) }
        for index in 0..<granted { try device.queue(index) }
        try device.streamOn()

        negotiated = V4L2Negotiated(capabilities: caps, format: format, pixelFormat: pixelFormat, converted: choice.emulated,
                                    fps: fps, buffers: granted, resolvedPath: Self.resolve(path))
        isOpen = true
        opens += 1
        state = .streaming
        lastFrameNanos = MonotonicClock.nanoseconds()
        silentNanos = 0
        lastDriverSequence = nil
        sequenceBase = nextSequence
    }

    /// Closes a device that failed while streaming and schedules the first reopen.
    private func lose(_ error: V4L2Error) {
        device.streamOff()
        device.close()
        isOpen = false
        lastError = error
        disconnects += 1
        state = .unavailable
        backoffNanos = Self.nanos(options.minBackoff)
        scheduleRetry(now: MonotonicClock.nanoseconds())
    }

    private func scheduleRetry(now: UInt64) {
        nextAttemptNanos = now &+ backoffNanos
        backoffNanos = min(backoffNanos &* 2, Self.nanos(options.maxBackoff))
    }

    // MARK: - Dequeueing

    private enum Drained { case delivered, empty, failed }

    /// Dequeues until EAGAIN, keeps the newest good buffer, re-queues the rest at once.
    private func drain(into frame: inout Frame) -> Drained {
        var newest: V4L2DequeuedBuffer?
        do throws(V4L2Error) {
            while let buffer = try device.dequeue() {
                if let sequence = lastDriverSequence, buffer.sequence &- sequence > 1, buffer.sequence > sequence {
                    driverDrops += UInt64(buffer.sequence - sequence - 1)
                }
                lastDriverSequence = buffer.sequence
                silentNanos = 0
                if buffer.hasError || buffer.bytesUsed < neededBytes() {
                    corruptDrops += 1
                    try device.queue(buffer.index)
                    continue
                }
                if let older = newest {
                    staleDrops += 1
                    try device.queue(older.index)
                }
                newest = buffer
            }
        } catch {
            lose(error)
            return .failed
        }
        guard let newest else { return .empty }
        deliver(newest, into: &frame)
        do throws(V4L2Error) {
            try device.queue(newest.index)
        } catch {
            lose(error)  // the frame is good; the next call reopens
        }
        return .delivered
    }

    /// Bytes one image occupies in a buffer at the negotiated stride.
    private func neededBytes() -> Int {
        guard let negotiated else { return 0 }
        let rowBytes = negotiated.format.width * negotiated.pixelFormat.bytesPerPixel
        let stride = max(negotiated.format.bytesPerLine, rowBytes)
        return stride * (negotiated.format.height - 1) + rowBytes
    }

    private func deliver(_ buffer: V4L2DequeuedBuffer, into frame: inout Frame) {
        guard let negotiated else { return }
        let width = negotiated.format.width, height = negotiated.format.height
        frame.reshape(width: width, height: height, format: negotiated.pixelFormat)
        let rowBytes = frame.stride
        let sourceStride = max(negotiated.format.bytesPerLine, rowBytes)
        let memory = device.buffer(buffer.index)
        frame.pixels.withUnsafeMutableBytes { target in
            if sourceStride == rowBytes {
                target.baseAddress!.copyMemory(from: memory.baseAddress!, byteCount: rowBytes * height)
            } else {
                for row in 0..<height {
                    (target.baseAddress! + row * rowBytes).copyMemory(from: memory.baseAddress! + row * sourceStride,
                                                                      byteCount: rowBytes)
                }
            }
        }
        let monoNow = MonotonicClock.nanoseconds(), realNow = MonotonicClock.realtimeNanoseconds()
        if buffer.isMonotonic, buffer.timestampNanos > 0, buffer.timestampNanos <= monoNow {
            frame.monotonicNanos = buffer.timestampNanos
            frame.realtimeNanos = realNow &- (monoNow - buffer.timestampNanos)
        } else {
            frame.monotonicNanos = monoNow
            frame.realtimeNanos = realNow
        }
        frame.sequence = sequenceBase &+ UInt64(buffer.sequence)
        nextSequence = frame.sequence &+ 1
        frame.labels = nil
        frame.isReplayed = false
        lastFrameNanos = monoNow
        backoffNanos = Self.nanos(options.minBackoff)
    }

    private static func resolve(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func nanos(_ duration: Duration) -> UInt64 {
        let (seconds, attos) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attos / 1_000_000_000)
    }
}
