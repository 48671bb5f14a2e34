import Foundation
import Glibc

/// A child process with its stdout and stderr in temporary files (Foundation's pipes can fill up
/// or hit EINTR); killed when it is released still running.
public final class ChildProcess {
    public let process = Process()
    private let outURL: URL
    private let errURL: URL

    /// Starts `executable` with `arguments`, `environment` added to this process's.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
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

    /// Runs a program to its end (killed after `timeout` seconds).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Double = 600) throws -> (status: Int32, out: String, err: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        child.waitUntilExit(timeout: timeout)
        return (child.status, child.stdout, child.stderr)
    }

    public var pid: Int32 { process.processIdentifier }
    public var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
    /// The exit status, or -1 while it runs.
    public var status: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Waits up to `timeout` seconds; returns whether the process ended (it is killed otherwise).
    @discardableResult
    public func waitUntilExit(timeout: Double) -> Bool {
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
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 5) -> (exited: Bool, seconds: Double) {
        let start = Date()
        kill(process.processIdentifier, signal)
        let exited = waitUntilExit(timeout: timeout)
        return (exited, Date().timeIntervalSince(start))
    }
}
