import CThreading
import Glibc

/// A dedicated OS thread (not the Swift concurrency pool): the hot path blocks in poll,
/// DQBUF and long kernels, which must never starve the cooperative pool.
final class DedicatedThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false

    /// Starts `body` on a new thread named `name`, pinned to `cpus` when not empty.
    init(name: String, cpus: [Int], body: @escaping @Sendable () -> Void) throws(DaemonError) {
        final class Box: @unchecked Sendable {
            let body: () -> Void
            let name: String
            let cpus: [Int]
            init(_ body: @escaping () -> Void, _ name: String, _ cpus: [Int]) {
                self.body = body
                self.name = name
                self.cpus = cpus
            }
        }
        let box = Unmanaged.passRetained(Box(body, name, cpus)).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            _ = box.name.withCString { cthreading_name_current_thread($0) }
            if !box.cpus.isEmpty { ThreadAffinity.pinCurrentThread(to: box.cpus) }
            box.body()
            return nil
        }, box)
        if status != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw DaemonError.system("cannot start the \(name) thread: \(String(cString: strerror(status)))")
        }
    }

    /// Waits for the thread to finish.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// CPU pinning of the calling thread.
public enum ThreadAffinity {
    /// Pins the calling thread to `cpus`; returns 0 or an errno value.
    @discardableResult
    public static func pinCurrentThread(to cpus: [Int]) -> Int32 {
        let values = cpus.map { Int32($0) }
        return values.withUnsafeBufferPointer { cthreading_pin_current_thread($0.baseAddress, Int32($0.count)) }
    }

    /// Whether this process may run on `cpu`.
    public static func isAllowed(_ cpu: Int) -> Bool { cthreading_cpu_allowed(Int32(cpu)) != 0 }

    /// How many CPUs this process may run on.
    public static var allowedCount: Int { Int(cthreading_allowed_cpu_count()) }
}

/// CLOCK_MONOTONIC in nanoseconds.
@inline(__always)
public func monotonicNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// CLOCK_REALTIME in nanoseconds since the epoch.
@inline(__always)
public func realtimeNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
