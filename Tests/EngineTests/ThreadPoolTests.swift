import Engine
import Foundation
import Synchronization
import Testing

/// The pool's hand-offs: every part of every job runs exactly once, whether the workers are still
/// spinning from the last job (back-to-back jobs) or asleep (jobs far apart), and a pool goes away
/// without hanging.
@Suite("Thread pool")
struct ThreadPoolTests {
    /// A slot per part in raw memory: parts write their own slots at once, which a Swift array
    /// (one value, so one exclusive access per write) would not allow.
    final class Counts: @unchecked Sendable {
        let runs = Atomic<Int>(0)
        let slots: UnsafeMutableBufferPointer<Int>
        init(parts: Int) { slots = .allocate(capacity: parts); slots.initialize(repeating: 0) }
        deinit { slots.deallocate() }
        var perPart: [Int] { Array(slots) }
    }

    @Test(arguments: [2, 3])
    func backToBackJobsRunEveryPartOnce(threads: Int) {
        let pool = ThreadPool(threads: threads)
        let counts = Counts(parts: threads)
        for _ in 0..<20_000 {
            pool.run { part in
                counts.slots[part] += 1   // each part has its own slot, and a job ends before the next starts
                counts.runs.add(1, ordering: .relaxed)
            }
        }
        #expect(counts.runs.load(ordering: .relaxed) == 20_000 * threads)
        #expect(counts.perPart == [Int](repeating: 20_000, count: threads))
    }

    @Test func jobsAfterTheWorkersFellAsleepStillRun() {
        let pool = ThreadPool(threads: 2)
        var sums: [Int] = []
        for round in 0..<5 {
            Thread.sleep(forTimeInterval: 0.02)   // far past the spin: the worker sleeps on the condition
            let counts = Counts(parts: 2)
            pool.run { part in counts.slots[part] = round + part }
            sums.append(counts.perPart.reduce(0, +))
        }
        #expect(sums == [1, 3, 5, 7, 9])
    }

    @Test func aPoolIsReleasedWithoutHanging() {
        for _ in 0..<50 {
            let pool = ThreadPool(threads: 2)
            pool.parallelFor(100) { _ in }
        }
    }
}
