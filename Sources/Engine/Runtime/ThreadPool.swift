import Foundation

/// A fixed set of worker threads that run one parallel-for at a time. Workers sleep on a
/// condition variable between jobs (no busy-spinning in an idle daemon), and the caller's
/// thread takes part, so `threads == 1` never hands work to another thread.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that share a job, the caller included.
    public let threads: Int
    private let state: PoolState

    /// Starts `threads - 1` workers; `threads` is clamped to at least 1.
    public init(threads: Int) {
        self.threads = max(1, threads)
        state = PoolState()
        for index in 1..<self.threads {
            let state = self.state
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "moeseg-engine-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(t)` for every t in 0..<threads, t = 0 on the calling thread, and returns
    /// when all have finished. Not reentrant: one job at a time.
    public func run(_ body: (Int) -> Void) {
        if threads == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.start(escapable, workers: threads - 1)
            escapable(0)
            state.waitForWorkers()
        }
    }

    /// Splits 0..<count into `threads` contiguous chunks (aligned to `granularity`) and runs
    /// `body(range)` on each non-empty one in parallel.
    public func parallelFor(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let units = (count + granularity - 1) / granularity
        let parts = min(threads, units)
        if parts <= 1 {
            body(0..<count)
            return
        }
        run { t in
            guard t < parts else { return }
            let lo = min(count, (units * t / parts) * granularity)
            let hi = min(count, (units * (t + 1) / parts) * granularity)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// The pool's shared state; workers keep it alive, so it outlives the pool object.
private final class PoolState: @unchecked Sendable {
    private let wake = NSCondition()
    private let finished = NSCondition()
    private var generation = 0
    private var job: ((Int) -> Void)? = nil
    private var remaining = 0
    private var stopping = false

    func start(_ work: @escaping (Int) -> Void, workers: Int) {
        wake.lock()
        job = work
        finished.lock()
        remaining = workers
        finished.unlock()
        generation += 1
        wake.broadcast()
        wake.unlock()
    }

    func waitForWorkers() {
        finished.lock()
        while remaining > 0 { finished.wait() }
        finished.unlock()
        wake.lock()
        job = nil
        wake.unlock()
    }

    func stop() {
        wake.lock()
        stopping = true
        generation += 1
        wake.broadcast()
        wake.unlock()
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            wake.lock()
            while generation == seen && !stopping { wake.wait() }
            seen = generation
            var work = job
            let stop = stopping
            wake.unlock()
            if stop { return }
            guard work != nil else { continue }
            work?(index)
            // Drop our reference before reporting done: the caller verifies that the
            // non-escaping job closure is not retained once every worker has finished.
            work = nil
            finished.lock()
            remaining -= 1
            if remaining == 0 { finished.signal() }
            finished.unlock()
        }
    }
}
