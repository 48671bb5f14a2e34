import CZeroMQ
import Foundation

/// The text of the last libzmq error.
func zmqErrorText(_ code: Int32 = zmq_errno()) -> String {
    String(cString: zmq_strerror(code))
}

/// One libzmq socket with its own context; closed (linger 0) by `close()` or deinit.
/// Not thread-safe, like the libzmq socket under it.
final class ZMQSocket {
    private var context: UnsafeMutableRawPointer?
    private(set) var handle: UnsafeMutableRawPointer?
    /// False for a socket made with `init(type:sharingContextOf:)`: the owner terminates the context.
    private let ownsContext: Bool
    /// The context's owner, kept alive while this socket lives: zmq_ctx_term in the owner's
    /// deinit would otherwise wait forever for this socket.
    private var owner: ZMQSocket?

    init(type: Int32) throws {
        guard let context = zmq_ctx_new() else { throw WireError.zmq("zmq_ctx_new", zmqErrorText()) }
        guard let handle = zmq_socket(context, type) else {
            let reason = zmqErrorText()
            zmq_ctx_term(context)
            throw WireError.zmq("zmq_socket", reason)
        }
        self.context = context
        self.handle = handle
        ownsContext = true
        // Close and context teardown must never wait for unsent messages.
        try set(ZMQ_LINGER, 0)
    }

    /// A socket in `other`'s context (needed for inproc peers such as a socket monitor); close
    /// it before `other`, whose context termination waits for every socket in it.
    init(type: Int32, sharingContextOf other: ZMQSocket) throws {
        guard let context = other.context else { throw WireError.closed }
        guard let handle = zmq_socket(context, type) else { throw WireError.zmq("zmq_socket", zmqErrorText()) }
        self.context = context
        self.handle = handle
        ownsContext = false
        owner = other
        try set(ZMQ_LINGER, 0)
    }

    deinit { close() }

    func close() {
        if let handle { zmq_close(handle) }
        if let context, ownsContext { zmq_ctx_term(context) }
        handle = nil
        context = nil
        owner = nil
    }

    func set(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard let handle else { throw WireError.closed }
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw WireError.zmq("zmq_setsockopt(\(option))", zmqErrorText())
        }
    }

    func set(_ option: Int32, int64 value: Int64) throws {
        var value = value
        guard let handle else { throw WireError.closed }
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw WireError.zmq("zmq_setsockopt(\(option))", zmqErrorText())
        }
    }

    func set(_ option: Int32, bytes: [UInt8]) throws {
        guard let handle else { throw WireError.closed }
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw WireError.zmq("zmq_setsockopt(\(option))", zmqErrorText()) }
    }

    func set(_ option: Int32, string: String) throws {
        try set(option, bytes: Array(string.utf8))
    }

    func bind(_ endpoint: String) throws {
        guard let handle else { throw WireError.closed }
        guard zmq_bind(handle, endpoint) == 0 else { throw WireError.endpoint(endpoint, zmqErrorText()) }
    }

    func connect(_ endpoint: String) throws {
        guard let handle else { throw WireError.closed }
        guard zmq_connect(handle, endpoint) == 0 else { throw WireError.endpoint(endpoint, zmqErrorText()) }
    }

    /// The endpoint actually bound (resolves tcp port 0 / wildcards).
    func lastEndpoint() -> String? {
        guard let handle else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends one frame without blocking; returns false on EAGAIN (or any other send error, with errno set).
    @inline(__always)
    func send(_ pointer: UnsafeRawPointer?, _ count: Int, more: Bool) -> Bool {
        guard let handle else { return false }
        return zmq_send(handle, pointer, count, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) >= 0
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for the socket to become readable.
    func waitReadable(timeoutMilliseconds: Int) throws -> Bool {
        guard let handle else { throw WireError.closed }
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        while true {
            let rc = zmq_poll(&item, 1, timeoutMilliseconds)
            if rc >= 0 { return rc > 0 }
            if zmq_errno() == EINTR { continue }
            throw WireError.zmq("zmq_poll", zmqErrorText())
        }
    }

    /// Receives all frames of one message if one is waiting; nil when none is.
    func receiveMultipart() throws -> [[UInt8]]? {
        guard let handle else { throw WireError.closed }
        var parts: [[UInt8]] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let flags = parts.isEmpty ? ZMQ_DONTWAIT : 0
            if zmq_msg_recv(&message, handle, flags) < 0 {
                let code = zmq_errno()
                if code == EAGAIN && parts.isEmpty { return nil }
                if code == EINTR { continue }
                throw WireError.zmq("zmq_msg_recv", zmqErrorText(code))
            }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            parts.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            if zmq_msg_more(&message) == 0 { return parts }
        }
    }
}
