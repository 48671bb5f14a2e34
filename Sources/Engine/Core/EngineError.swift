/// Everything that can go wrong loading or running a model; each case reads as one line that
/// says what is wrong and, where possible, what to do.
public enum EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadableFile(path: String, reason: String)
    case corruptModel(String)
    case unsupportedOpset(domain: String, version: Int)
    case unsupportedOperators([String])
    case invalidModel(String)
    case shapeMismatch(String)
    case wrongInput(String)
    /// A tensor's external data (`file`, as the model names it) cannot be used.
    case externalData(tensor: String, file: String, problem: String)

    public var description: String { text.escapedForOneLine }

    private var text: String {
        switch self {
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .corruptModel(let why): "corrupt or truncated ONNX model: \(why)"
        case .unsupportedOpset(let domain, let version):
            "unsupported opset \(domain.isEmpty ? "ai.onnx" : domain) version \(version) (moeseg supports ai.onnx 13-18)"
        case .unsupportedOperators(let items): "unsupported operators: " + items.joined(separator: ", ")
        case .invalidModel(let why): "invalid model: \(why)"
        case .shapeMismatch(let why): "shape error: \(why)"
        case .wrongInput(let why): "wrong input: \(why)"
        case .externalData(let tensor, let file, let problem): "external data of tensor \(tensor) in '\(file)': \(problem)"
        }
    }
}
