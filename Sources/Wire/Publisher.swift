import CZeroMQ
import Foundation
import SwiftProtobuf

/// How a publisher binds and what it sends.
public struct PublisherOptions: Sendable {
    /// Where to bind: `ipc:///path.sock` (the directory is created) or `tcp://host:port`.
    public var endpoint: String
    /// Stream name, the topic prefix (`<stream>/seg`, ...).
    public var stream: String
    /// Frames queued per subscriber before libzmq drops for that subscriber. The socket's
    /// ZMQ_SNDHWM is this times the messages of one frame (seg, each map, ood, status, meta),
    /// because libzmq counts messages and one frame is a burst of several.
    public var sendHighWaterMark: Int = 4
    /// The server's CURVE keys; nil sends in the clear.
    public var curve: CurveKeys?
    /// Which maps are published (map name such as "pe_stacked" → encoding); others are not sent.
    public var mapEncodings: [String: MapEncoding]
    /// Value range a u8 map covers (default 0...1, the range of every moeseg map).
    public var u8Ranges: [String: ClosedRange<Float>] = [:]
    /// Largest message a peer may send (ZMQ_MAXMSGSIZE): subscriptions are short topic
    /// prefixes, and without a limit libzmq allocates whatever size a peer declares. At least
    /// 512, which CURVE's handshake needs.
    public var maxInboundMessageBytes = 1024
    /// ZMTP heartbeat: a PING every this many ms (ZMQ_HEARTBEAT_IVL); 0 turns heartbeats off.
    public var heartbeatIntervalMs = 2000
    /// A peer that answers no PING within this many ms is disconnected (ZMQ_HEARTBEAT_TIMEOUT,
    /// also sent as ZMQ_HEARTBEAT_TTL), so a vanished subscriber's queue and subscriptions go.
    public var heartbeatTimeoutMs = 6000
    /// A connection that has not finished the ZMTP handshake within this many ms is dropped.
    public var handshakeTimeoutMs = 5000
    /// Distinct subscriptions one TCP peer address may hold before all its connections are cut.
    public var maxSubscriptionsPerPeer = 256
    /// File mode of an ipc socket (connecting needs write permission): default owner and group.
    public var socketMode: UInt16 = 0o660
    /// Group to give an ipc socket (the daemon must be a member); nil keeps the process's group.
    public var socketGroup: String?

    public init(stream: String = "cam0", endpoint: String? = nil, sendHighWaterMark: Int = 4,
                curve: CurveKeys? = nil, mapEncodings: [String: MapEncoding] = [:],
                u8Ranges: [String: ClosedRange<Float>] = [:]) {
        self.stream = stream
        self.endpoint = endpoint ?? WireEndpoint.defaultEndpoint(stream: stream)
        self.sendHighWaterMark = sendHighWaterMark
        self.curve = curve
        self.mapEncodings = mapEncodings
        self.u8Ranges = u8Ranges
    }
}

/// Counts of one topic.
public struct TopicCounts: Sendable, Equatable {
    /// Messages handed to libzmq.
    public var sent: UInt64 = 0
    /// Messages libzmq refused (EAGAIN or another send error); never blocked on.
    public var dropped: UInt64 = 0
    /// Payload bytes of the sent messages.
    public var bytes: UInt64 = 0
}

/// What a publisher has done so far.
public struct PublisherStatistics: Sendable, Equatable {
    public var perTopic: [TopicKind: TopicCounts]
    /// Subscribe requests seen on the XPUB socket.
    public var subscriptions: UInt64
    /// Meta messages sent because a subscriber arrived.
    public var metaResends: UInt64
    /// publish calls skipped: a map not in `mapEncodings`, or sizes that do not match.
    public var skipped: UInt64
    /// Connections open now (tcp and ipc).
    public var connections: Int = 0
    /// Connections shut down because their peer address held more than `maxSubscriptionsPerPeer`.
    public var peersCutOff: UInt64 = 0

    public var sent: UInt64 { perTopic.values.reduce(0) { $0 + $1.sent } }
    public var dropped: UInt64 { perTopic.values.reduce(0) { $0 + $1.dropped } }
}

/// Publishes one stream's messages on a ZeroMQ XPUB socket without ever blocking the caller:
/// sends are non-blocking, each subscriber has a small queue (`sendHighWaterMark`) and libzmq
/// drops for a subscriber whose queue is full. Use from one thread (the pipeline's).
public final class Publisher: @unchecked Sendable {
    public let options: PublisherOptions
    /// The endpoint as bound (a tcp port 0 resolved to the real port).
    public private(set) var boundEndpoint: String

    private let socket: ZMQSocket
    private let pool = SendBufferPool(initialCapacity: 1 << 16)
    private var topics: [UnsafeMutableRawBufferPointer]
    private var counts = [TopicCounts](repeating: TopicCounts(), count: TopicKind.allCases.count)
    private var meta: Moeseg_V1_Meta
    private var slots: [String: MapSlot] = [:]
    private var subscriptionFrame = zmq_msg_t()
    private var subscriptions: UInt64 = 0
    private var metaResends: UInt64 = 0
    private var skipped: UInt64 = 0
    private var closed = false
    private let peerGuard: PeerGuard

    private struct MapSlot {
        var encoding: MapEncoding
        var scale: Float
        var offset: Float
    }

    /// Binds the socket and sends `meta` (which is re-sent to each new subscriber).
    public init(options: PublisherOptions, meta: Moeseg_V1_Meta) throws {
        guard !options.stream.isEmpty,
              options.stream.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw WireError.endpoint(options.endpoint, "stream name '\(options.stream)' must be non-empty letters, digits, '-', '_' or '.'")
        }
        guard (1...100_000).contains(options.sendHighWaterMark) else {
            throw WireError.endpoint(options.endpoint, "send high-water mark must be 1...100000 frames, got \(options.sendHighWaterMark)")
        }
        for (name, range) in options.u8Ranges where !(range.upperBound > range.lowerBound) || !range.lowerBound.isFinite || !range.upperBound.isFinite {
            throw WireError.endpoint(options.endpoint, "u8 range of map \(name) must be finite and non-empty")
        }
        guard (512...1 << 20).contains(options.maxInboundMessageBytes) else {
            throw WireError.endpoint(options.endpoint, "max inbound message size must be 512-1048576 bytes, got \(options.maxInboundMessageBytes)")
        }
        guard options.heartbeatIntervalMs >= 0, options.heartbeatIntervalMs <= 600_000,
              (100...6_553_500).contains(options.heartbeatTimeoutMs), (100...600_000).contains(options.handshakeTimeoutMs) else {
            throw WireError.endpoint(options.endpoint, "heartbeat interval must be 0-600000 ms, heartbeat timeout 100-6553500 ms, handshake timeout 100-600000 ms")
        }
        guard (1...100_000).contains(options.maxSubscriptionsPerPeer) else {
            throw WireError.endpoint(options.endpoint, "subscriptions per peer must be 1-100000, got \(options.maxSubscriptionsPerPeer)")
        }
        guard options.socketMode <= 0o777 else {
            throw WireError.endpoint(options.endpoint, "socket mode must be an octal file mode up to 0777")
        }
        self.options = options
        self.boundEndpoint = options.endpoint
        try Publisher.prepare(endpoint: options.endpoint)
        socket = try ZMQSocket(type: ZMQ_XPUB)
        try socket.set(ZMQ_MAXMSGSIZE, int64: Int64(options.maxInboundMessageBytes))
        if options.heartbeatIntervalMs > 0 {
            try socket.set(ZMQ_HEARTBEAT_IVL, Int32(options.heartbeatIntervalMs))
            try socket.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(options.heartbeatTimeoutMs))
            // The TTL travels in PINGs in units of 100 ms.
            try socket.set(ZMQ_HEARTBEAT_TTL, Int32(options.heartbeatTimeoutMs / 100 * 100))
        }
        try socket.set(ZMQ_HANDSHAKE_IVL, Int32(options.handshakeTimeoutMs))
        try socket.set(ZMQ_SNDHWM, Int32(options.sendHighWaterMark * Publisher.messagesPerFrame(options)))
        // Every subscribe reaches us, also for a topic someone already subscribed to: that is
        // how a late joiner gets meta at once.
        try socket.set(ZMQ_XPUB_VERBOSE, 1)
        // Lossy: a full subscriber queue drops for that subscriber instead of refusing the send.
        try socket.set(ZMQ_XPUB_NODROP, 0)
        if let curve = options.curve {
            guard CurveKeys.isAvailable else { throw WireError.curve("this libzmq has no CURVE support") }
            try socket.set(ZMQ_CURVE_SERVER, 1)
            try socket.set(ZMQ_CURVE_SECRETKEY, string: curve.secretKey)
        }
        peerGuard = try PeerGuard(socket: socket, maxSubscriptionsPerPeer: options.maxSubscriptionsPerPeer)
        try socket.bind(options.endpoint)
        boundEndpoint = socket.lastEndpoint() ?? options.endpoint
        try Publisher.setPermissions(endpoint: options.endpoint, mode: options.socketMode, group: options.socketGroup)
        topics = TopicKind.allCases.map { kind in
            let bytes = Array(kind.topic(stream: options.stream).utf8)
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            storage.copyBytes(from: bytes)
            return storage
        }
        for (name, encoding) in options.mapEncodings {
            let range = options.u8Ranges[name] ?? 0...1
            slots[name] = MapSlot(encoding: encoding, scale: (range.upperBound - range.lowerBound) / 255,
                                  offset: range.lowerBound)
        }
        self.meta = meta
        zmq_msg_init(&subscriptionFrame)
        self.meta = normalised(meta)
        sendMeta()
    }

    deinit {
        close()
        for topic in topics { topic.deallocate() }
    }

    /// Closes the socket at once (queued messages are discarded); later publishes do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_msg_close(&subscriptionFrame)
        peerGuard.close()
        // Tears the context down: libzmq hands every in-flight buffer back before this returns.
        socket.close()
        pool.drain()
    }

    /// Encode buffers made so far; stays flat in steady state (the allocation check of bench-wire).
    public var sendBuffersCreated: Int { pool.created }

    /// Messages of one frame: seg, each published map, ood, status and meta.
    public static func messagesPerFrame(_ options: PublisherOptions) -> Int {
        4 + options.mapEncodings.count
    }

    /// The u8 scale and offset used for a map; nil if the map is not published.
    public func quantization(of map: String) -> (encoding: MapEncoding, scale: Float, offset: Float)? {
        slots[map].map { ($0.encoding, $0.scale, $0.offset) }
    }

    /// Publishes the class-id image on `<stream>/seg` (skipped if the sizes disagree).
    public func publishSegmentation(header: Moeseg_V1_Header, classIds: UnsafeBufferPointer<UInt8>, width: Int, height: Int) {
        guard !closed else { return }
        guard width > 0, height > 0, classIds.count == width * height else { skipped += 1; return }
        let buffer = pool.take()
        FrameEncoder.segmentation(header: header, stamps: stamps(), classIds: classIds,
                                  width: width, height: height, to: buffer)
        send(.segmentation, buffer)
    }

    /// Publishes one map on `<stream>/unc` in its configured encoding; maps not in
    /// `mapEncodings`, or whose size disagrees, are skipped.
    public func publishMap(header: Moeseg_V1_Header, name: String, values: UnsafeBufferPointer<Float>, width: Int, height: Int) {
        guard !closed else { return }
        guard let slot = slots[name], width > 0, height > 0, values.count == width * height else {
            skipped += 1
            return
        }
        let buffer = pool.take()
        FrameEncoder.uncertaintyMap(header: header, stamps: stamps(), name: name, encoding: slot.encoding,
                                    scale: slot.scale, offset: slot.offset, values: values,
                                    width: width, height: height, to: buffer)
        send(.uncertainty, buffer)
    }

    /// Publishes the OOD verdict on `<stream>/ood`.
    public func publishVerdict(_ verdict: Moeseg_V1_OodVerdict) {
        var message = verdict
        stamp(&message.header)
        sendMessage(.verdict, message)
    }

    /// Publishes daemon status on `<stream>/status`.
    public func publishStatus(_ status: Moeseg_V1_Status) {
        var message = status
        stamp(&message.header)
        sendMessage(.status, message)
    }

    /// Replaces meta (e.g. thresholds after a reload) and sends it at once.
    public func updateMeta(_ meta: Moeseg_V1_Meta) {
        self.meta = normalised(meta)
        sendMeta()
    }

    /// Connections shut down so far for holding too many subscriptions (no allocation, unlike `statistics`).
    public var peersCutOff: UInt64 { peerGuard.cutOff }

    /// The peer address most recently cut off for holding too many subscriptions (for the log).
    public private(set) var lastCutOffPeer: String?

    /// The meta as sent: schema version, stream and the published maps filled in by the publisher.
    public var currentMeta: Moeseg_V1_Meta { meta }

    /// Reads pending subscribe/unsubscribe frames and re-sends meta if a new subscription
    /// covers the meta topic. Cheap when nothing is pending; call at least every 50 ms
    /// (every frame, and on idle wake-ups while the source is down) so late joiners get meta
    /// within 100 ms.
    public func pollSubscriptions() {
        guard !closed, let handle = socket.handle else { return }
        var wantMeta = false
        let metaTopic = topics[TopicKind.meta.index]
        peerGuard.pollEvents()
        while zmq_msg_recv(&subscriptionFrame, handle, ZMQ_DONTWAIT) >= 0 {
            let size = zmq_msg_size(&subscriptionFrame)
            guard size >= 1, let data = zmq_msg_data(&subscriptionFrame) else { continue }
            let frame = UnsafeRawBufferPointer(start: data, count: size)
            guard frame[0] == 1 || frame[0] == 0 else { continue }
            let prefix = UnsafeRawBufferPointer(rebasing: frame[1...])
            let address = zmq_msg_gets(&subscriptionFrame, "Peer-Address").map { String(cString: $0) }
            if let cut = peerGuard.note(topic: prefix, subscribe: frame[0] == 1, peerAddress: address) {
                lastCutOffPeer = cut
                continue
            }
            guard frame[0] == 1 else { continue }
            subscriptions += 1
            // A subscription to a prefix of the meta topic ("" = everything, "cam0/", ...) receives meta.
            if prefix.count <= metaTopic.count,
               prefix.count == 0 || memcmp(prefix.baseAddress!, metaTopic.baseAddress!, prefix.count) == 0 {
                wantMeta = true
            }
        }
        if wantMeta {
            metaResends += 1
            sendMeta()
        }
    }

    /// Sent, dropped and byte counts per topic, and subscription activity.
    public var statistics: PublisherStatistics {
        var perTopic: [TopicKind: TopicCounts] = [:]
        for kind in TopicKind.allCases { perTopic[kind] = counts[kind.index] }
        return PublisherStatistics(perTopic: perTopic, subscriptions: subscriptions,
                                   metaResends: metaResends, skipped: skipped,
                                   connections: peerGuard.connections, peersCutOff: peerGuard.cutOff)
    }

    // MARK: - Internals

    private func normalised(_ meta: Moeseg_V1_Meta) -> Moeseg_V1_Meta {
        var meta = meta
        meta.schemaVersion = wireSchemaVersion
        meta.maps = slots.keys.sorted().map { name in
            let slot = slots[name]!
            var spec = Moeseg_V1_MapSpec()
            spec.map = name
            spec.encoding = slot.encoding.wire
            if slot.encoding == .u8 {
                spec.scale = slot.scale
                spec.offset = slot.offset
            }
            return spec
        }
        return meta
    }

    private func sendMeta() {
        var message = meta
        stamp(&message.header)
        sendMessage(.meta, message)
    }

    private func stamps() -> FrameEncoder.Stamps {
        FrameEncoder.Stamps(publishRealtimeNanoseconds: realtimeNanoseconds(), stream: options.stream)
    }

    private func stamp(_ header: inout Moeseg_V1_Header) {
        header.stream = options.stream
        header.publishRealtimeNs = realtimeNanoseconds()
    }

    private func sendMessage<M: SwiftProtobuf.Message>(_ kind: TopicKind, _ message: M) {
        guard !closed else { return }
        guard let bytes: [UInt8] = try? message.serializedBytes() else {
            skipped += 1
            return
        }
        bytes.withUnsafeBytes { send(kind, $0) }
    }

    /// Sends [topic, pooled buffer] without copying the buffer.
    private func send(_ kind: TopicKind, _ body: ProtoBuffer) {
        let topic = topics[kind.index]
        if let handle = socket.handle, socket.send(topic.baseAddress, topic.count, more: true) {
            let size = body.count
            if SendBufferPool.send(body, on: handle) {
                counts[kind.index].sent += 1
                counts[kind.index].bytes += UInt64(size)
                return
            }
        } else {
            pool.give(body)
        }
        counts[kind.index].dropped += 1
    }

    @inline(__always)
    private func send(_ kind: TopicKind, _ body: UnsafeRawBufferPointer) {
        let topic = topics[kind.index]
        if socket.send(topic.baseAddress, topic.count, more: true) {
            if socket.send(body.baseAddress, body.count, more: false) {
                counts[kind.index].sent += 1
                counts[kind.index].bytes += UInt64(body.count)
                return
            }
        }
        counts[kind.index].dropped += 1
    }

    /// Checks an endpoint before binding: creates an ipc socket's directory, and refuses an ipc
    /// path another live process is bound to (libzmq would silently take it over).
    static func prepare(endpoint: String) throws {
        if endpoint.hasPrefix("tcp://") {
            if let problem = WireEndpoint.tcpProblem(endpoint) { throw WireError.endpoint(endpoint, problem) }
            return
        }
        guard endpoint.hasPrefix("ipc://") else {
            throw WireError.endpoint(endpoint, "only ipc:// and tcp:// endpoints are supported")
        }
        let path = String(endpoint.dropFirst("ipc://".count))
        // Linux abstract sockets ("@name") have no file.
        if path.hasPrefix("@") { return }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw WireError.endpoint(endpoint, "no socket path") }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw WireError.endpoint(endpoint, "cannot create directory \(directory): \(describe(error))")
            }
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            // libzmq unlinks whatever is at the path before binding: a config typo must not delete a file.
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw WireError.endpoint(endpoint, "\(path) exists and is not a socket (refusing to replace it)")
            }
            if UnixSocketProbe.isListening(path) {
                throw WireError.endpoint(endpoint, "another process is already publishing there")
            }
        }
    }

    /// Gives a bound ipc socket its file mode and group, so the documented readers can connect.
    static func setPermissions(endpoint: String, mode: UInt16, group: String?) throws {
        guard endpoint.hasPrefix("ipc://") else { return }
        let path = String(endpoint.dropFirst("ipc://".count))
        if path.hasPrefix("@") { return }
        if let group {
            guard let entry = getgrnam(group) else { throw WireError.endpoint(endpoint, "no such group '\(group)'") }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw WireError.endpoint(endpoint, "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw WireError.endpoint(endpoint, "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func describe(_ error: Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as NSError).localizedDescription
    }
}

extension TopicKind {
    /// Position in `allCases`, for the publisher's fixed per-topic tables.
    var index: Int {
        switch self {
        case .segmentation: return 0
        case .uncertainty: return 1
        case .verdict: return 2
        case .status: return 3
        case .meta: return 4
        }
    }
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch.
@inline(__always) public func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Whether a process accepts connections on a Unix socket path.
enum UnixSocketProbe {
    static func isListening(_ path: String) -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return rc == 0
    }
}
