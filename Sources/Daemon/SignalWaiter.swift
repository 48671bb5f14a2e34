import CThreading
import Glibc

/// The signals the daemon acts on.
public enum DaemonSignal: Sendable, Equatable {
    /// SIGTERM or SIGINT: stop cleanly.
    case stop(Int32)
    /// SIGHUP: reload the OOD thresholds.
    case reload
    /// SIGUSR1, SIGUSR2 or SIGALRM: no meaning to the daemon, logged and otherwise ignored.
    case ignored(Int32)
}

/// Synchronous signal handling: the daemon's signals (SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2,
/// SIGALRM) are blocked in every thread and collected with `sigtimedwait` on the control thread,
/// so no code runs in an async signal handler. The `moeseg` executable blocks them before any
/// shared library starts a thread (Sources/CEarlySignals); `blockDaemonSignals()` does it for
/// other hosts of the daemon, which must call it before starting any thread.
public enum SignalWaiter {
    private static var set: sigset_t {
        var set = sigset_t()
        cthreading_daemon_signal_set(&set)
        return set
    }

    /// Blocks the daemon's signals in the calling thread and the threads it starts afterwards,
    /// and ignores SIGPIPE (a closed stdout must not kill the daemon).
    public static func blockDaemonSignals() {
        var mask = set
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Whether every one of the daemon's signals is blocked in the calling thread.
    public static var daemonSignalsBlocked: Bool {
        var current = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &current)
        var wanted = set
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM] where sigismember(&wanted, signal) == 1 {
            if sigismember(&current, signal) != 1 { return false }
        }
        return true
    }

    /// Waits up to `timeoutNanos` for one of the daemon's signals.
    public static func wait(timeoutNanos: UInt64) -> DaemonSignal? {
        var mask = set
        var timeout = timespec(tv_sec: Int(timeoutNanos / 1_000_000_000), tv_nsec: Int(timeoutNanos % 1_000_000_000))
        let signal = sigtimedwait(&mask, nil, &timeout)
        switch signal {
        case SIGHUP: return .reload
        case SIGTERM, SIGINT: return .stop(signal)
        case SIGUSR1, SIGUSR2, SIGALRM: return .ignored(signal)
        default: return nil
        }
    }

    /// The signal's name, e.g. "SIGUSR1".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        case SIGALRM: return "SIGALRM"
        default: return "signal \(signal)"
        }
    }
}
