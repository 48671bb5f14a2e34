/// Why the scene generator refused a request.
public enum SceneError: Error, Equatable, CustomStringConvertible {
    /// Width or height outside the supported range.
    case invalidSize(width: Int, height: Int)
    /// A file could not be written.
    case writeFailed(path: String, reason: String)

    /// Smallest and largest supported image side, pixels.
    public static let sizeRange = 16...4096

    public var description: String {
        switch self {
        case let .invalidSize(width, height):
            "image size \(width)x\(height) is not supported: each side must be in \(SceneError.sizeRange.lowerBound)...\(SceneError.sizeRange.upperBound) pixels"
        case let .writeFailed(path, reason):
            "cannot write \(path): \(reason)"
        }
    }
}
