import Foundation
import Testing

/// Runs the Python reference tools in tools/ (the `mcap` package is the reference
/// implementation these tests compare against).
enum PythonTools {
    /// The package root, three levels above this file.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// MOESEG_PYTHON, else <package root>/.venv/bin/python; nil if neither exists.
    static var python: String? {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !env.isEmpty {
            return FileManager.default.isExecutableFile(atPath: env) ? env : nil
        }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Why no interpreter was found; these tests fail rather than skip without one.
    static var missingPython: Failure {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !env.isEmpty {
            return Failure(description: "MOESEG_PYTHON=\(env) is not an executable Python")
        }
        return Failure(description: "no Python for the interop tests: set MOESEG_PYTHON or create "
            + "\(packageRoot.path)/.venv with tools/requirements.txt")
    }

    /// Runs `tools/<script> args...`; returns (exit status, stdout, stderr).
    static func run(_ script: String, _ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        guard let python else { throw missingPython }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [packageRoot.appendingPathComponent("tools/\(script)").path] + args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stdout can be large (per-message JSON) and is drained first; stderr stays small.
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, stdoutData, String(decoding: stderrData, as: UTF8.self))
    }

    /// Runs a tool that prints one JSON object and returns it.
    static func json(_ script: String, _ args: [String]) throws -> [String: Any] {
        let (status, stdout, stderr) = try run(script, args)
        guard let object = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any] else {
            throw Failure(description: "\(script) exited \(status) without JSON: \(stderr)")
        }
        return object
    }

    /// Runs tools/mcap_check.py on a file and returns its JSON summary.
    static func check(_ path: String, messages: Bool = true) throws -> [String: Any] {
        try json("mcap_check.py", [path] + (messages ? [] : ["--no-messages"]))
    }

    /// Runs inline Python code; returns stdout.
    static func inline(_ code: String) throws -> String {
        guard let python else { throw missingPython }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", code]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "python -c failed: \(code)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A scratch directory removed at the end of a test.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-rec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Deterministic test data (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// JSON number → UInt64 (JSONSerialization gives NSNumber).
func u64(_ any: Any?) -> UInt64? {
    if let n = any as? NSNumber { return n.uint64Value }
    return nil
}

func int(_ any: Any?) -> Int? {
    if let n = any as? NSNumber { return n.intValue }
    return nil
}
