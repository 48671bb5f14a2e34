import Foundation
import Glibc
import Recording
import Testing
import ProcessSupport

/// `moeseg record --split-size / --split-duration`: parts that are each a complete file, with
/// no frame lost or written twice at a boundary.
@Suite("moeseg record --split-*", .serialized)
struct RecordSplitTests {
    /// The part files of `base` in order (base-0000.mcap, base-0001.mcap, ...).
    private func parts(_ directory: URL, _ stem: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix(stem + "-") && $0.hasSuffix(".mcap") }.sorted()
            .map { directory.appendingPathComponent($0).path }
    }

    /// Checks every part with the Python reader; returns their reports in order.
    private func checkedParts(_ paths: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        var reports: [[String: Any]] = []
        for (i, path) in paths.enumerated() {
            #expect(path.hasSuffix(String(format: "-%04d.mcap", i)), "\(paths)", sourceLocation: sourceLocation)
            let report = try RecordingChecks.mcapCheck(path, messages: true)
            #expect(report["ok"] as? Bool == true, "\(path): \(report["errors"] ?? "")", sourceLocation: sourceLocation)
            #expect(report["has_summary"] as? Bool == true, "\(path)", sourceLocation: sourceLocation)
            #expect((report["schemas"] as? [Any])?.isEmpty == false, "\(path)", sourceLocation: sourceLocation)
            let info = (report["metadata"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "moeseg.recording" }
            let data = info?["data"] as? [String: String]
            #expect(data?["split_part"] == String(i) && data?["domain"] == "urban", "\(path): \(info ?? [:])",
                    sourceLocation: sourceLocation)
            reports.append(report)
        }
        return reports
    }

    /// Camera frames of all parts in order: their sequence numbers must run 0, 1, 2, ... once each.
    private func expectFramesOnceEach(_ reports: [[String: Any]], frames: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        var sequences: [Int] = []
        var labels = 0
        var lastTime: UInt64 = 0
        for report in reports {
            let messages = report["messages"] as? [[String: Any]] ?? []
            for m in messages where m["topic"] as? String == "/camera/image" {
                sequences.append((m["sequence"] as? NSNumber)?.intValue ?? -1)
                let time = (m["log_time"] as? NSNumber)?.uint64Value ?? 0
                #expect(time > lastTime, "log times must rise across parts", sourceLocation: sourceLocation)
                lastTime = time
            }
            labels += messages.filter { $0["topic"] as? String == "/camera/labels" }.count
            let counts = RecordingChecks.counts(report)
            #expect(counts["/camera/image"] == counts["/camera/labels"], "a frame and its labels share a part: \(counts)",
                    sourceLocation: sourceLocation)
        }
        #expect(sequences == Array(0..<frames), "\(sequences)", sourceLocation: sourceLocation)
        #expect(labels == frames, sourceLocation: sourceLocation)
    }

    @Test func splitBySize() throws {
        let directory = try DaemonFixtures.temporaryDirectory("split-size")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("drive.mcap").path
        let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:urban?width=64&height=32", "--out", out, "--max-frames", "60", "--max-rate",
            "--split-size", "64KiB",
        ])
        #expect(status == 0, "\(err)")
        #expect(!FileManager.default.fileExists(atPath: out), "with a split the parts replace --out")
        let paths = try parts(directory, "drive")
        #expect(paths.count >= 3, "\(paths)")
        // A part closes at the first frame boundary at or past the limit: one frame (8 KiB) and a summary over.
        for path in paths { #expect(RecordingChecks.size(path) < 64 * 1024 + 24 * 1024, "\(path)") }
        let reports = try checkedParts(paths)
        expectFramesOnceEach(reports, frames: 60)
        #expect(err.contains("recording continues in \(paths[1])"), "\(err)")
    }

    @Test func splitByDuration() throws {
        let directory = try DaemonFixtures.temporaryDirectory("split-duration")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("drive.mcap").path
        // 20 frames/s for 1.2 s in parts of 300 ms: about 6 frames each.
        let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:urban?width=64&height=32&fps=20", "--out", out, "--max-frames", "24",
            "--split-duration", "300ms",
        ])
        #expect(status == 0, "\(err)")
        let paths = try parts(directory, "drive")
        #expect(paths.count >= 3, "\(paths)")
        let reports = try checkedParts(paths)
        for report in reports {
            let span = ((report["end_time"] as? NSNumber)?.uint64Value ?? 0) - ((report["start_time"] as? NSNumber)?.uint64Value ?? 0)
            #expect(span < 300_000_000, "a part spans \(span) ns")
        }
        expectFramesOnceEach(reports, frames: 24)
    }

    /// With results, every part has its own result channels and meta, and each frame's results
    /// sit in the same part as the frame.
    @Test func splitWithResults() throws {
        let directory = try DaemonFixtures.temporaryDirectory("split-results")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try DaemonFixtures.model(in: directory)
        let out = directory.appendingPathComponent("drive.mcap").path
        let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:urban?width=128&height=64", "--out", out, "--max-frames", "6", "--max-rate",
            "--with-results", "--model", model, "--endpoint", "ipc://\(directory.path)/split.sock", "--stream", "sp",
            "--split-size", "4096",
        ])
        #expect(status == 0, "\(err)")
        let paths = try parts(directory, "drive")
        #expect(paths.count == 6, "a part per frame at a 4 KiB limit: \(paths)")
        let reports = try checkedParts(paths)
        for (path, report) in zip(paths, reports) {
            let counts = RecordingChecks.counts(report)
            #expect(counts["/camera/image"] == 1 && counts["sp/seg"] == 1 && counts["sp/ood"] == 1, "\(path): \(counts)")
            #expect((counts["sp/meta"] ?? 0) >= 1, "\(path): \(counts)")
        }
        expectFramesOnceEach(reports, frames: 6)
    }

    @Test func badLimitsGiveOneErrorLine() throws {
        let directory = try DaemonFixtures.temporaryDirectory("split-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("drive.mcap").path
        let cases = [
            (["--split-size", "12XB"], "--split-size: size '12XB': unknown unit 'XB'"),
            (["--split-size", "0"], "--split-size: size '0' must be a positive number"),
            (["--split-size", "100"], "below the minimum of 4096 bytes"),
            (["--split-duration", "soon"], "--split-duration: duration 'soon' must be a positive number"),
            (["--split-duration", "5 fortnights"], "unknown unit 'fortnights'"),
        ]
        for (arguments, phrase) in cases {
            let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
                "record", "--source", "synthetic:urban?width=64&height=32", "--out", out, "--max-frames", "2", "--max-rate",
            ] + arguments)
            #expect(status != 0)
            let errors = RecordingChecks.errorLines(err)
            #expect(errors.count == 1 && errors.first?.contains(phrase) == true, "\(arguments): \(err)")
            #expect(try parts(directory, "drive").isEmpty && !FileManager.default.fileExists(atPath: out))
        }
    }
}
