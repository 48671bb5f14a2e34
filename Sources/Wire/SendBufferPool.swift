import CZeroMQ
import Foundation

/// Encode buffers handed to libzmq without a copy. libzmq gives each back (from its I/O
/// thread, or at once when a send fails) when every subscriber queue has let go of the
/// message; the pool keeps it for the next frame. Steady state: no allocation, no page faults.
final class SendBufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [ProtoBuffer] = []
    private let initialCapacity: Int
    /// Buffers made so far (grows to the most ever in flight at once, then stays).
    private(set) var created = 0

    init(initialCapacity: Int) {
        self.initialCapacity = initialCapacity
        free.reserveCapacity(256)
    }

    /// An empty buffer, reused when one is free.
    func take() -> ProtoBuffer {
        lock.lock()
        if let buffer = free.popLast() {
            lock.unlock()
            buffer.reset()
            return buffer
        }
        created += 1
        lock.unlock()
        let buffer = ProtoBuffer(capacity: initialCapacity)
        buffer.pool = self
        return buffer
    }

    func give(_ buffer: ProtoBuffer) {
        lock.lock()
        free.append(buffer)
        lock.unlock()
    }

    /// Drops the free buffers (and their back references); call once libzmq has returned all.
    func drain() {
        lock.lock()
        for buffer in free { buffer.pool = nil }
        free.removeAll()
        lock.unlock()
    }

    /// libzmq's free callback: `hint` is the buffer, retained when it was handed over.
    static let release: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
        guard let hint else { return }
        let buffer = Unmanaged<ProtoBuffer>.fromOpaque(hint).takeRetainedValue()
        if let pool = buffer.pool { pool.give(buffer) }
    }

    /// Sends `buffer` as the last frame of a message without copying it; false if libzmq refused
    /// (the buffer is then back in the pool already).
    static func send(_ buffer: ProtoBuffer, on handle: UnsafeMutableRawPointer) -> Bool {
        var message = zmq_msg_t()
        let hint = Unmanaged.passRetained(buffer).toOpaque()
        guard zmq_msg_init_data(&message, buffer.base, buffer.count, release, hint) == 0 else {
            Unmanaged<ProtoBuffer>.fromOpaque(hint).release()
            buffer.pool?.give(buffer)
            return false
        }
        if zmq_msg_send(&message, handle, ZMQ_DONTWAIT) >= 0 { return true }
        zmq_msg_close(&message)  // calls `release`
        return false
    }
}
