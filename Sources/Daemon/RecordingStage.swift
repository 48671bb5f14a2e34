import Mixture
import Recording
import Sensors

/// The stage of `moeseg record`: writes every frame the pipeline takes to MCAP and, with
/// results, runs and publishes the mixture as the daemon does and records what it published.
///
/// A write error (disk full, file size limit) ends the run: `stopReason` tells the pipeline,
/// which stops, and the daemon exits with status 1. Whatever complete chunks reached the file
/// before stay readable (`moeseg recover` rewrites them into an indexed file). With a split
/// policy the recording goes on in `RecordingSplit.partPath` files, switching between frames.
public final class RecordingStage: FrameStage {
    private let writer: FrameRecordingWriter
    private let inner: MixtureStage?
    private let logger: (String) -> Void
    private let info: RecordingInfo
    private let basePath: String
    private let split: RecordingSplit?
    private var partStartTime: UInt64?
    private var otherFailure: String?
    private var closed = false
    /// Frames written.
    public private(set) var framesWritten: UInt64 = 0
    /// The files written so far, in order (one unless splitting).
    public private(set) var paths: [String]

    /// Creates the first file (`path`, or its part 0 with `split`) and writes `info` into it;
    /// `inner` (the mixture) gets a results recorder on the same writer under `stream`.
    public init(path: String, split: RecordingSplit?, info: RecordingInfo, inner: MixtureStage?, stream: String,
                logger: @escaping (String) -> Void) throws(MCAPError) {
        let first = split == nil ? path : RecordingSplit.partPath(base: path, index: 0)
        writer = try FrameRecordingWriter(path: first)
        basePath = path
        paths = [first]
        self.split = split
        self.info = info
        self.inner = inner
        self.logger = logger
        try writer.addRecordingInfo(partInfo())
        inner?.recorder = ResultRecorder(writer: writer, stream: stream)
    }

    /// The recording metadata of the current file; parts also say which part they are.
    private func partInfo() -> RecordingInfo {
        guard split != nil else { return info }
        var part = info
        part.extra["split_part"] = String(paths.count - 1)
        part.extra["split_base"] = basePath
        if paths.count > 1 { part.extra["split_previous"] = paths[paths.count - 2] }
        return part
    }

    public func apply(step: BudgetStep) { inner?.apply(step: step) }

    public func infer(_ frame: Frame) throws -> FrameScores {
        try inner?.infer(frame) ?? FrameScores()
    }

    public func publish(frame: Frame, timing: FrameTiming, verdict: OODVerdict, step: BudgetStep) {
        guard stopReason == nil else { return }
        let logTime = timing.captureRealtime(of: frame)
        do {
            if let split, split.needsNewPart(partBytes: writer.currentFileBytes, partStartTime: partStartTime, logTime: logTime) {
                try startNextPart()
            }
            if partStartTime == nil { partStartTime = logTime }
            try frame.pixels.withUnsafeBytes { raw in
                try writer.addCameraFrame(pixels: raw, width: frame.width, height: frame.height, step: frame.stride,
                                          encoding: frame.format.rawValue, captureTimeNanos: logTime)
            }
            if let labels = frame.labels {
                try labels.withUnsafeBytes { raw in
                    try writer.addLabelMap(labels: raw, width: frame.width, height: frame.height, captureTimeNanos: logTime)
                }
            }
            framesWritten += 1
        } catch {
            if writer.mcap.failure == nil { otherFailure = "\(error)" }
            return
        }
        inner?.publish(frame: frame, timing: timing, verdict: verdict, step: step)
    }

    private func startNextPart() throws(MCAPError) {
        let next = RecordingSplit.partPath(base: basePath, index: paths.count)
        try writer.continueInNewFile(path: next)
        paths.append(next)
        partStartTime = nil
        try writer.addRecordingInfo(partInfo())
        inner?.recordMeta()
        logger("recording continues in \(next) after \(framesWritten) frames")
    }

    public func publish(status: PipelineStatus) {
        guard stopReason == nil else { return }
        inner?.publish(status: status)
    }

    public func thresholdsChanged(_ thresholds: OODThresholds) { inner?.thresholdsChanged(thresholds) }

    public func service() { inner?.service() }

    /// Why the run must end: the first write error, said with what it cost. Nil while all is well.
    public var stopReason: String? {
        guard let failure else { return nil }
        return "recording stopped after \(framesWritten) frames: \(failure); the complete chunks before it are readable "
            + "(moeseg recover makes an indexed copy)"
    }

    public func close() {
        guard !closed else { return }
        closed = true
        inner?.close()
        do throws(MCAPError) { try writer.close() } catch {
            if writer.mcap.failure == nil, otherFailure == nil { otherFailure = "cannot finish the recording: \(error)" }
        }
    }

    /// The first error, if writing failed.
    public var failure: String? {
        if let failure = writer.mcap.failure { return "\(failure)" }
        if let otherFailure { return otherFailure }
        return inner?.recorder?.failure.map { "\($0)" }
    }
}
