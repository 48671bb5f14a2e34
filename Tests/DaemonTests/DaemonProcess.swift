import Foundation
import Glibc
import Testing

/// Paths and fixtures shared by the tests that run the real `moeseg` binary.
enum DaemonFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The `moeseg` binary `swift test` built next to the test bundle (or $MOESEG_BIN).
    static func moeseg() throws -> String {
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
    static func python() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !env.isEmpty,
           FileManager.default.isExecutableFile(atPath: env) { return env }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw Failure(description: "no Python: set MOESEG_PYTHON or create .venv with tools/requirements.txt")
        }
        return venv
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-daemon-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The model the process tests run: the committed demo model when present, else a small
    /// randomly initialised 2-expert mixture (64×32) built with tools/reference/random_mixtures.py.
    static func model(in directory: URL) throws -> String {
        let demo = packageRoot.appendingPathComponent("models/demo/moe-simple")
        if FileManager.default.fileExists(atPath: demo.appendingPathComponent("moe.toml").path) { return demo.path }
        let out = directory.appendingPathComponent("models")
        let (status, _, err) = try runToEnd(python(), [packageRoot.appendingPathComponent("tools/reference/random_mixtures.py").path, out.path])
        guard status == 0 else { throw Failure(description: "random_mixtures.py failed: \(err)") }
        return out.appendingPathComponent("moe2-simple").path
    }

    /// A short synthetic urban recording made by `moeseg synth`.
    static func recording(in directory: URL, frames: Int = 40, size: String = "128x64") throws -> String {
        let path = directory.appendingPathComponent("urban.mcap").path
        let (status, _, err) = try runToEnd(moeseg(), ["synth", "--domain", "urban", "--frames", "\(frames)", "--seed", "5",
                                                        "--size", size, "--out", path])
        guard status == 0 else { throw Failure(description: "moeseg synth failed: \(err)") }
        return path
    }

    /// Runs a program to completion, output through files (pipes from Foundation can hit EINTR).
    static func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> (Int32, String, String) {
        let process = try DaemonProcess(executable, arguments, environment: environment)
        process.waitUntilExit(timeout: 600)
        return (process.status, process.stdout, process.stderr)
    }
}

/// A child process with its stdout and stderr in temporary files.
final class DaemonProcess {
    let process = Process()
    private let outURL: URL
    private let errURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-proc-\(UUID().uuidString)")
        outURL = base.appendingPathExtension("out")
        errURL = base.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Waits up to `timeout` seconds; returns whether the process ended (it is killed otherwise).
    @discardableResult
    func waitUntilExit(timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < end { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        process.waitUntilExit()
        return true
    }

    /// Sends `signal` and measures how long the process takes to exit.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 5) -> (exited: Bool, seconds: Double) {
        let start = Date()
        kill(process.processIdentifier, signal)
        let exited = waitUntilExit(timeout: timeout)
        return (exited, Date().timeIntervalSince(start))
    }
}
