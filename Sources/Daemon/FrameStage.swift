import Mixture
import Sensors

/// The state of the frame source, as published in every status message.
public enum SourceStatus: UInt8, Sendable, CustomStringConvertible {
    /// Opening, no frame yet.
    case starting
    /// Frames arrive.
    case streaming
    /// Open, but no frame for longer than the stall timeout.
    case stalled
    /// Failed or went away; being reopened with backoff.
    case unavailable
    /// A recording ended and the daemon was told not to loop.
    case ended

    public var description: String {
        switch self {
        case .starting: "starting"
        case .streaming: "streaming"
        case .stalled: "stalled"
        case .unavailable: "unavailable"
        case .ended: "ended"
        }
    }
}

/// What the pipeline knows about one processed frame besides the frame itself.
public struct FrameTiming: Sendable {
    /// Pipeline sequence number of this published frame (0, 1, 2, ... without gaps).
    public var sequence: UInt64
    /// When the capture thread received the frame (CLOCK_MONOTONIC, ns).
    public var receivedNanos: UInt64
    /// When inference started and ended (CLOCK_MONOTONIC, ns).
    public var inferenceStartNanos: UInt64
    public var inferenceEndNanos: UInt64
}

extension FrameTiming {
    /// Wall-clock capture time of a frame: its own stamp for live frames; for replayed frames
    /// (whose stamps are recorded times) the moment the pipeline received it.
    public func captureRealtime(of frame: Frame) -> UInt64 {
        guard frame.isReplayed else { return frame.realtimeNanos }
        return realtimeNow() &- (monotonicNow() &- receivedNanos)
    }
}

/// One status report (published every interval, sent to systemd as STATUS=, shown by --status-line).
public struct PipelineStatus: Sendable, Equatable {
    /// Frames published per second over the last interval.
    public var framesPerSecond: Double = 0
    /// Frame latency percentiles over the last interval, milliseconds.
    public var latencyP50Ms: Double = 0
    public var latencyP90Ms: Double = 0
    public var latencyP99Ms: Double = 0
    /// Frames published since start.
    public var framesPublished: UInt64 = 0
    /// Frames the source delivered that were replaced by a newer one before inference took them,
    /// plus frames the source itself skipped (sequence gaps, late replay frames).
    public var framesDropped: UInt64 = 0
    /// Frames left out on purpose by the every-k-th-frame budget steps.
    public var framesSkippedByBudget: UInt64 = 0
    /// Published frames whose latency exceeded the deadline.
    public var deadlineMisses: UInt64 = 0
    /// Frames the model failed on (logged, not published).
    public var inferenceErrors: UInt64 = 0
    /// The budget step, e.g. `full` or `every_2th_frame`.
    public var mode: String = BudgetStep.full.description
    /// Rung of the budget ladder (0 = full).
    public var budgetLevel = 0
    public var sourceState: SourceStatus = .starting
    /// Why the source is unavailable, or the latest damage found in a recording; "" when nothing is wrong.
    public var sourceDetail = ""
    /// The debounced OOD state of the last frame.
    public var isOOD = false
    /// Seconds since the pipeline started.
    public var uptimeSeconds: Double = 0

    public init() {}

    /// One human-readable line (sd_notify STATUS=, logs, --status-line).
    public var line: String {
        func ms(_ v: Double) -> String { String(format1: v) }
        return "fps \(String(format1: framesPerSecond)) latency p50/p90/p99 \(ms(latencyP50Ms))/\(ms(latencyP90Ms))/\(ms(latencyP99Ms)) ms"
            + " frames \(framesPublished) dropped \(framesDropped) skipped \(framesSkippedByBudget)"
            + " misses \(deadlineMisses) mode \(mode) source \(sourceState)\(sourceDetail.isEmpty ? "" : " (\(sourceDetail))")"
            + (isOOD ? " OOD" : "")
    }
}

extension String {
    /// A number with one decimal, without Foundation.
    init(format1 value: Double) {
        guard value.isFinite else { self = "\(value)"; return }
        let tenths = Int((abs(value) * 10).rounded())
        self = (value < 0 ? "-" : "") + "\(tenths / 10).\(tenths % 10)"
    }
}

/// The model-and-publish side of the pipeline, called only from the inference thread.
/// Production: the mixture runner feeding the ZeroMQ publisher (and the recorder).
public protocol FrameStage: AnyObject {
    /// Applies a budget step (routing samples, maps) to the following frames.
    func apply(step: BudgetStep)
    /// Runs the model on `frame` and returns its OOD scores; the result stays available to `publish`.
    func infer(_ frame: Frame) throws -> FrameScores
    /// Publishes the result of the last `infer` with its verdict.
    func publish(frame: Frame, timing: FrameTiming, verdict: OODVerdict, step: BudgetStep)
    /// Publishes a status report.
    func publish(status: PipelineStatus)
    /// The OOD thresholds changed (SIGHUP): re-announce them (meta).
    func thresholdsChanged(_ thresholds: OODThresholds)
    /// Called on every loop turn, frame or not, e.g. to answer new subscribers.
    func service()
    /// Flushes and releases sockets and files; the stage is not used afterwards.
    func close()
    /// Non-nil when the stage cannot go on (e.g. its recording failed to write): the pipeline
    /// stops and the run ends with this as its fatal error.
    var stopReason: String? { get }
}

extension FrameStage {
    public var stopReason: String? { nil }
}
