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
}

/// The schema version written to Meta.schema_version (moeseg.v1).
public let wireSchemaVersion: UInt32 = 1
