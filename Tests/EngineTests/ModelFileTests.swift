import Foundation
import Testing
@testable import Engine

/// Model files that are not plain files, and external data that does not fit the tensor: each
/// gives one EngineError line at once, naming the tensor and file, never a hang or Foundation's
/// own wording.
@Suite struct ModelFileTests {
    /// What a load did within the time allowed.
    final class Outcome: @unchecked Sendable {
        var error: (any Error)?
        var loaded = false
    }

    /// Loads `path` on another thread; after `seconds` a FIFO at `unblock` is opened for writing so
    /// a reader stuck in open() returns, and the load counts as hung.
    static func load(_ path: String, within seconds: Double = 5, unblock: String? = nil) -> (Outcome, hung: Bool) {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                _ = try InferenceSession(path: path)
                outcome.loaded = true
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .timedOut else { return (outcome, false) }
        if let unblock {
            let fd = open(unblock, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        _ = done.wait(timeout: .now() + seconds)
        return (outcome, true)
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-modelfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// y = x + W with W [1, 4] from external data described by `entries`.
    static func externalModel(_ entries: [(String, String)]) throws -> Data {
        var b = ModelBuilder()
        b.input("x", [1, 4])
        b.externalConstant("W", [1, 4], entries)
        b.node("Add", ["x", "W"], ["y"])
        b.outputs = ["y"]
        return try b.data()
    }

    static func floatBytes(_ values: [Float]) -> Data {
        Data(values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }

    /// The error is ours, one line, and says nothing in Foundation's words.
    static func expectOneLine(_ error: (any Error)?, contains phrases: [String], _ label: String) {
        guard let error else {
            Issue.record("\(label): loaded, expected an error containing \(phrases)")
            return
        }
        let text = "\(error)"
        #expect(error is EngineError, "\(label): \(type(of: error)): \(text)")
        #expect(!text.contains("\n"), "\(label): more than one line: \(text)")
        for phrase in phrases { #expect(text.contains(phrase), "\(label): \"\(text)\" lacks \"\(phrase)\"") }
        for foundation in ["couldn’t", "The file", "Error Domain", "NSCocoa", "The operation"] {
            #expect(!text.contains(foundation), "\(label): Foundation's text: \(text)")
        }
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("model.onnx").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let (outcome, hung) = Self.load(fifo, unblock: fifo)
        #expect(!hung, "loading a FIFO blocked")
        Self.expectOneLine(outcome.error, contains: ["model.onnx", "not a regular file (a FIFO)"], "fifo")
    }

    @Test func aDeviceIsRefused() {
        let (outcome, hung) = Self.load("/dev/zero")
        #expect(!hung, "loading /dev/zero did not return")
        Self.expectOneLine(outcome.error, contains: ["/dev/zero", "not a regular file (a character device)"], "/dev/zero")
    }

    @Test func missingModelSaysSo() {
        let (outcome, _) = Self.load("/nonexistent/model.onnx")
        Self.expectOneLine(outcome.error, contains: ["/nonexistent/model.onnx", "no such file"], "missing")
    }

    @Test func externalDataLoadsFromAnOffset() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try (Data(repeating: 0xAB, count: 8) + Self.floatBytes([1, 2, 3, 4])).write(to: dir.appendingPathComponent("data/w.bin"))
        let model = dir.appendingPathComponent("model.onnx")
        try Self.externalModel([("location", "data/w.bin"), ("offset", "8"), ("length", "16")]).write(to: model)
        let session = try InferenceSession(path: model.path)
        #expect(try session.run([10, 20, 30, 40]) == [[11, 22, 33, 44]])
    }

    @Test func badExternalDataIsOneLineNamingTensorAndFile() throws {
        let dir = try Self.folder()
        let outside = try Self.folder()
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: outside)
        }
        let weights = Data(repeating: 0xAB, count: 8) + Self.floatBytes([1, 2, 3, 4])
        try weights.write(to: dir.appendingPathComponent("w.bin"))
        try Data(count: 8).write(to: dir.appendingPathComponent("short.bin"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder"), withIntermediateDirectories: true)
        try weights.write(to: outside.appendingPathComponent("secret.bin"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.bin").path,
                                                   withDestinationPath: outside.appendingPathComponent("secret.bin").path)
        try #require(mkfifo(dir.appendingPathComponent("pipe.bin").path, 0o600) == 0)

        let cases: [(String, [(String, String)], [String])] = [
            ("missing", [("location", "absent.bin")], ["absent.bin", "no such file"]),
            ("parent", [("location", "../w.bin")], ["../w.bin", "relative path inside"]),
            ("absolute", [("location", "/etc/passwd")], ["/etc/passwd", "relative path inside"]),
            ("symlink out", [("location", "link.bin")], ["link.bin", "outside the model's folder"]),
            ("short file", [("location", "short.bin")], ["short.bin", "has 8 bytes; the tensor needs 16 bytes at offset 0"]),
            ("offset past end", [("location", "w.bin"), ("offset", "100")], ["w.bin", "needs 16 bytes at offset 100"]),
            ("offset at Int.max", [("location", "w.bin"), ("offset", "\(Int.max)")], ["w.bin", "at offset \(Int.max)"]),
            ("offset overflows", [("location", "w.bin"), ("offset", "99999999999999999999")], ["w.bin", "offset '99999999999999999999'"]),
            ("offset text", [("location", "w.bin"), ("offset", "abc")], ["w.bin", "offset 'abc' is not a byte count"]),
            ("negative offset", [("location", "w.bin"), ("offset", "-8")], ["w.bin", "offset '-8'"]),
            ("length text", [("location", "w.bin"), ("length", "x")], ["w.bin", "length 'x' is not a byte count"]),
            ("wrong length", [("location", "w.bin"), ("offset", "8"), ("length", "12")], ["w.bin", "length is 12 bytes"]),
            ("directory", [("location", "folder")], ["folder", "not a regular file (a directory)"]),
            ("fifo", [("location", "pipe.bin")], ["pipe.bin", "not a regular file (a FIFO)"]),
            ("newline in name", [("location", "a\nb.bin")], ["a\\nb.bin", "no such file"]),
        ]
        for (label, entries, phrases) in cases {
            let model = dir.appendingPathComponent("model-\(label.replacingOccurrences(of: " ", with: "-")).onnx")
            try Self.externalModel(entries).write(to: model)
            let (outcome, hung) = Self.load(model.path, unblock: dir.appendingPathComponent("pipe.bin").path)
            #expect(!hung, "\(label): loading blocked")
            Self.expectOneLine(outcome.error, contains: ["tensor W"] + phrases, label)
        }
    }
}
