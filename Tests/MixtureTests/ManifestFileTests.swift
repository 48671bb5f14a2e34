import Foundation
import Mixture
import Testing

/// moe.toml and the files it names, when they are not what they should be: a FIFO, a device,
/// a file too large, gate inputs that repeat. Each is one error line at once, never a hang.
@Suite struct ManifestFileTests {
    static let demo = PythonReference.packageRoot.appendingPathComponent("models/demo")

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// What `MixtureModel.load` did on another thread within `seconds` (then a FIFO at `unblock` is
    /// opened for writing, so a reader stuck in open() returns).
    static func load(_ directory: URL, unblock: URL? = nil, within seconds: Double = 5) -> (error: (any Error)?, hung: Bool) {
        final class Box: @unchecked Sendable { var error: (any Error)? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try MixtureModel.load(directory: directory.path) } catch { box.error = error }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .timedOut else { return (box.error, false) }
        if let unblock {
            let fd = open(unblock.path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        _ = done.wait(timeout: .now() + seconds)
        return (box.error, true)
    }

    static func expectOneLine(_ error: (any Error)?, contains phrases: [String], _ label: String) {
        guard let error else {
            Issue.record("\(label): loaded, expected an error containing \(phrases)")
            return
        }
        let text = "\(error)"
        #expect(error is MixtureModelError, "\(label): \(type(of: error)): \(text)")
        #expect(!text.contains("\n"), "\(label): more than one line: \(text)")
        for phrase in phrases { #expect(text.contains(phrase), "\(label): \"\(text)\" lacks \"\(phrase)\"") }
    }

    /// The demo's moe-simple manifest with `change` applied, parsed against the demo's files.
    static func parseDemo(_ change: (String) -> String) throws -> MixtureManifest {
        let directory = demo.appendingPathComponent("moe-simple")
        let text = try String(contentsOf: directory.appendingPathComponent("moe.toml"), encoding: .utf8)
        return try MixtureManifest.parse(change(text), file: "moe.toml", directory: directory.path, root: demo.path)
    }

    @Test func repeatedGateInputsAreRejected() throws {
        _ = try Self.parseDemo { $0 }
        let error = #expect(throws: MixtureModelError.self) {
            try Self.parseDemo { $0.replacingOccurrences(of: "inputs = [\"features_0\", \"features_1\"]", with: "inputs = [\"features_0\", \"features_0\"]") }
        }
        #expect(error?.message.contains("features_0") == true && error?.message.contains("twice") == true, "\(String(describing: error))")
    }

    @Test func aFIFOManifestIsRefusedWithoutBlocking() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = dir.appendingPathComponent("moe.toml")
        try #require(mkfifo(manifest.path, 0o600) == 0)
        let (error, hung) = Self.load(dir, unblock: manifest)
        #expect(!hung, "reading a FIFO moe.toml blocked")
        Self.expectOneLine(error, contains: ["moe.toml", "not a regular file (a FIFO)"], "fifo moe.toml")
    }

    @Test func aDeviceManifestIsRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("moe.toml").path, withDestinationPath: "/dev/zero")
        let (error, hung) = Self.load(dir)
        #expect(!hung, "reading /dev/zero as moe.toml did not return")
        Self.expectOneLine(error, contains: ["moe.toml", "not a regular file (a character device)"], "device moe.toml")
    }

    @Test func anOversizedManifestIsRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = "# padding\n" + String(repeating: "#\n", count: MixtureManifest.maximumBytes / 2 + 1)
        try text.write(to: dir.appendingPathComponent("moe.toml"), atomically: true, encoding: .utf8)
        Self.expectOneLine(Self.load(dir).error, contains: ["moe.toml", "larger than the \(MixtureManifest.maximumBytes) bytes"], "large")
    }

    @Test func aFIFOExpertFileIsRefusedWithoutBlocking() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("moe")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = try String(contentsOf: Self.demo.appendingPathComponent("ensemble/moe.toml"), encoding: .utf8)
        try text.write(to: dir.appendingPathComponent("moe.toml"), atomically: true, encoding: .utf8)
        let experts = root.appendingPathComponent("experts")
        try FileManager.default.createDirectory(at: experts, withIntermediateDirectories: true)
        try #require(mkfifo(experts.appendingPathComponent("highway.onnx").path, 0o600) == 0)
        try #require(mkfifo(experts.appendingPathComponent("urban.onnx").path, 0o600) == 0)
        let (error, hung) = Self.load(dir, unblock: experts.appendingPathComponent("highway.onnx"))
        #expect(!hung, "loading a FIFO expert blocked")
        Self.expectOneLine(error, contains: ["highway.onnx", "not a regular file (a FIFO)"], "fifo expert")
    }
}
