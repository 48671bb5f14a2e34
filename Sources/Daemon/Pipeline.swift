import Glibc
import Logging
import Mixture
import Sensors
import Synchronization

/// Settings of the pipeline threads (from the config and command line).
public struct PipelineOptions: Sendable {
    /// CPUs to pin the capture and inference threads to; empty = no pinning.
    public var cpus: [Int] = []
    /// The budget controller's policy.
    public var budget: BudgetPolicy
    /// OOD thresholds and debounce.
    public var thresholds: OODThresholds
    public var enterFrames = 3
    public var exitFrames = 10
    /// Status report period.
    public var statusIntervalNanos: UInt64 = 1_000_000_000
    /// Reopen backoff: first wait and cap.
    public var reopenBackoffNanos: UInt64 = 250_000_000
    public var reopenBackoffMaxNanos: UInt64 = 4_000_000_000
    /// A source without frames for this long is reported stalled.
    public var stallTimeoutNanos: UInt64 = 2_000_000_000
    /// Stop after this many published frames (nil = run until stopped).
    public var maxFrames: UInt64?
    /// Treat the end of a recording as the end of the run (else it is an error to reopen from).
    public var exitAtEndOfStream = true
    /// Hand every frame to inference (the capture thread waits for it): for replays and
    /// synthetic scenes run as fast as possible, where no frame should be lost.
    public var lossless = false

    /// Options with the given budget and thresholds; the rest as documented above.
    public init(budget: BudgetPolicy, thresholds: OODThresholds) {
        self.budget = budget
        self.thresholds = thresholds
    }
}

/// The capture → inference → publish pipeline on two dedicated threads.
///
/// The capture thread reads the source into its own buffer and swaps it into a `FrameMailbox`
/// (it never waits for inference; displaced frames are counted as drops). The inference thread
/// takes the newest frame, asks the budget controller whether to process it, runs the stage,
/// debounces the OOD verdict, publishes, measures the latency against the deadline and
/// publishes a status every interval. Source failures are logged once per outage and the source
/// is reopened with exponential backoff; the pipeline itself only stops when asked, at
/// `maxFrames`, or at the end of a recording.
public final class Pipeline: @unchecked Sendable {
    private let options: PipelineOptions
    private let openSource: @Sendable () throws -> FrameSource
    private let stage: FrameStage
    private let logger: Logger
    private let mailbox = FrameMailbox()
    private var initialSource: FrameSource?

    private let stopRequested = Atomic<Bool>(false)
    private let sourceState = Atomic<UInt8>(SourceStatus.starting.rawValue)
    private let sourceGaps = Atomic<UInt64>(0)
    private let published = Atomic<UInt64>(0)
    private let lastPublishNanos = Atomic<UInt64>(0)
    private let finished = Atomic<Bool>(false)
    private let pendingThresholds = Mutex<OODThresholds?>(nil)
    private let latestStatus = Mutex(PipelineStatus())
    private let fatal = Mutex<String?>(nil)
    private let sourceDetail = Mutex("")

    private var captureThread: DedicatedThread?
    private var inferenceThread: DedicatedThread?

    /// A pipeline over `source` (already open; fail-fast checks happen before) that reopens
    /// with `reopen` after failures, feeding `stage`.
    public init(options: PipelineOptions, source: FrameSource?, reopen: @escaping @Sendable () throws -> FrameSource,
                stage: FrameStage, logger: Logger) {
        self.options = options
        self.initialSource = source
        self.openSource = reopen
        self.stage = stage
        self.logger = logger
    }

    /// Frames published so far.
    public var framesPublished: UInt64 { published.load(ordering: .acquiring) }
    /// CLOCK_MONOTONIC time of the last publish (0 = none yet).
    public var lastPublishTime: UInt64 { lastPublishNanos.load(ordering: .acquiring) }
    /// Whether both threads have ended (after `stop()`, `maxFrames` or the end of a recording).
    public var isFinished: Bool { finished.load(ordering: .acquiring) }
    /// The most recent status report.
    public var status: PipelineStatus { latestStatus.withLock { $0 } }
    /// A fatal error that ended the run, if any.
    public var fatalError: String? { fatal.withLock { $0 } }
    /// The current source state.
    public var currentSourceState: SourceStatus { SourceStatus(rawValue: sourceState.load(ordering: .relaxed)) ?? .starting }

    /// Starts the capture and inference threads.
    public func start() throws(DaemonError) {
        let capture = try DedicatedThread(name: "moeseg-capture", cpus: options.cpus) { [self] in captureLoop() }
        captureThread = capture
        do {
            inferenceThread = try DedicatedThread(name: "moeseg-infer", cpus: options.cpus) { [self] in inferenceLoop() }
        } catch {
            stopRequested.store(true, ordering: .releasing)
            mailbox.close()
            capture.join()
            throw error
        }
    }

    /// Asks both threads to stop after the frame in progress; `join()` waits for them.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        mailbox.close()
    }

    /// Waits for both threads; the stage is closed by then.
    public func join() {
        captureThread?.join()
        inferenceThread?.join()
    }

    /// New OOD thresholds, applied between two frames.
    public func reload(thresholds: OODThresholds) {
        pendingThresholds.withLock { $0 = thresholds }
    }

    // MARK: - Capture thread

    private func setState(_ state: SourceStatus) {
        sourceState.store(state.rawValue, ordering: .relaxed)
    }

    private func setDetail(_ text: String) {
        sourceDetail.withLock { if $0 != text { $0 = text } }
    }

    /// Logs what a recording's reader found wrong when it opened it (what it skipped).
    private func reportDamageAtOpen(_ source: FrameSource) {
        guard let replay = source as? ReplaySource else { return }
        let issues = replay.issuesFoundAtOpen
        guard let first = issues.first else { return }
        logger.warning("source \(source.name) is damaged; playing what is readable: \(first)\(issues.count > 1 ? " (and \(issues.count - 1) more issues)" : "")")
    }

    private var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Sleeps up to `nanos`, waking early when a stop is requested.
    private func pause(_ nanos: UInt64) {
        let end = monotonicNow() &+ nanos
        while !stopping {
            let now = monotonicNow()
            if now >= end { return }
            var slice = timespec(tv_sec: 0, tv_nsec: Int(min(end - now, 50_000_000)))
            nanosleep(&slice, nil)
        }
    }

    private func captureLoop() {
        var buffer = CapturedFrame()
        var source = initialSource
        initialSource = nil
        var backoff = options.reopenBackoffNanos
        var outage = false
        var lastSequence: UInt64?
        var lastFrameNanos = monotonicNow()
        var reportedDamage = 0
        var reportedProblem: String?
        var throttle = LogThrottle(intervalNanos: 10_000_000_000)
        if let source { reportDamageAtOpen(source) }
        // An outage logs once when it starts, publishes `unavailable` and waits out a backoff
        // that doubles up to the configured maximum.
        func waitOutOutage(_ message: @autoclosure () -> String, detail: String) {
            if !outage { logger.warning("\(message())") }
            outage = true
            setState(.unavailable)
            setDetail(detail)
            pause(backoff)
            backoff = min(backoff * 2, options.reopenBackoffMaxNanos)
        }
        while !stopping {
            guard let open = source else {
                do {
                    let opened = try openSource()
                    source = opened
                    lastSequence = nil
                    lastFrameNanos = monotonicNow()
                    reportedDamage = 0
                    reportDamageAtOpen(opened)
                } catch {
                    waitOutOutage("source unavailable: \(error); reopening with backoff", detail: "\(error)")
                }
                continue
            }
            // Lossless: read the next frame only once inference took the last, so its latency
            // counts from when it could start, not from a wait in the mailbox.
            if options.lossless { mailbox.waitUntilEmpty() }
            let result: FrameResult
            do {
                result = try open.nextFrame(into: &buffer.frame, timeout: .milliseconds(100))
            } catch {
                open.close()
                source = nil
                waitOutOutage("source \(open.name) failed: \(error); reopening with backoff", detail: "\(error)")
                continue
            }
            let now = monotonicNow()
            // Damage found while reading (a recording changed or rotted under us): logged and
            // published at once; the run fails when the source ends.
            let damage = open.damageCount
            if damage > reportedDamage {
                reportedDamage = damage
                let text = open.problem ?? "recording damaged while replaying"
                let (allowed, held) = throttle.admit("damage", now: now)
                if allowed {
                    logger.error("source \(open.name): \(text) (\(damage) issue\(damage == 1 ? "" : "s") so far\(held > 0 ? ", \(held) lines held back" : ""))")
                }
                setDetail(text)
            }
            switch result {
            case .frame:
                if outage { logger.notice("source \(open.name) is streaming again") }
                if outage || reportedProblem != nil, reportedDamage == 0 { setDetail("") }
                reportedProblem = nil
                outage = false
                backoff = options.reopenBackoffNanos
                if let last = lastSequence, buffer.frame.sequence > last &+ 1 {
                    sourceGaps.add(buffer.frame.sequence - last - 1, ordering: .relaxed)
                }
                lastSequence = buffer.frame.sequence
                lastFrameNanos = now
                buffer.receivedNanos = now
                setState(.streaming)
                mailbox.put(&buffer, waitForRoom: options.lossless)
            case .timeout:
                // Sources that reopen themselves (V4L2) report the outage instead of throwing.
                if open.state == .unavailable {
                    let reason = open.problem ?? "no reason given"
                    if !outage || reason != reportedProblem {
                        let (allowed, _) = throttle.admit("unavailable", now: now)
                        if allowed || !outage { logger.warning("source \(open.name) unavailable: \(reason); it is reopening") }
                    }
                    reportedProblem = reason
                    outage = true
                    setState(.unavailable)
                    setDetail(reason)
                } else if now &- lastFrameNanos > options.stallTimeoutNanos, currentSourceState == .streaming {
                    logger.warning("source \(open.name) stalled: no frame for \((now &- lastFrameNanos) / 1_000_000) ms")
                    setState(.stalled)
                }
            case .endOfStream:
                if options.exitAtEndOfStream, reportedDamage > 0 {
                    // Frames were lost (and a loop may have been cut short): a failure, so that
                    // Restart=on-failure restarts the daemon rather than treating it as done.
                    let text = "source \(open.name) ended after damage was found while reading it: \(open.problem ?? "recording damaged")"
                    logger.error("\(text)")
                    fatal.withLock { $0 = text }
                    setState(.ended)
                    open.close()
                    mailbox.close()
                    return
                }
                if options.exitAtEndOfStream {
                    logger.notice("source \(open.name) ended")
                    setState(.ended)
                    open.close()
                    mailbox.close()
                    return
                }
                open.close()
                source = nil
                waitOutOutage("source \(open.name) ended unexpectedly; reopening with backoff", detail: "ended unexpectedly")
            }
        }
        source?.close()
        mailbox.close()
    }

    // MARK: - Inference thread

    private func inferenceLoop() {
        var work = CapturedFrame()
        var budget = BudgetController(policy: options.budget)
        var monitor: OODMonitor
        do {
            monitor = try OODMonitor(thresholds: options.thresholds, enterFrames: options.enterFrames,
                                     exitFrames: options.exitFrames)
        } catch {
            fatal.withLock { $0 = "\(error)" }
            requestStop()
            finishInference()
            return
        }
        var window = LatencyWindow()
        var histogram = LatencyHistogram()
        var sequence: UInt64 = 0
        var skipped: UInt64 = 0
        var errors: UInt64 = 0
        var lastError = ""
        var isOOD = false
        let startNanos = monotonicNow()
        var intervalStart = startNanos
        var intervalStartCount: UInt64 = 0
        stage.apply(step: budget.step)

        func report(now: UInt64) {
            let p = window.percentiles([0.5, 0.9, 0.99])
            var status = PipelineStatus()
            let seconds = Double(now &- intervalStart) / 1e9
            status.framesPerSecond = seconds > 0 ? Double(sequence - intervalStartCount) / seconds : 0
            status.latencyP50Ms = Double(p[0]) / 1e6
            status.latencyP90Ms = Double(p[1]) / 1e6
            status.latencyP99Ms = Double(p[2]) / 1e6
            status.framesPublished = sequence
            status.framesDropped = mailbox.droppedFrames + sourceGaps.load(ordering: .relaxed)
            status.framesSkippedByBudget = skipped
            status.deadlineMisses = budget.deadlineMisses
            status.inferenceErrors = errors
            status.mode = budget.step.description
            status.budgetLevel = budget.level
            status.sourceState = currentSourceState
            status.sourceDetail = sourceDetail.withLock { $0 }
            status.isOOD = isOOD
            status.uptimeSeconds = Double(now &- startNanos) / 1e9
            stage.publish(status: status)
            latestStatus.withLock { $0 = status }
            window.reset()
            intervalStart = now
            intervalStartCount = sequence
        }

        while !stopping {
            if let reason = stage.stopReason {
                fatal.withLock { $0 = reason }
                break
            }
            if let thresholds = pendingThresholds.withLock({ pending -> OODThresholds? in
                defer { pending = nil }
                return pending
            }) {
                do {
                    monitor = try OODMonitor(thresholds: thresholds, enterFrames: options.enterFrames,
                                             exitFrames: options.exitFrames)
                    stage.thresholdsChanged(thresholds)
                    logger.notice("OOD thresholds reloaded")
                } catch {
                    logger.error("OOD thresholds not reloaded: \(error)")
                }
            }
            stage.service()
            let got = mailbox.take(&work, timeoutNanos: 20_000_000)
            var now = monotonicNow()
            if now &- intervalStart >= options.statusIntervalNanos { report(now: now) }
            guard got else {
                if mailbox.isClosed { break }
                continue
            }
            guard budget.shouldProcess() else {
                skipped += 1
                continue
            }
            let inferenceStart = monotonicNow()
            let scores: FrameScores
            do {
                scores = try stage.infer(work.frame)
            } catch {
                errors += 1
                let text = "\(error)"
                if text != lastError {
                    logger.error("inference failed on frame \(work.frame.sequence): \(text)")
                    lastError = text
                }
                continue
            }
            let verdict = monitor.update(scores)
            if verdict.changed {
                logger.notice("OOD state \(verdict.isOOD ? "entered" : "left") at frame \(sequence)")
            }
            isOOD = verdict.isOOD
            let timing = FrameTiming(sequence: sequence, receivedNanos: work.receivedNanos,
                                     inferenceStartNanos: inferenceStart, inferenceEndNanos: monotonicNow())
            stage.publish(frame: work.frame, timing: timing, verdict: verdict, step: budget.step)
            now = monotonicNow()
            // Live frames count from capture; replayed stamps are recorded times, so from receipt.
            let origin = !work.frame.isReplayed && work.frame.monotonicNanos <= now && work.frame.monotonicNanos > 0
                ? work.frame.monotonicNanos : work.receivedNanos
            let latency = now &- origin
            window.record(latency)
            histogram.record(latency)
            if let step = budget.record(latencyNanos: latency) {
                stage.apply(step: step)
                logger.notice("budget: mode \(step) (frame latency \(latency / 1_000_000) ms, deadline \(options.budget.deadlineNanos / 1_000_000) ms)")
            }
            sequence += 1
            published.store(sequence, ordering: .releasing)
            lastPublishNanos.store(now, ordering: .releasing)
            if let max = options.maxFrames, sequence >= max {
                logger.info("published \(sequence) frames (--max-frames); stopping")
                break
            }
        }
        report(now: monotonicNow())
        let runSeconds = Double(monotonicNow() &- startNanos) / 1e9
        let summary = "run: \(sequence) frames in \(String(format1: runSeconds)) s (\(String(format1: runSeconds > 0 ? Double(sequence) / runSeconds : 0)) fps), "
            + "latency p50/p90/p99/max-bucket \(String(format1: Double(histogram.percentile(0.5)) / 1e6))/"
            + "\(String(format1: Double(histogram.percentile(0.9)) / 1e6))/\(String(format1: Double(histogram.percentile(0.99)) / 1e6))/"
            + "\(String(format1: Double(histogram.percentile(1.0)) / 1e6)) ms, deadline misses \(budget.deadlineMisses), "
            + "dropped \(mailbox.droppedFrames + sourceGaps.load(ordering: .relaxed)), skipped \(skipped), errors \(errors)"
        logger.info("\(summary)")
        requestStop()
        finishInference()
    }

    private func finishInference() {
        stage.close()
        finished.store(true, ordering: .releasing)
    }
}
