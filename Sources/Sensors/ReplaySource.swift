import Glibc
import Recording

/// How fast a recording is replayed.
public enum ReplayRate: Sendable, Equatable {
    /// As fast as the consumer takes frames: every frame, in order, none skipped.
    case maximum
    /// The recorded pace times a factor (1.0 = real time, 2.0 = twice as fast).
    case paced(Double)
}

/// Settings of a `ReplaySource`.
public struct ReplayOptions: Sendable {
    /// Pace of the replay.
    public var rate: ReplayRate
    /// Start again from the start offset at the end of the recording.
    public var loop: Bool
    /// Seconds after the first camera frame to start at.
    public var startOffsetSeconds: Double
    /// Camera topic; nil picks the first foxglove.RawImage rgb8 channel.
    public var cameraTopic: String?
    /// Label-map topic; nil picks the first foxglove.RawImage mono8 channel, if any.
    public var labelTopic: String?
    /// Whether to fill `Frame.labels` at all.
    public var loadLabels: Bool

    /// Real-time replay of the default camera topic with labels, once, from the start.
    public init(rate: ReplayRate = .paced(1.0), loop: Bool = false, startOffsetSeconds: Double = 0,
                cameraTopic: String? = nil, labelTopic: String? = nil, loadLabels: Bool = true) {
        self.rate = rate
        self.loop = loop
        self.startOffsetSeconds = startOffsetSeconds
        self.cameraTopic = cameraTopic
        self.labelTopic = labelTopic
        self.loadLabels = loadLabels
    }
}

/// Why a recording cannot be replayed.
public enum ReplayError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or is not MCAP.
    case recording(MCAPError)
    /// A topic is missing or of the wrong kind.
    case topic(String)
    /// A nonsensical option value.
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .recording(error): "\(error)"
        case let .topic(reason): reason
        case let .invalidOption(reason): reason
        }
    }
}

/// Plays a recording's camera topic as a `FrameSource`, at its recorded pace, a multiple
/// of it, or as fast as the consumer takes frames.
///
/// Frames keep their recorded log time as both timestamps (shifted by whole loop periods
/// on later passes, so they never go backwards) and carry the same-time label map. Paced
/// replay schedules frame i at `start + (t_i - t_0) / rate` on CLOCK_MONOTONIC, from one
/// anchor, so sleeping late never accumulates drift; a consumer that falls behind gets
/// the newest frame that is due and the ones it missed are counted in `skippedFrames`.
public final class ReplaySource: FrameSource {
    /// `replay:<path>`.
    public let name: String
    /// Camera topic being replayed.
    public let cameraTopic: String
    /// Label topic, when labels are replayed.
    public let labelTopic: String?
    /// Frames passed over because the consumer was too slow (paced mode only).
    public private(set) var skippedFrames: UInt64 = 0
    /// Same as `skippedFrames`, for consumers of any `FrameSource`.
    public var drops: UInt64 { skippedFrames }
    /// Frames handed to the consumer.
    public private(set) var deliveredFrames: UInt64 = 0
    /// Camera messages that were not usable images (reported in `issues`).
    public private(set) var undecodableFrames: UInt64 = 0
    /// Completed passes over the recording (loop mode).
    public private(set) var completedLoops: UInt64 = 0

    /// Damage the reader found in the recording so far.
    public var issues: [MCAPIssue] { reader?.mcap.issues ?? [] }

    private var reader: FrameRecordingReader?
    private let options: ReplayOptions
    private let rate: Double
    private var iterator: FrameMessageIterator?
    private var lookahead: FrameMessages?
    /// Log time that maps to the wall-clock anchor (first frame at or after the offset).
    private let startLogTime: UInt64
    private var anchorNanos: UInt64?
    /// Log-time length of one pass, known after the first pass ends.
    private var loopPeriod: UInt64?
    private var lastLogTime: UInt64 = 0
    private var framesThisPass: UInt64 = 0
    /// `undecodableFrames` when the current pass started.
    private var undecodableBeforePass: UInt64 = 0
    /// Frames in one pass, known after the first pass ends.
    private var framesPerPass: UInt64 = 0
    private var ordinal: UInt64 = 0
    /// Issues the reader had found when the file was opened (a crash-truncated tail, say):
    /// known before the first frame, so not damage found while replaying.
    private var issuesAtOpen = 0
    private var loopFailure: String?

    /// Damage found while replaying (chunks that no longer read back, a loop that could not
    /// restart): the file changed or rotted under us and frames were lost.
    public var damageCount: Int { max(0, (reader?.mcap.issues.count ?? issuesAtOpen) - issuesAtOpen) + (loopFailure == nil ? 0 : 1) }

    /// The latest damage found while replaying, in one line.
    public var problem: String? {
        if let loopFailure { return loopFailure }
        guard let issues = reader?.mcap.issues, issues.count > issuesAtOpen, let last = issues.last else { return nil }
        return "recording damaged while replaying: \(last)"
    }

    /// What was wrong with the file when it was opened (already skipped over), one line per issue.
    public var issuesFoundAtOpen: [String] { (reader?.mcap.issues.prefix(issuesAtOpen) ?? []).map { "\($0)" } }

    /// Opens `path` and selects topics; throws if there is nothing to replay.
    public init(path: String, options: ReplayOptions = ReplayOptions()) throws(ReplayError) {
        switch options.rate {
        case .maximum: rate = 0
        case let .paced(r):
            guard r.isFinite, r > 0 else { throw ReplayError.invalidOption("replay rate must be a positive number, got \(r)") }
            rate = r
        }
        guard options.startOffsetSeconds.isFinite, options.startOffsetSeconds >= 0, options.startOffsetSeconds < 1e9 else {
            throw ReplayError.invalidOption("start offset must be zero or more seconds, got \(options.startOffsetSeconds)")
        }
        let reader: FrameRecordingReader
        do { reader = try FrameRecordingReader(path: path) } catch { throw ReplayError.recording(error) }

        let camera: String
        if let wanted = options.cameraTopic {
            guard reader.imageChannels.contains(where: { $0.topic == wanted }) else {
                throw ReplayError.topic("\(path): no foxglove.RawImage channel with topic \(wanted)")
            }
            camera = wanted
        } else {
            guard let found = reader.firstTopic(withEncoding: "rgb8") else {
                let damage = reader.mcap.issues.first.map { " (\($0))" } ?? ""
                throw ReplayError.topic("\(path): no foxglove.RawImage rgb8 camera channel to replay\(damage)")
            }
            camera = found
        }
        var label: String?
        if options.loadLabels {
            if let wanted = options.labelTopic {
                guard reader.imageChannels.contains(where: { $0.topic == wanted }) else {
                    throw ReplayError.topic("\(path): no foxglove.RawImage channel with topic \(wanted)")
                }
                label = wanted
            } else {
                label = reader.firstTopic(withEncoding: "mono8", excluding: [camera])
            }
        }
        guard let first = try? reader.images(topic: camera).next() else {
            throw ReplayError.topic("\(path): topic \(camera) has no readable frames")
        }
        let offset = UInt64((options.startOffsetSeconds * 1e9).rounded())
        let (start, overflow) = first.logTime.addingReportingOverflow(offset)
        startLogTime = overflow ? UInt64.max : start
        // At least one playable frame per pass, or looping could spin without delivering.
        var framesAfterStart = false
        var playable = false
        if var frames = try? reader.frameMessages(cameraTopic: camera, labelTopic: nil, startTime: startLogTime) {
            while let next = frames.next() {
                framesAfterStart = true
                if ReplaySource.playable(next.camera.data) != nil {
                    playable = true
                    break
                }
            }
        }
        guard framesAfterStart else {
            throw ReplayError.invalidOption("start offset \(options.startOffsetSeconds) s is past the last frame of \(camera)")
        }
        guard playable else {
            throw ReplayError.topic("\(path): no playable rgb8/bgr8/mono8/yuyv frame on \(camera) at or after the start offset")
        }

        self.reader = reader
        self.issuesAtOpen = reader.mcap.issues.count
        self.options = options
        self.cameraTopic = camera
        self.labelTopic = label
        self.name = "replay:\(path)"
    }

    public func nextFrame(into frame: inout Frame, timeout: Duration) throws -> FrameResult {
        guard reader != nil else { return .endOfStream }
        let limit = monotonicNanos() &+ timeoutNanos(timeout)
        while true {
            if rate == 0 {
                guard let next = peek() else { return .endOfStream }
                take()
                if deliver(next, into: &frame) { return .frame }
                continue
            }
            let now = monotonicNanos()
            if anchorNanos == nil { anchorNanos = now }
            catchUpWholeLoops(now: now)
            guard let candidate = peek() else { return .endOfStream }
            var chosen: FrameMessages?
            // Newest due frame wins; anything due before it was missed by the consumer.
            while let next = peek(), deadline(of: next) <= now {
                if chosen != nil { skippedFrames += 1 }
                chosen = next
                take()
                catchUpWholeLoops(now: now)  // a pass wrap may still leave us passes behind
            }
            if chosen == nil {
                let due = deadline(of: candidate)
                if due > limit {
                    sleep(until: limit)
                    return .timeout
                }
                sleep(until: due)
                chosen = candidate
                take()
            }
            if let chosen, deliver(chosen, into: &frame) { return .frame }
            if monotonicNanos() >= limit { return .timeout }  // only undecodable frames were due
        }
    }

    public func close() {
        reader = nil
        iterator = nil
        lookahead = nil
    }

    // MARK: - Stream of frames (with looping)

    /// The next frame to deliver, restarting the recording at its end when looping.
    private func peek() -> FrameMessages? {
        if let lookahead { return lookahead }
        guard let reader else { return nil }
        if iterator == nil {
            iterator = try? reader.frameMessages(cameraTopic: cameraTopic, labelTopic: labelTopic, startTime: startLogTime)
        }
        if let next = iterator?.next() {
            lookahead = next
            return next
        }
        // A pass in which every frame was undecodable would loop forever without a frame.
        guard options.loop, framesThisPass > 0, undecodableFrames - undecodableBeforePass < framesThisPass else {
            if options.loop, loopFailure == nil {
                loopFailure = framesThisPass == 0
                    ? "recording damaged while replaying: the pass had no readable frame, the loop cannot restart"
                    : "recording damaged while replaying: no frame of the pass could be decoded, the loop cannot restart"
            }
            return nil
        }
        undecodableBeforePass = undecodableFrames
        // End of a pass: the next pass starts one typical frame interval after the last frame.
        if loopPeriod == nil {
            let span = lastLogTime - startLogTime
            let interval = framesThisPass > 1 ? span / (framesThisPass - 1) : 33_333_333
            loopPeriod = max(1, span + max(interval, 1))
            framesPerPass = framesThisPass
        }
        completedLoops += 1
        framesThisPass = 0
        do {
            iterator = try reader.frameMessages(cameraTopic: cameraTopic, labelTopic: labelTopic, startTime: startLogTime)
        } catch {
            iterator = nil
            if loopFailure == nil { loopFailure = "recording damaged while replaying: cannot restart the loop: \(error)" }
            return nil
        }
        guard let next = iterator?.next() else {
            if loopFailure == nil {
                let found = reader.mcap.issues.count > issuesAtOpen ? reader.mcap.issues.last.map { " (\($0))" } ?? "" : ""
                loopFailure = "recording damaged while replaying: the next pass has no readable frame\(found)"
            }
            return nil
        }
        lookahead = next
        return next
    }

    /// Consumes the frame `peek()` returned.
    private func take() {
        guard let frame = lookahead else { return }
        lookahead = nil
        lastLogTime = max(lastLogTime, frame.camera.logTime)
        framesThisPass += 1
        ordinal += 1
    }

    /// Log time shifted by the passes already played, so time never runs backwards.
    private func virtualTime(_ logTime: UInt64) -> UInt64 {
        logTime &+ completedLoops &* (loopPeriod ?? 0)
    }

    private func deadline(of frame: FrameMessages) -> UInt64 {
        let elapsed = virtualTime(frame.camera.logTime) &- startLogTime
        let scaled = rate == 1.0 ? elapsed : UInt64(min(Double(elapsed) / rate, 1.8e19))
        return (anchorNanos ?? 0) &+ scaled
    }

    /// A consumer more than a whole pass behind jumps to the pass that is playing now
    /// instead of decoding every frame it missed.
    private func catchUpWholeLoops(now: UInt64) {
        guard options.loop, let period = loopPeriod, let anchor = anchorNanos, now > anchor else { return }
        let elapsedLog = rate == 1.0 ? now - anchor : UInt64(min(Double(now - anchor) * rate, 1.8e19))
        let pass = elapsedLog / period
        guard pass > completedLoops + 1 else { return }
        let missed = (framesPerPass - min(framesThisPass, framesPerPass)) + framesPerPass * (pass - completedLoops - 1)
        skippedFrames += missed
        ordinal += missed
        completedLoops = pass
        framesThisPass = 0
        undecodableBeforePass = undecodableFrames
        iterator = nil
        lookahead = nil
    }

    // MARK: - Decoding into the caller's frame

    private func deliver(_ messages: FrameMessages, into frame: inout Frame) -> Bool {
        let sequence = ordinal - 1
        guard let (image, range, format) = ReplaySource.playable(messages.camera.data) else {
            undecodableFrames += 1
            return false
        }
        let width = Int(image.width), height = Int(image.height), step = Int(image.step)
        frame.reshape(width: width, height: height, format: format)
        copyRows(from: messages.camera.data, range: range, step: step, rowBytes: frame.stride, rows: height,
                 into: &frame.pixels)
        frame.sequence = sequence
        let time = virtualTime(messages.camera.logTime)
        frame.monotonicNanos = time
        frame.realtimeNanos = time
        frame.isReplayed = true

        var labels = frame.labels ?? []
        frame.labels = nil
        if let labelMessage = messages.labels, let (map, mapRange) = try? RawImage.decodeFields(labelMessage.data),
           map.encoding == "mono8", map.width == image.width, map.height == image.height,
           ReplaySource.fits(map, mapRange, bytesPerPixel: 1) {
            if labels.count != width * height {
                labels.removeAll(keepingCapacity: true)
                labels.append(contentsOf: repeatElement(0, count: width * height))
            }
            copyRows(from: labelMessage.data, range: mapRange, step: Int(map.step), rowBytes: width, rows: height,
                     into: &labels)
            frame.labels = labels
        }
        deliveredFrames += 1
        return true
    }

    /// The image fields, pixel range and format of a camera message we can show.
    private static func playable(_ message: [UInt8]) -> (RawImage, Range<Int>, PixelFormat)? {
        guard let (image, range) = try? RawImage.decodeFields(message), let format = pixelFormat(image.encoding),
              fits(image, range, bytesPerPixel: format.bytesPerPixel) else { return nil }
        return (image, range, format)
    }

    private static func pixelFormat(_ encoding: String) -> PixelFormat? {
        switch encoding {
        case "rgb8": .rgb8
        case "bgr8": .bgr8
        case "mono8", "8UC1": .mono8
        case "yuyv", "yuv422_yuy2": .yuyv
        default: nil
        }
    }

    /// Geometry is sane and the data covers every row.
    private static func fits(_ image: RawImage, _ range: Range<Int>, bytesPerPixel: Int) -> Bool {
        let width = UInt64(image.width), height = UInt64(image.height), step = UInt64(image.step)
        guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15, step >= width * UInt64(bytesPerPixel) else {
            return false
        }
        return UInt64(range.count) >= step * (height - 1) + width * UInt64(bytesPerPixel)
    }

    private func copyRows(from source: [UInt8], range: Range<Int>, step: Int, rowBytes: Int, rows: Int,
                          into destination: inout [UInt8]) {
        source.withUnsafeBytes { src in
            destination.withUnsafeMutableBytes { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                if step == rowBytes {
                    (d).copyMemory(from: s + range.lowerBound, byteCount: rowBytes * rows)
                } else {
                    for row in 0..<rows {
                        (d + row * rowBytes).copyMemory(from: s + range.lowerBound + row * step, byteCount: rowBytes)
                    }
                }
            }
        }
    }

    // MARK: - Clock

    private func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private func timeoutNanos(_ timeout: Duration) -> UInt64 {
        let (seconds, attoseconds) = timeout.components
        guard seconds >= 0 else { return 0 }
        if seconds > 1_000_000_000 { return UInt64(1_000_000_000) * 1_000_000_000 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// Sleeps to an absolute CLOCK_MONOTONIC deadline (no drift from wake-up latency).
    private func sleep(until deadline: UInt64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}
