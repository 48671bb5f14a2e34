/// Why an MCAP file could not be written or opened at all.
public enum MCAPError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, read or written (path, system reason).
    case io(String, String)
    /// The file does not start with the MCAP magic.
    case badMagic(String)
    /// Compression failed (writer side).
    case compression(String)
    /// The writer was used after `close()`.
    case writerClosed
    /// A caller passed something the format cannot hold (e.g. more than 65535 channels).
    case invalidArgument(String)
    /// An id referenced something that was never registered.
    case unknownId(String)

    public var description: String {
        switch self {
        case let .io(path, reason): "\(path): \(reason)"
        case let .badMagic(path): "\(path): not an MCAP file (bad magic)"
        case let .compression(reason): "compression failed: \(reason)"
        case .writerClosed: "MCAP writer already closed"
        case let .invalidArgument(reason): "invalid argument: \(reason)"
        case let .unknownId(reason): "unknown id: \(reason)"
        }
    }
}

/// Something wrong inside a file the reader could still open: what happened and what it
/// cost. Readers keep going past these and report them instead of trusting bad data.
public struct MCAPIssue: Sendable, Equatable, CustomStringConvertible {
    /// What kind of damage.
    public enum Kind: String, Sendable {
        /// The file ends before a record, the summary or the footer is complete.
        case truncated
        /// A CRC did not match; the data it covers was not used.
        case crcMismatch
        /// A record's fields contradict each other or the file.
        case malformed
        /// Valid MCAP we cannot decode (e.g. lz4 chunks).
        case unsupported
        /// The summary section is unusable; the reader scanned the data section instead.
        case summaryUnusable
    }

    /// What kind of damage.
    public var kind: Kind
    /// File offset of the record concerned, when known.
    public var offset: UInt64?
    /// One line saying what happened and what was lost.
    public var message: String

    public var description: String {
        if let offset { return "\(kind.rawValue) at byte \(offset): \(message)" }
        return "\(kind.rawValue): \(message)"
    }
}
