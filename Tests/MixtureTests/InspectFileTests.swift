import Foundation
import Testing

/// `moeseg inspect` on paths that are not regular files: one error line and a non-zero exit,
/// at once (a FIFO used to block it in open()).
@Suite struct InspectFileTests {
    /// Runs moeseg, killing it after `seconds`; returns its status, stderr and whether it hung.
    static func run(_ arguments: [String], seconds: Double = 10) throws -> (status: Int32, stderr: String, hung: Bool) {
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-inspect-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try MoesegCLI.path())
        process.arguments = arguments
        let err = try FileHandle(forWritingTo: errURL)
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        let hung = done.wait(timeout: .now() + seconds) == .timedOut
        if hung {
            // SIGKILL: the child inherits the test runner's blocked signals, SIGTERM among them.
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        try? err.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: errURL), as: UTF8.self), hung)
    }

    @Test func nonRegularFilesAreOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model.onnx").path, recording = dir.appendingPathComponent("drive.mcap").path
        try #require(mkfifo(model, 0o600) == 0 && mkfifo(recording, 0o600) == 0)
        let manifestDir = dir.appendingPathComponent("moe")
        try FileManager.default.createDirectory(at: manifestDir, withIntermediateDirectories: true)
        try #require(mkfifo(manifestDir.appendingPathComponent("moe.toml").path, 0o600) == 0)
        let cases = [(model, "not a regular file (a FIFO)"), (recording, "not a regular file (a FIFO)"),
                     ("/dev/zero", "not a regular file (a character device)"), (manifestDir.path, "not a regular file (a FIFO)")]
        for (path, phrase) in cases {
            let (status, stderr, hung) = try Self.run(["inspect", path])
            #expect(!hung, "inspect \(path) hung")
            let lines = stderr.split(separator: "\n")
            #expect(status != 0, "inspect \(path): exit status 0")
            #expect(lines.count == 1 && lines[0].hasPrefix("moeseg: error: ") && lines[0].contains(phrase),
                    "inspect \(path): expected one line with \"\(phrase)\", got: \(stderr)")
        }
    }
}
