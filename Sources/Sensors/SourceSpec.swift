import Scenes

/// A frame source named on the command line or in the config:
/// `v4l2:DEVICE`, `replay:FILE.mcap` or `synthetic:DOMAIN`.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    /// A V4L2 camera by device path (a /dev/v4l/by-id link is resolved again on every open).
    case v4l2(device: String)
    /// A recording.
    case replay(path: String)
    /// The procedural scene generator.
    case synthetic(domain: SceneDomain)

    /// Parses `kind:argument`; the error says what is accepted.
    public init(parsing text: String) throws(SourceSpecError) {
        guard let colon = text.firstIndex(of: ":") else { throw SourceSpecError(text: text) }
        let kind = text[..<colon]
        let argument = String(text[text.index(after: colon)...])
        switch kind {
        case "v4l2" where !argument.isEmpty: self = .v4l2(device: argument)
        case "replay" where !argument.isEmpty: self = .replay(path: argument)
        case "synthetic":
            guard let domain = SceneDomain(rawValue: argument) else { throw SourceSpecError(text: text) }
            self = .synthetic(domain: domain)
        default: throw SourceSpecError(text: text)
        }
    }

    /// The spec as written.
    public var description: String {
        switch self {
        case let .v4l2(device): "v4l2:\(device)"
        case let .replay(path): "replay:\(path)"
        case let .synthetic(domain): "synthetic:\(domain.rawValue)"
        }
    }
}

/// A source spec that does not parse.
public struct SourceSpecError: Error, Equatable, CustomStringConvertible {
    public let text: String

    public var description: String {
        let domains = SceneDomain.allCases.map(\.rawValue).joined(separator: "|")
        return "invalid source \"\(text)\": expected v4l2:DEVICE, replay:FILE.mcap or synthetic:\(domains)"
    }
}
