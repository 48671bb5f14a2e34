import Daemon
import Foundation
import Logging
import Mixture
import Sensors
import Synchronization
import Testing

/// A camera that fails: throws after `framesBeforeFailure` frames, and refuses to reopen for
/// the first `failedOpens` attempts (a device that went away and comes back).
final class FlakyCamera: FrameSource, @unchecked Sendable {
    let name = "flaky:test"
    private var delivered = 0
    private let framesBeforeFailure: Int
    private var sequence: UInt64

    struct Unplugged: Error, CustomStringConvertible {
        var description: String { "ENODEV (test)" }
    }

    init(framesBeforeFailure: Int, firstSequence: UInt64) {
        self.framesBeforeFailure = framesBeforeFailure
        self.sequence = firstSequence
    }

    func nextFrame(into frame: inout Frame, timeout: Duration) throws -> FrameResult {
        if delivered >= framesBeforeFailure { throw Unplugged() }
        usleep(5_000)
        delivered += 1
        frame.reshape(width: 16, height: 8, format: .rgb8)
        frame.sequence = sequence
        sequence += 1
        frame.monotonicNanos = monotonicNow()
        frame.realtimeNanos = realtimeNow()
        return .frame
    }

    func close() {}
}

/// Records what the pipeline asked of it; `busyNanos` of spinning per frame stands in for a model.
final class CountingStage: FrameStage, @unchecked Sendable {
    let statuses = Mutex<[PipelineStatus]>([])
    let frames = Mutex<[UInt64]>([])
    let steps = Mutex<[BudgetStep]>([])
    let thresholds = Mutex<[OODThresholds]>([])
    let busyNanos = Atomic<UInt64>(0)
    let closed = Atomic<Bool>(false)

    func apply(step: BudgetStep) { steps.withLock { $0.append(step) } }

    func infer(_ frame: Frame) throws -> FrameScores {
        let end = monotonicNow() + busyNanos.load(ordering: .relaxed)
        while monotonicNow() < end {}
        return FrameScores(meanMutualInformation: 0.01)
    }

    func publish(frame: Frame, timing: FrameTiming, verdict: OODVerdict, step: BudgetStep) {
        frames.withLock { $0.append(timing.sequence) }
    }

    func publish(status: PipelineStatus) { statuses.withLock { $0.append(status) } }
    func thresholdsChanged(_ new: OODThresholds) { thresholds.withLock { $0.append(new) } }
    func service() {}
    func close() { closed.store(true, ordering: .releasing) }
}

@Suite("Pipeline", .serialized)
struct PipelineTests {
    static let logger: Logger = {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }()

    func options(deadlineMs: UInt64 = 100) -> PipelineOptions {
        var options = PipelineOptions(budget: BudgetPolicy(deadlineNanos: deadlineMs * 1_000_000, degradeAfter: 2,
                                                            recoverAfter: 3, maxStride: 3),
                                      thresholds: OODThresholds(meanMutualInformation: 0.5))
        options.statusIntervalNanos = 100_000_000
        options.reopenBackoffNanos = 20_000_000
        options.reopenBackoffMaxNanos = 80_000_000
        return options
    }

    func wait(until condition: () -> Bool, seconds: Double = 20) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end, !condition() { usleep(10_000) }
    }

    @Test func unavailableSourceIsReportedAndReopenedWithBackoff() throws {
        let opens = Atomic<Int>(0)
        let stage = CountingStage()
        // The first camera dies after 10 frames; two reopen attempts fail; the third camera streams.
        let pipeline = Pipeline(options: options(), source: FlakyCamera(framesBeforeFailure: 10, firstSequence: 0),
                                reopen: {
                                    let attempt = opens.add(1, ordering: .relaxed).newValue
                                    if attempt <= 2 { throw FlakyCamera.Unplugged() }
                                    return FlakyCamera(framesBeforeFailure: 1_000_000, firstSequence: 1000)
                                }, stage: stage, logger: Self.logger)
        try pipeline.start()
        wait { stage.frames.withLock { $0.count } >= 30 }
        pipeline.requestStop()
        pipeline.join()
        let states = stage.statuses.withLock { $0.map(\.sourceState) }
        #expect(states.contains(.unavailable), "\(states)")
        #expect(states.last == .streaming || states.contains(.streaming))
        #expect(opens.load(ordering: .relaxed) == 3)
        // Pipeline sequence numbers have no gaps across the outage.
        let sequences = stage.frames.withLock { $0 }
        #expect(sequences == Array(0..<UInt64(sequences.count)))
        let closed = stage.closed.load(ordering: .acquiring)
        #expect(closed)
        #expect(pipeline.isFinished)
    }

    @Test func overrunsDegradeAndRecoveryRestores() throws {
        let stage = CountingStage()
        stage.busyNanos.store(30_000_000, ordering: .relaxed)  // 30 ms per frame against a 10 ms deadline
        let pipeline = Pipeline(options: options(deadlineMs: 10),
                                source: FlakyCamera(framesBeforeFailure: 1_000_000, firstSequence: 0),
                                reopen: { throw FlakyCamera.Unplugged() }, stage: stage, logger: Self.logger)
        try pipeline.start()
        wait { stage.steps.withLock { $0.contains(.everyKth(3)) } }
        let degraded = stage.steps.withLock { $0 }
        #expect(degraded == [.full, .noRoutingSamples, .essentialMaps, .everyKth(2), .everyKth(3)])
        // Keep the load until a status report shows the bottom rung (reports come every 100 ms).
        wait { stage.statuses.withLock { $0.contains { $0.mode == "every_3th_frame" && $0.framesSkippedByBudget > 0 } } }
        stage.busyNanos.store(0, ordering: .relaxed)
        wait { stage.steps.withLock { $0.last == .full } }
        pipeline.requestStop()
        pipeline.join()
        let steps = stage.steps.withLock { $0 }
        #expect(Array(steps.suffix(4)) == [.everyKth(2), .essentialMaps, .noRoutingSamples, .full], "\(steps)")
        let statuses = stage.statuses.withLock { $0 }
        #expect(statuses.contains { $0.mode == "every_3th_frame" && $0.framesSkippedByBudget > 0 })
        #expect(statuses.contains { $0.deadlineMisses > 0 })
    }

    @Test func thresholdReloadReachesTheStageBetweenFrames() throws {
        let stage = CountingStage()
        let pipeline = Pipeline(options: options(), source: FlakyCamera(framesBeforeFailure: 1_000_000, firstSequence: 0),
                                reopen: { throw FlakyCamera.Unplugged() }, stage: stage, logger: Self.logger)
        try pipeline.start()
        wait { stage.frames.withLock { $0.count } >= 3 }
        pipeline.reload(thresholds: OODThresholds(meanMutualInformation: 0.001))
        wait { stage.thresholds.withLock { !$0.isEmpty } }
        wait { pipeline.status.isOOD }  // 0.01 > 0.001 from now on: OOD after 3 frames
        pipeline.requestStop()
        pipeline.join()
        #expect(stage.thresholds.withLock { $0 } == [OODThresholds(meanMutualInformation: 0.001)])
        #expect(pipeline.status.isOOD)
    }

    @Test func maxFramesStopsThePipeline() throws {
        var opts = options()
        opts.maxFrames = 7
        let stage = CountingStage()
        let pipeline = Pipeline(options: opts, source: FlakyCamera(framesBeforeFailure: 1_000_000, firstSequence: 0),
                                reopen: { throw FlakyCamera.Unplugged() }, stage: stage, logger: Self.logger)
        try pipeline.start()
        wait { pipeline.isFinished }
        pipeline.join()
        #expect(stage.frames.withLock { $0.count } == 7)
        #expect(pipeline.framesPublished == 7)
    }
}
