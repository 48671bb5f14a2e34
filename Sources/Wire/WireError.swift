/// Errors of the Wire target; each prints as one line that says what went wrong and where.
public enum WireError: Error, CustomStringConvertible, Equatable {
    /// The endpoint could not be used (bad syntax, directory not creatable, address in use).
    case endpoint(String, String)
    /// A libzmq call failed.
    case zmq(String, String)
    /// CURVE was asked for but the key files or libzmq do not allow it.
    case curve(String)
    /// A received message could not be decoded.
    case malformed(topic: String, reason: String)
    /// The publisher or subscriber was closed.
    case closed

    public var description: String {
        switch self {
        case .endpoint(let endpoint, let reason): return "cannot use endpoint \(endpoint): \(reason)"
        case .zmq(let call, let reason): return "\(call) failed: \(reason)"
        case .curve(let reason): return "CURVE: \(reason)"
        case .malformed(let topic, let reason): return "undecodable message on \(topic): \(reason)"
        case .closed: return "socket is closed"
        }
    }
}
