import Foundation
import Glibc
import Recording
import Testing
import ProcessSupport

/// `moeseg recover` on what a real crash leaves behind.
@Suite("moeseg recover", .serialized)
struct RecoverCommandTests {
    /// SIGKILL in the middle of `moeseg record`: no footer, no summary, a cut-off last chunk.
    /// `moeseg recover` makes a valid indexed file holding every message of every complete chunk.
    @Test func recordingKilledWithSigkillIsRecovered() throws {
        let directory = try DaemonFixtures.temporaryDirectory("recover-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("killed.mcap").path
        let recorder = try ChildProcess(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:urban?width=128&height=64", "--out", out, "--max-rate",
        ])
        // Three 1 MiB chunks and some of the fourth.
        let end = Date().addingTimeInterval(120)
        while Date() < end, RecordingChecks.size(out) < 3_400_000, recorder.process.isRunning { usleep(20_000) }
        #expect(recorder.process.isRunning, "\(recorder.stderr)")
        let (exited, _) = recorder.stop(signal: SIGKILL)
        #expect(exited)
        #expect(recorder.process.terminationReason == .uncaughtSignal)

        let scanned = try MCAPReader(path: out, mode: .scan)
        #expect(!scanned.hasFooter && scanned.chunks.count >= 3)
        let topics = scanned.channels.mapValues(\.topic)
        let complete = scanned.messages().map { "\(topics[$0.channelId] ?? "?") \($0.sequence) \($0.logTime)" }.sorted()

        let recovered = directory.appendingPathComponent("recovered.mcap").path
        let (status, line, err) = try ChildProcess.run(try MoesegTools.moeseg(), ["recover", out, recovered])
        #expect(status == 0, "\(err)")
        #expect(line.hasPrefix("recovered \(complete.count) messages on 2 channels from \(scanned.chunks.count) chunks into \(recovered)"),
                "\(line)")
        #expect(line.contains("bytes at the tail"), "\(line)")
        #expect(line.split(separator: "\n").count == 1)

        let report = try RecordingChecks.mcapCheck(recovered, messages: true)
        #expect(report["ok"] as? Bool == true, "\(report["errors"] ?? "")")
        #expect(report["has_summary"] as? Bool == true)
        #expect(RecordingChecks.messages(report).sorted() == complete)
        let (pyStatus, pyOut, pyErr) = try ChildProcess.run(try MoesegTools.python(), ["-c", """
            import sys
            from mcap.reader import make_reader
            with open(sys.argv[1], "rb") as f:
                reader = make_reader(f)
                summary = reader.get_summary()
                print(summary.statistics.message_count, len(summary.chunk_indexes), sum(1 for _ in reader.iter_messages()))
            """, recovered])
        #expect(pyStatus == 0, "\(pyErr)")
        let numbers = pyOut.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.count == 3 && numbers[0] == complete.count && numbers[2] == complete.count, "\(pyOut)")
        #expect(RecordingChecks.mode(recovered) == 0o640)
    }

    @Test func badArgumentsGiveOneErrorLine() throws {
        let directory = try DaemonFixtures.temporaryDirectory("recover-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let recording = try DaemonFixtures.recording(in: directory, frames: 4)
        let text = directory.appendingPathComponent("notes.txt").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        let link = directory.appendingPathComponent("link.mcap").path
        #expect(symlink(text, link) == 0)
        let out = directory.appendingPathComponent("out.mcap").path
        let cases: [([String], String)] = [
            ([directory.appendingPathComponent("missing.mcap").path, out], "No such file"),
            ([text, out], "not an MCAP file"),
            ([recording, recording], "is the input file"),
            ([recording, link], "is a symbolic link"),
            ([recording, out, "--compression", "lz4"], "--compression must be zstd or none"),
        ]
        for (arguments, phrase) in cases {
            let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), ["recover"] + arguments)
            #expect(status != 0, "\(arguments)")
            let errors = RecordingChecks.errorLines(err)
            #expect(errors.count == 1 && errors.first?.contains(phrase) == true, "\(arguments): \(err)")
        }
        #expect(try String(contentsOfFile: text, encoding: .utf8) == "hello")
        let intact = try MCAPReader(path: recording)
        #expect(intact.usedSummary && intact.issues.isEmpty)
    }
}
