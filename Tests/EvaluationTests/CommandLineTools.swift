import Foundation

/// The `moeseg` binary and Python that the command-line tests of this target run.
enum CommandLineTools {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The `moeseg` binary `swift test` built next to the test bundle (or $MOESEG_BIN).
    static func moeseg() throws -> String {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["MOESEG_BIN"] { candidates.append(configured) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(bundle.appendingPathComponent("moeseg").path)
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("moeseg").path)
        candidates.append(root.appendingPathComponent(".build/debug/moeseg").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "no moeseg binary (looked at \(candidates)); run swift build --product moeseg or set MOESEG_BIN")
        }
        return found
    }

    /// MOESEG_PYTHON, else <package root>/.venv/bin/python.
    static func python() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], FileManager.default.isExecutableFile(atPath: env) { return env }
        let venv = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else { throw Failure(description: "no Python: set MOESEG_PYTHON") }
        return venv
    }

    /// Runs a program to its end, output through files (Foundation pipes can fill up or hit EINTR).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-cli-\(UUID().uuidString)")
        let out = base.appendingPathExtension("out"), err = base.appendingPathExtension("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
