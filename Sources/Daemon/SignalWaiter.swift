import Glibc

/// The signals the daemon acts on.
public enum DaemonSignal: Sendable, Equatable {
    /// SIGTERM or SIGINT: stop cleanly.
    case stop(Int32)
    /// SIGHUP: reload the OOD thresholds.
    case reload
}

/// Synchronous signal handling: SIGTERM, SIGINT and SIGHUP are blocked in every thread (call
/// `blockDaemonSignals()` before starting any) and collected with `sigtimedwait` on the control
/// thread, so no code runs in an async signal handler.
public enum SignalWaiter {
    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Blocks the daemon's signals in the calling thread and the threads it starts afterwards.
    public static func blockDaemonSignals() {
        var mask = set
        pthread_sigmask(SIG_BLOCK, &mask, nil)
    }

    /// Waits up to `timeoutNanos` for one of the daemon's signals.
    public static func wait(timeoutNanos: UInt64) -> DaemonSignal? {
        var mask = set
        var timeout = timespec(tv_sec: Int(timeoutNanos / 1_000_000_000), tv_nsec: Int(timeoutNanos % 1_000_000_000))
        let signal = sigtimedwait(&mask, nil, &timeout)
        switch signal {
        case SIGHUP: return .reload
        case SIGTERM, SIGINT: return .stop(signal)
        default: return nil
        }
    }
}
