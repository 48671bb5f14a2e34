import Foundation
import Glibc
import Recording
import Testing
import ProcessSupport

/// Where `moeseg record` may write, with what permissions, and what a write error does.
@Suite("moeseg record output file", .serialized)
struct RecordOutputTests {
    private static let smallSource = "synthetic:urban?width=128&height=64"

    /// A symbolic link at --out is refused with one error line; the file it points at is untouched.
    @Test func symbolicLinkAtOutIsRefused() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record-link")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("notes.txt").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: target))
        let out = directory.appendingPathComponent("out.mcap").path
        #expect(symlink(target, out) == 0)
        let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
            "record", "--source", Self.smallSource, "--out", out, "--max-frames", "3", "--max-rate",
        ])
        #expect(status != 0)
        let errors = RecordingChecks.errorLines(err)
        #expect(errors.count == 1 && errors.first?.contains("is a symbolic link; refusing to follow it") == true, "\(err)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious")
    }

    /// A FIFO at --out is refused at once (no reader: open must not block) with one error line.
    @Test func fifoAtOutIsRefusedWithoutHanging() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record-fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("pipe.mcap").path
        #expect(mkfifo(out, 0o600) == 0)
        let recorder = try ChildProcess(try MoesegTools.moeseg(), [
            "record", "--source", Self.smallSource, "--out", out, "--max-frames", "3", "--max-rate",
        ])
        #expect(recorder.waitUntilExit(timeout: 30), "moeseg record hung on a FIFO")
        #expect(recorder.status != 0)
        let errors = RecordingChecks.errorLines(recorder.stderr)
        #expect(errors.count == 1 && errors.first?.contains("is a FIFO, not a regular file") == true, "\(recorder.stderr)")
    }

    /// Even with umask 0 the recording is 0640, not world-readable; a stricter umask is honoured.
    @Test func recordingIsMode0640UnderAPermissiveUmask() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record-umask")
        defer { try? FileManager.default.removeItem(at: directory) }
        for (umask, expected) in [("0", 0o640), ("002", 0o640), ("077", 0o600)] as [(String, UInt32)] {
            let out = directory.appendingPathComponent("frames-\(umask).mcap").path
            let recorder = try RecordingChecks.moesegInShell("umask \(umask)", [
                "record", "--source", Self.smallSource, "--out", out, "--max-frames", "3", "--max-rate",
            ])
            recorder.waitUntilExit(timeout: 120)
            #expect(recorder.status == 0, "\(recorder.stderr)")
            #expect(RecordingChecks.mode(out) == expected, "umask \(umask): mode \(String(RecordingChecks.mode(out), radix: 8))")
        }
    }

    /// A write error (here the file size limit, EFBIG, which is what a full disk looks like to the
    /// writer) stops the recording with status 1 and one error line, instead of running on; the
    /// complete chunks written before it stay readable and `moeseg recover` indexes them.
    @Test func writeErrorStopsTheRecording() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record-efbig")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("frames.mcap").path
        // 6000 blocks: 3 MB (dash counts 512-byte blocks) or 6 MB (1024-byte): a few 1 MiB chunks.
        let recorder = try RecordingChecks.moesegInShell("ulimit -f 6000", [
            "record", "--source", Self.smallSource, "--out", out, "--max-rate",
        ])
        #expect(recorder.waitUntilExit(timeout: 120), "moeseg record ran on after the write error")
        #expect(recorder.status == 1, "status \(recorder.status): \(recorder.stderr)")
        let errors = RecordingChecks.errorLines(recorder.stderr)
        #expect(errors.count == 1, "\(recorder.stderr)")
        #expect(errors.first?.contains("write failed: File too large") == true, "\(recorder.stderr)")
        #expect(errors.first?.contains("recording stopped after") == true, "\(recorder.stderr)")
        #expect(RecordingChecks.size(out) <= 6000 * 1024)

        // The file ends after its last complete record (the failed write was cut back).
        let scanned = try MCAPReader(path: out, mode: .scan)
        let kept = scanned.messages().map { $0 }
        #expect(kept.count >= 2, "\(scanned.issues)")
        #expect(scanned.issues.map(\.kind) == [.truncated], "\(scanned.issues)")
        #expect(!scanned.issues.contains { $0.message.contains("bytes are lost") }, "\(scanned.issues)")

        let recovered = directory.appendingPathComponent("recovered.mcap").path
        let (status, line, err) = try ChildProcess.run(try MoesegTools.moeseg(), ["recover", out, recovered])
        #expect(status == 0, "\(err)")
        #expect(line.hasPrefix("recovered \(kept.count) messages on 2 channels"), "\(line)")
        let report = try RecordingChecks.mcapCheck(recovered)
        #expect(report["ok"] as? Bool == true, "\(report["errors"] ?? "")")
        #expect((report["message_count"] as? NSNumber)?.intValue == kept.count)
    }
}
