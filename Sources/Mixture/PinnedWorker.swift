import CKernels
import Foundation

/// A dedicated thread that runs one fixed job each time it is started, optionally pinned to
/// a CPU. Starting and waiting use semaphores (no allocation per frame), and the thread sleeps
/// between frames instead of spinning.
final class PinnedWorker: @unchecked Sendable {
    private let begin = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var stopping = false
    /// Whether pinning to the requested CPU succeeded (false when none was requested).
    private(set) var pinned = false

    /// Starts the thread; `job` runs once per `start()`.
    init(name: String, cpu: Int?, job: @escaping () -> Void) {
        // The job touches its runner's buffers only between start() and wait(), which order it.
        nonisolated(unsafe) let job = job
        let thread = Thread { [begin, done] in
            if let cpu { self.pinned = PinnedWorker.pin(to: cpu) }
            while true {
                begin.wait()
                if self.stopping { break }
                job()
                done.signal()
            }
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs the job once on the worker thread; pair with `wait()`.
    func start() { begin.signal() }

    /// Waits for the job started last to finish.
    func wait() { done.wait() }

    /// Ends the thread after its current job.
    func stop() {
        stopping = true
        begin.signal()
        done.wait()
    }

    /// Pins the calling thread to `cpu`; false if the system refused.
    static func pin(to cpu: Int) -> Bool {
        ck_pin_current_thread(Int32(clamping: cpu)) == 0
    }
}

/// MC-dropout masks: each element keeps (1) with probability 1 − p, else drops (0), from a
/// xoshiro256** stream per (seed, frame, pass) so replays reproduce every pass.
enum DropoutMask {
    /// Fills `mask` for one pass.
    static func fill(_ mask: UnsafeMutableBufferPointer<Float>, rate: Double, seed: UInt64, frameIndex: UInt64, pass: Int) {
        var generator = Xoshiro256StarStar(seed: seed ^ SplitMix64.mix(0x6D63_6472_6F70 &+ UInt64(pass)), frameIndex: frameIndex)
        // keep ⇔ the top 53 bits < (1 − p)·2^53, i.e. P(keep) = 1 − p up to 2^-53.
        let threshold = UInt64((1 - rate) * 0x1p53)
        for i in mask.indices { mask[i] = (generator.next() >> 11) < threshold ? 1 : 0 }
    }
}
