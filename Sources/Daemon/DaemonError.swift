/// Why the daemon cannot start or had to stop; the description is the one line the user sees.
public enum DaemonError: Error, Equatable, CustomStringConvertible {
    /// The configuration or a command-line override is invalid.
    case configuration(String)
    /// The model cannot be found or loaded.
    case model(String)
    /// The source cannot be opened and will not come back (e.g. a missing recording).
    case source(String)
    /// Publishing cannot start (endpoint busy or unwritable, bad key file).
    case publishing(String)
    /// An operating-system call failed.
    case system(String)

    public var description: String {
        switch self {
        case let .configuration(m), let .model(m), let .source(m), let .publishing(m), let .system(m): m
        }
    }
}
