import CZeroMQ
import Foundation

/// Limits what one TCP peer can make the publisher hold: each subscription is stored by libzmq
/// (a trie node per byte, for as long as the connection lives), so a peer that keeps
/// subscribing to distinct topics grows the daemon without bound. The guard follows the XPUB
/// socket's connections through a socket monitor (accepted fd → peer address), counts distinct
/// subscriptions per peer address, and cuts off every connection of an address that passes
/// `maxSubscriptionsPerPeer`: libzmq then tears the pipes down and frees their subscriptions.
/// ipc peers carry no address in libzmq's metadata and are not counted (the socket's file
/// mode decides who may connect at all).
final class PeerGuard {
    /// Distinct subscriptions one peer address may hold.
    let maxSubscriptionsPerPeer: Int
    /// Connections currently open (accepted and not yet disconnected).
    private(set) var connections = 0
    /// Connections shut down because their address passed the cap.
    private(set) var cutOff: UInt64 = 0
    /// Subscriptions that arrived with no attributable address (ipc peers).
    private(set) var unattributed: UInt64 = 0

    private let monitor: ZMQSocket
    private let monitorEndpoint: String
    private var peers: [Int32: Peer] = [:]
    private var subscriptions: [String: Set<[UInt8]>] = [:]
    private var events = zmq_msg_t()
    private var closed = false

    private struct Peer {
        /// Numeric host as libzmq reports it in the "Peer-Address" message property.
        var host: String
        /// Remote port (or peer pid for a Unix socket): tells a reused fd number from the original.
        var port: Int
    }

    private static let counter = Counter()
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }

    /// Starts monitoring `socket` (an XPUB) for accepted and closed connections.
    init(socket: ZMQSocket, maxSubscriptionsPerPeer: Int) throws {
        self.maxSubscriptionsPerPeer = maxSubscriptionsPerPeer
        monitorEndpoint = "inproc://moeseg-peers-\(getpid())-\(Self.counter.next())"
        guard let handle = socket.handle else { throw WireError.closed }
        let mask = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED
        guard zmq_socket_monitor(handle, monitorEndpoint, mask) == 0 else {
            throw WireError.zmq("zmq_socket_monitor", zmqErrorText())
        }
        monitor = try ZMQSocket(type: ZMQ_PAIR, sharingContextOf: socket)
        try monitor.connect(monitorEndpoint)
        zmq_msg_init(&events)
    }

    deinit { close() }

    /// Closes the monitor socket; call before closing the monitored socket.
    func close() {
        guard !closed else { return }
        closed = true
        zmq_msg_close(&events)
        monitor.close()
    }

    /// Takes the pending connect/disconnect events; cheap when there are none.
    func pollEvents() {
        guard !closed, let handle = monitor.handle else { return }
        while zmq_msg_recv(&events, handle, ZMQ_DONTWAIT) >= 0 {
            // Frame 1: u16 event, u32 value (the fd); frame 2: the endpoint, not needed.
            var event: UInt16 = 0
            var value: UInt32 = 0
            if zmq_msg_size(&events) >= 6, let data = zmq_msg_data(&events) {
                memcpy(&event, data, 2)
                memcpy(&value, data + 2, 4)
            }
            while zmq_msg_more(&events) != 0, zmq_msg_recv(&events, handle, ZMQ_DONTWAIT) >= 0 {}
            let fd = Int32(bitPattern: value)
            switch Int32(event) {
            case ZMQ_EVENT_ACCEPTED:
                connections += 1
                if let peer = Self.describe(fd) { peers[fd] = peer }
            case ZMQ_EVENT_DISCONNECTED:
                connections = max(0, connections - 1)
                forget(fd)
            case ZMQ_EVENT_CLOSED:
                forget(fd)
            default:
                break
            }
        }
    }

    /// Records a subscribe (`subscribe` true) or unsubscribe of `topic` from the message's peer;
    /// returns the address cut off when this subscription passed the cap.
    func note(topic: UnsafeRawBufferPointer, subscribe: Bool, peerAddress: String?) -> String? {
        guard let address = peerAddress, !address.isEmpty else {
            if subscribe { unattributed += 1 }
            return nil
        }
        let key = Array(topic)
        if !subscribe {
            subscriptions[address]?.remove(key)
            return nil
        }
        subscriptions[address, default: []].insert(key)
        guard subscriptions[address]!.count > maxSubscriptionsPerPeer else { return nil }
        // Events for connections accepted since the last poll must be known before cutting.
        pollEvents()
        for (fd, peer) in peers where peer.host == address {
            // The fd may have been closed and its number reused since the event: only a socket
            // still connected to the same remote end is shut down.
            guard let now = Self.describe(fd), now.host == peer.host, now.port == peer.port else { continue }
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
            cutOff += 1
        }
        subscriptions[address] = nil
        return address
    }

    private func forget(_ fd: Int32) {
        guard let peer = peers.removeValue(forKey: fd) else { return }
        if !peers.values.contains(where: { $0.host == peer.host }) { subscriptions[peer.host] = nil }
    }

    /// The remote end of socket `fd` as libzmq names it: numeric host and port for TCP.
    private static func describe(_ fd: Int32) -> Peer? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        let family = Int32(storage.ss_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return nil }
        return Peer(host: String(cString: host), port: Int(String(cString: service)) ?? -1)
    }
}
