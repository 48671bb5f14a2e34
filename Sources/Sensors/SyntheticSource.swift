import Glibc
import Scenes

/// Why a synthetic source could not be created.
public enum SyntheticSourceError: Error, Equatable, CustomStringConvertible {
    /// The frame rate is not a positive finite number up to 1000 frames/s.
    case invalidRate(Double)

    public var description: String {
        switch self {
        case let .invalidRate(rate): "synthetic source rate must be 0.1-1000 frames/s, got \(rate)"
        }
    }
}

/// The procedural scene generator as a live camera: frames with ground-truth labels.
///
/// Paced mode (`rate` frames/s) behaves like a sensor: frame k is due at start + k / rate on
/// CLOCK_MONOTONIC (absolute deadlines, so pacing never drifts), the scene shows time
/// k / rate, and a consumer that falls behind gets the newest due frame, with a gap in the
/// sequence numbers. With `rate: nil` every request renders the next frame at once and frame k
/// shows the drive at k / `SceneRenderer.nominalFrameRate`, so the output only depends on
/// (domain, seed, size).
public final class SyntheticSource: FrameSource {
    public let name: String
    /// Frames per second in paced mode; nil renders as fast as frames are requested.
    public let rate: Double?
    /// Paced rates accepted: slower than 0.1 frames/s the frame deadlines in nanoseconds would
    /// soon overflow 64 bits (5e-11 frames/s did at the second frame).
    public static let rateRange: ClosedRange<Double> = 0.1...1000
    /// The scene's camera (intrinsics and mounting).
    public var camera: SceneCamera { renderer.camera }

    private let renderer: SceneRenderer
    private var nextSequence: UInt64 = 0
    private var startNanos: UInt64?
    private var closed = false

    /// A source rendering `domain` with `seed` at width x height, paced at `rate` frames/s (or unpaced).
    public init(domain: SceneDomain, seed: UInt64, width: Int, height: Int, rate: Double?) throws {
        if let rate, !(rate.isFinite && rate >= SyntheticSource.rateRange.lowerBound && rate <= SyntheticSource.rateRange.upperBound) {
            throw SyntheticSourceError.invalidRate(rate)
        }
        renderer = try SceneRenderer(domain: domain, seed: seed, width: width, height: height)
        self.rate = rate
        name = "synthetic:\(domain.rawValue)"
    }

    public func nextFrame(into frame: inout Frame, timeout: Duration) throws -> FrameResult {
        if closed { return .endOfStream }
        guard let rate else {
            let sequence = nextSequence
            render(sequence: sequence, sceneTime: nil, captureNanos: MonotonicClock.nanoseconds(), into: &frame)
            nextSequence += 1
            return .frame
        }
        let now = MonotonicClock.nanoseconds()
        let start: UInt64
        if let startNanos { start = startNanos } else { start = now; startNanos = now }
        let period = 1e9 / rate
        // Newest frame whose deadline has passed; anything older was missed.
        let newestDue = UInt64((Double(now - start) / period).rounded(.down))
        var sequence = nextSequence
        if newestDue >= sequence {
            sequence = newestDue
        } else {
            let deadline = start + UInt64((Double(sequence) * period).rounded())
            let timeoutNanos = Self.nanoseconds(timeout)
            if deadline - now > timeoutNanos {
                MonotonicClock.sleep(until: now + timeoutNanos)
                return .timeout
            }
            MonotonicClock.sleep(until: deadline)
        }
        let deadline = start + UInt64((Double(sequence) * period).rounded())
        render(sequence: sequence, sceneTime: Double(sequence) / rate, captureNanos: deadline, into: &frame)
        nextSequence = sequence + 1
        return .frame
    }

    public func close() { closed = true }

    private func render(sequence: UInt64, sceneTime: Double?, captureNanos: UInt64, into frame: inout Frame) {
        let camera = renderer.camera
        let pixels = camera.width * camera.height
        frame.reshape(width: camera.width, height: camera.height, format: .rgb8)
        var labels = frame.labels ?? []
        frame.labels = nil  // keep the array uniquely referenced so it is reused in place
        if labels.count != pixels {
            labels.removeAll(keepingCapacity: true)
            labels.append(contentsOf: repeatElement(0, count: pixels))
        }
        frame.pixels.withUnsafeMutableBufferPointer { rgb in
            labels.withUnsafeMutableBufferPointer { label in
                if let sceneTime {
                    renderer.render(time: sceneTime, rgb: rgb, labels: label)
                } else {
                    renderer.render(frame: Int(clamping: sequence), rgb: rgb, labels: label)
                }
            }
        }
        frame.labels = labels
        frame.sequence = sequence
        frame.monotonicNanos = captureNanos
        // Realtime stamp of the same instant: now on the wall clock, minus the age of the frame.
        let monoNow = MonotonicClock.nanoseconds()
        let realNow = MonotonicClock.realtimeNanoseconds()
        frame.realtimeNanos = realNow &- (monoNow &- min(captureNanos, monoNow))
        frame.isReplayed = false
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= 1_000_000_000 { return UInt64(1_000_000_000) * 1_000_000_000 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

/// CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds, and absolute sleeps.
enum MonotonicClock {
    static func nanoseconds() -> UInt64 { read(CLOCK_MONOTONIC) }

    static func realtimeNanoseconds() -> UInt64 { read(CLOCK_REALTIME) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Sleeps until the monotonic clock reaches `deadline` (absolute, so interruptions do not drift).
    static func sleep(until deadline: UInt64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}
