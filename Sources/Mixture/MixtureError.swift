/// Why a mixture computation or an OOD monitor could not be set up or run.
public enum MixtureError: Error, Equatable, CustomStringConvertible {
    /// A geometry or configuration value is out of range.
    case invalidConfiguration(String)
    /// The "weighted" member set needs one weight per expert; a classwise gate has one per class.
    case weightedNeedsSimpleGate
    /// An input buffer does not have the size the geometry implies.
    case bufferSize(name: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why):
            return "invalid mixture configuration: \(why)"
        case .weightedNeedsSimpleGate:
            return "the \"weighted\" member set needs a simple gate (one weight per expert); a classwise gate has one weight per expert and class"
        case .bufferSize(let name, let expected, let actual):
            return "\(name) has \(actual) values, expected \(expected)"
        }
    }
}
