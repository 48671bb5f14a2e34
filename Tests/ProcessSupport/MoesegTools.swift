import Foundation

/// Where the tests that run real programs find them: the package root, the `moeseg` binary that
/// `swift test` built, and the tooling Python.
public enum MoesegTools {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A missing binary or a failed fixture step, as one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The `moeseg` binary `swift test` built next to the test bundle (or $MOESEG_BIN).
    public static func moeseg() throws -> String {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["MOESEG_BIN"] { candidates.append(configured) }
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(bundleDirectory.appendingPathComponent("moeseg").path)
        candidates.append(bundleDirectory.deletingLastPathComponent().appendingPathComponent("moeseg").path)
        candidates.append(packageRoot.appendingPathComponent(".build/debug/moeseg").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "no moeseg binary (looked at \(candidates)); run swift build --product moeseg or set MOESEG_BIN")
        }
        return found
    }

    /// MOESEG_PYTHON, else <package root>/.venv/bin/python.
    public static func python() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !env.isEmpty,
           FileManager.default.isExecutableFile(atPath: env) { return env }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw Failure(description: "no Python: set MOESEG_PYTHON or create .venv with tools/requirements.txt")
        }
        return venv
    }
}
