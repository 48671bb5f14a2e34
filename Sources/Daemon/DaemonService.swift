import Glibc
import Logging
import Mixture

/// The control side of a running daemon, on the thread that calls `run()`: signals, the
/// systemd notifications (READY after the first published frame, STATUS every interval,
/// WATCHDOG only while frames flow, STOPPING on shutdown) and the optional live status line.
public final class DaemonService {
    private let pipeline: Pipeline
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let statusIntervalNanos: UInt64
    private let watchdogStallNanos: UInt64
    private let reloadThresholds: () throws -> OODThresholds
    private let statusLine: Bool
    private var throttle = LogThrottle(intervalNanos: 10_000_000_000)
    /// A burst of SIGHUPs becomes one reload per second: each reload re-reads and re-validates the config.
    static let reloadIntervalNanos: UInt64 = 1_000_000_000

    /// A service around a started-to-be pipeline. `reloadThresholds` re-reads the config on SIGHUP.
    public init(pipeline: Pipeline, notifier: SystemdNotifier, logger: Logger, statusIntervalNanos: UInt64,
                watchdogStallNanos: UInt64, statusLine: Bool, reloadThresholds: @escaping () throws -> OODThresholds) {
        self.pipeline = pipeline
        self.notifier = notifier
        self.logger = logger
        self.statusIntervalNanos = statusIntervalNanos
        self.watchdogStallNanos = watchdogStallNanos
        self.statusLine = statusLine
        self.reloadThresholds = reloadThresholds
    }

    /// Starts the pipeline and serves until a stop signal, `maxFrames` or the end of a recording.
    /// Returns the process exit status: 0 on a clean stop, 1 after a fatal pipeline error.
    /// The caller must have called `SignalWaiter.blockDaemonSignals()` before any thread started.
    public func run() throws(DaemonError) -> Int32 {
        try pipeline.start()
        var ready = false
        var lastStatus = monotonicNow()
        var lastWatchdog: UInt64 = 0
        var stopSignal: Int32?
        var statusCount = 0
        var pendingReloads = 0
        var lastReload: UInt64 = 0
        let watchdogPeriod = notifier.watchdogNanos.map { $0 / 2 }
        while !pipeline.isFinished {
            let wait = min(watchdogPeriod.map { max($0 / 4, 10_000_000) } ?? 100_000_000, 100_000_000)
            switch SignalWaiter.wait(timeoutNanos: wait) {
            case let .stop(signal)?:
                stopSignal = signal
                logger.notice("\(signal == SIGINT ? "SIGINT" : "SIGTERM") received: stopping")
                notifier.send("STOPPING=1")
                pipeline.requestStop()
            case .reload?:
                pendingReloads += 1
            case let .ignored(signal)?:
                let (allowed, held) = throttle.admit("ignored \(signal)", now: monotonicNow())
                if allowed {
                    logger.notice("\(SignalWaiter.name(signal)) received: ignored\(Self.suppressedNote(held))")
                }
            case nil:
                break
            }
            if stopSignal == nil, pendingReloads > 0, monotonicNow() &- lastReload >= Self.reloadIntervalNanos {
                reload(coalesced: pendingReloads)
                pendingReloads = 0
                lastReload = monotonicNow()
            }
            if stopSignal != nil { break }
            let now = monotonicNow()
            if !ready, pipeline.framesPublished > 0 {
                ready = true
                notifier.send("READY=1\nSTATUS=first frame published")
                logger.info("first frame published")
            }
            if let period = watchdogPeriod, ready, now &- lastWatchdog >= period,
               now &- pipeline.lastPublishTime <= watchdogStallNanos {
                notifier.send("WATCHDOG=1")
                lastWatchdog = now
            }
            if now &- lastStatus >= statusIntervalNanos, pipeline.status.uptimeSeconds > 0 {
                lastStatus = now
                let line = pipeline.status.line
                notifier.send("STATUS=\(line)")
                if statusLine { Self.showStatusLine(line) }
                logger.debug("status: \(line)")
                statusCount += 1
                // The journal gets a status line every minute at info; every interval at debug.
                if statusCount % 60 == 0 { logger.info("status: \(line)") }
            }
        }
        let stopStart = monotonicNow()
        pipeline.join()
        if stopSignal == nil { notifier.send("STOPPING=1") }
        if statusLine { Self.showStatusLine(pipeline.status.line + "\n") }
        logger.info("stopped after \(pipeline.framesPublished) frames (shutdown \((monotonicNow() &- stopStart) / 1_000_000) ms): \(pipeline.status.line)")
        if let fatal = pipeline.fatalError { throw DaemonError.configuration(fatal) }
        return 0
    }

    /// Re-reads the thresholds for `coalesced` SIGHUPs; failures are logged at most every 10 s.
    private func reload(coalesced: Int) {
        let note = coalesced > 1 ? " (\(coalesced) SIGHUPs coalesced)" : ""
        do {
            let thresholds = try reloadThresholds()
            pipeline.reload(thresholds: thresholds)
            logger.notice("SIGHUP: reloading OOD thresholds\(note)")
        } catch {
            let (allowed, held) = throttle.admit("reload failed", now: monotonicNow())
            if allowed {
                logger.error("SIGHUP: thresholds not reloaded, keeping the current ones\(note): \(error)\(Self.suppressedNote(held))")
            }
        }
    }

    private static func suppressedNote(_ held: Int) -> String {
        held > 0 ? " (\(held) more since the last such line)" : ""
    }

    /// Rewrites one terminal line on stderr.
    private static func showStatusLine(_ line: String) {
        let text = "\r\u{1B}[K" + line
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
