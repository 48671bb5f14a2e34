/// The kinds of message on a stream; the raw value is the topic suffix after `<stream>/`.
public enum TopicKind: String, Sendable, CaseIterable {
    case segmentation = "seg"
    case uncertainty = "unc"
    case verdict = "ood"
    case status = "status"
    case meta = "meta"

    /// The full topic of this kind on a stream, e.g. `cam0/seg`.
    public func topic(stream: String) -> String { "\(stream)/\(rawValue)" }

    /// Splits `stream/suffix` into the stream name and the kind; nil for foreign topics.
    public static func parse(_ topic: String) -> (stream: String, kind: TopicKind)? {
        guard let slash = topic.lastIndex(of: "/") else { return nil }
        guard let kind = TopicKind(rawValue: String(topic[topic.index(after: slash)...])) else { return nil }
        return (String(topic[..<slash]), kind)
    }
}

/// Endpoint conventions shared by the daemon, `moeseg sub` and the Python client.
public enum WireEndpoint {
    /// The directory of the default ipc endpoints.
    public static let runDirectory = "/run/moeseg"

    /// `ipc:///run/moeseg/<stream>.sock`.
    public static func defaultEndpoint(stream: String) -> String {
        "ipc://\(runDirectory)/\(stream).sock"
    }

    /// Why a tcp:// endpoint cannot be right, or nil: its port must be `*` or 0-65535 (libzmq
    /// would otherwise wrap 65536 to 0 and bind wherever that lands). Other schemes pass.
    public static func tcpProblem(_ endpoint: String) -> String? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        let address = endpoint.dropFirst("tcp://".count)
        // A connect endpoint may name a source address first: tcp://src;host:port.
        let target = address.split(separator: ";", omittingEmptySubsequences: false).last ?? address
        guard let colon = target.lastIndex(of: ":"), colon != target.startIndex else {
            return "a tcp endpoint needs HOST:PORT"
        }
        let host = target[..<colon]
        let port = target[target.index(after: colon)...]
        if host.hasPrefix("["), !host.hasSuffix("]") { return "unterminated [IPv6] address" }
        if port == "*" { return nil }
        guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber),
              let number = Int(port), number <= 65535 else {
            return "tcp port must be * or 0-65535, got \"\(port)\""
        }
        return nil
    }
}

/// The schema version written to Meta.schema_version (moeseg.v1).
public let wireSchemaVersion: UInt32 = 1
