import Foundation
import Synchronization

/// A fixed set of worker threads that run one parallel-for at a time. Workers spin briefly, then
/// sleep on a condition variable between jobs (no busy-spinning in an idle daemon), and the
/// caller's thread takes part, so `threads == 1` never hands work to another thread.
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
///
/// A job is announced by bumping `generation` and finished when `remaining` reaches 0. Both sides
/// spin on those atomics for a short while (`spinLimit` polls, some tens of microseconds) before
/// sleeping on a condition variable: a model runs one job per node, often under a millisecond
/// each, and a futex wake-up per node and side cost more than the work on a busy 2-vCPU VM
/// (DeepLabv3+ MobileNetV2 int8 ran slower at 2 threads than at 1). An idle daemon still sleeps.
private final class PoolState: @unchecked Sendable {
    private let wake = NSCondition()
    private let finished = NSCondition()
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    /// Workers asleep on `wake`, and whether the caller sleeps on `finished` (under their locks).
    private var sleepers = 0
    private var callerAsleep = false
    /// Written before `generation` is bumped (release) and read after it is seen (acquire).
    private var job: ((Int) -> Void)? = nil
    private let stopping = Atomic<Bool>(false)
    private static let spinLimit = 20_000

    func start(_ work: @escaping (Int) -> Void, workers: Int) {
        job = work
        remaining.store(workers, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        wake.lock()
        if sleepers > 0 { wake.broadcast() }
        wake.unlock()
    }

    func waitForWorkers() {
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 && spins < Self.spinLimit { spins += 1 }
        if remaining.load(ordering: .acquiring) > 0 {
            finished.lock()
            callerAsleep = true
            while remaining.load(ordering: .acquiring) > 0 { finished.wait() }
            callerAsleep = false
            finished.unlock()
        }
        job = nil
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < Self.spinLimit { spins += 1 }
            if generation.load(ordering: .acquiring) == seen {
                wake.lock()
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { wake.wait() }
                sleepers -= 1
                wake.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            var work = job
            guard work != nil else { continue }
            work?(index)
            // Drop our reference before reporting done: the caller verifies that the
            // non-escaping job closure is not retained once every worker has finished.
            work = nil
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                finished.lock()
                if callerAsleep { finished.signal() }
                finished.unlock()
            }
        }
    }
}
