import CZeroMQ
import Foundation
import SwiftProtobuf

/// One decoded message of a stream.
public enum WirePayload: Sendable {
    case segmentation(Moeseg_V1_Segmentation)
    case uncertainty(Moeseg_V1_UncertaintyMap)
    case verdict(Moeseg_V1_OodVerdict)
    case status(Moeseg_V1_Status)
    case meta(Moeseg_V1_Meta)

    /// The header every message carries.
    public var header: Moeseg_V1_Header {
        switch self {
        case .segmentation(let m): return m.header
        case .uncertainty(let m): return m.header
        case .verdict(let m): return m.header
        case .status(let m): return m.header
        case .meta(let m): return m.header
        }
    }
}

/// A received message: its topic, its decoded payload and its size on the wire.
public struct WireMessage: Sendable {
    public var topic: String
    public var stream: String
    public var kind: TopicKind
    public var payload: WirePayload
    /// Protobuf bytes (the second frame).
    public var byteCount: Int
    /// CLOCK_REALTIME when the message was taken off the socket (0 if built by hand).
    public var receivedRealtimeNs: Int64 = 0

    /// Decodes a [topic, protobuf] pair.
    public init(topic: String, body: [UInt8]) throws {
        guard let (stream, kind) = TopicKind.parse(topic) else {
            throw WireError.malformed(topic: topic, reason: "not a moeseg topic (<stream>/seg|unc|ood|status|meta)")
        }
        do {
            switch kind {
            case .segmentation: payload = .segmentation(try Moeseg_V1_Segmentation(serializedBytes: body))
            case .uncertainty: payload = .uncertainty(try Moeseg_V1_UncertaintyMap(serializedBytes: body))
            case .verdict: payload = .verdict(try Moeseg_V1_OodVerdict(serializedBytes: body))
            case .status: payload = .status(try Moeseg_V1_Status(serializedBytes: body))
            case .meta: payload = .meta(try Moeseg_V1_Meta(serializedBytes: body))
            }
        } catch {
            throw WireError.malformed(topic: topic, reason: "protobuf: \(error)")
        }
        self.topic = topic
        self.stream = stream
        self.kind = kind
        self.byteCount = body.count
    }
}

/// A SUB socket connected to a publisher, for `moeseg sub`, tests and tools.
public final class Subscriber: @unchecked Sendable {
    private let socket: ZMQSocket

    /// Connects and subscribes to each topic prefix (`[""]` = everything). With
    /// `curveServerKey` (the server's Z85 public key) the connection is CURVE-encrypted with
    /// a fresh client key pair.
    public init(endpoint: String, topics: [String] = [""], curveServerKey: String? = nil,
                receiveHighWaterMark: Int = 1000) throws {
        if let problem = WireEndpoint.tcpProblem(endpoint) { throw WireError.endpoint(endpoint, problem) }
        socket = try ZMQSocket(type: ZMQ_SUB)
        try socket.set(ZMQ_RCVHWM, Int32(receiveHighWaterMark))
        if let curveServerKey {
            guard curveServerKey.utf8.count == 40 else { throw WireError.curve("server key must be 40 Z85 characters") }
            let mine = try CurveKeys.generate()
            try socket.set(ZMQ_CURVE_SERVERKEY, string: curveServerKey)
            try socket.set(ZMQ_CURVE_PUBLICKEY, string: mine.publicKey)
            try socket.set(ZMQ_CURVE_SECRETKEY, string: mine.secretKey)
        }
        for topic in topics.isEmpty ? [""] : topics {
            try socket.set(ZMQ_SUBSCRIBE, string: topic)
        }
        try socket.connect(endpoint)
    }

    /// The next message as raw frames, or nil if none arrived within `timeout` seconds
    /// (nil timeout: wait forever).
    public func receiveFrames(timeout: Double?) throws -> [[UInt8]]? {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            if let frames = try socket.receiveMultipart() { return frames }
            var wait = -1
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return nil }
                wait = max(1, Int((left * 1000).rounded(.up)))
            }
            if !(try socket.waitReadable(timeoutMilliseconds: wait)) && deadline != nil && deadline!.timeIntervalSinceNow <= 0 {
                return nil
            }
        }
    }

    /// The next decoded message, or nil on timeout; throws WireError.malformed for a message
    /// that is not [moeseg topic, valid protobuf].
    public func receive(timeout: Double?) throws -> WireMessage? {
        guard let frames = try receiveFrames(timeout: timeout) else { return nil }
        guard frames.count == 2 else {
            let topic = frames.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw WireError.malformed(topic: topic, reason: "expected 2 frames [topic, protobuf], got \(frames.count)")
        }
        let received = realtimeNanoseconds()
        var message = try WireMessage(topic: String(decoding: frames[0], as: UTF8.self), body: frames[1])
        message.receivedRealtimeNs = received
        return message
    }

    /// Disconnects.
    public func close() { socket.close() }
}
