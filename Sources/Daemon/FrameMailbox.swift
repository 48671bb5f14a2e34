import Glibc
import Sensors

/// A frame plus the moment the pipeline received it (CLOCK_MONOTONIC, ns): replayed frames
/// carry recorded stamps, so latency is measured from receipt for them.
public struct CapturedFrame: Sendable {
    public var frame = Frame()
    public var receivedNanos: UInt64 = 0

    public init() {}
}

/// Single-slot "latest frame wins" hand-off between the capture and inference threads, over
/// three buffers that are only ever swapped, never copied or reallocated: the producer fills
/// its own buffer and swaps it into the slot (displacing an unconsumed frame counts as a drop),
/// the consumer swaps its finished buffer for the full one. Capture never waits for inference.
public final class FrameMailbox: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var slot = CapturedFrame()
    private var full = false
    private var closed = false
    private var dropped: UInt64 = 0
    private var delivered: UInt64 = 0

    /// An empty, open mailbox.
    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Frames displaced before the consumer took them.
    public var droppedFrames: UInt64 { locked { dropped } }
    /// Frames handed to the consumer.
    public var deliveredFrames: UInt64 { locked { delivered } }

    /// Producer side: publishes `frame` as the newest and gives back a spare buffer to fill next.
    /// With `waitForRoom` (lossless replay as fast as inference goes) it first waits until the
    /// consumer took the previous frame, so nothing is dropped. Returns false once the mailbox is
    /// closed (the frame is not published).
    @discardableResult
    public func put(_ frame: inout CapturedFrame, waitForRoom: Bool = false) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while waitForRoom, full, !closed { pthread_cond_wait(condition, mutex) }
        if closed { return false }
        swap(&slot, &frame)
        if full { dropped += 1 }
        full = true
        pthread_cond_broadcast(condition)
        return true
    }

    /// Consumer side: waits up to `timeoutNanos` for a frame newer than the last one taken and
    /// swaps it with `frame` (whose buffer becomes the producer's next spare). False on timeout
    /// or when the mailbox is closed and empty.
    public func take(_ frame: inout CapturedFrame, timeoutNanos: UInt64) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if !full, !closed, timeoutNanos > 0 {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let end = UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec) &+ timeoutNanos
            var deadline = timespec(tv_sec: Int(end / 1_000_000_000), tv_nsec: Int(end % 1_000_000_000))
            while !full, !closed {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
            }
        }
        guard full else { return false }
        swap(&slot, &frame)
        full = false
        delivered += 1
        pthread_cond_broadcast(condition)
        return true
    }

    /// Waits until the slot is empty (the consumer took the last frame) or the mailbox is closed.
    public func waitUntilEmpty() {
        pthread_mutex_lock(mutex)
        while full, !closed { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Wakes a waiting consumer and refuses further frames; a frame already in the slot can still be taken.
    public func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { locked { closed } }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
