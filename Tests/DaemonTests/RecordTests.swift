import Foundation
import Glibc
import ProcessSupport
import Testing
import Wire

@Suite("moeseg record", .serialized)
struct RecordTests {
    /// SIGTERM mid-recording closes the file with a valid summary that the Python mcap reader accepts,
    /// with the published results on protobuf channels beside the frames.
    @Test func sigtermLeavesAValidRecordingWithResults() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try DaemonFixtures.model(in: directory)
        let out = directory.appendingPathComponent("live.mcap").path
        let recorder = try ChildProcess(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:highway", "--out", out, "--with-results", "--model", model,
            "--endpoint", "ipc://\(directory.path)/rec.sock", "--stream", "rec",
        ])
        let end = Date().addingTimeInterval(60)
        while Date() < end, !recorder.stderr.contains("first frame published") { usleep(50_000) }
        // Record until six more results were published rather than for a fixed time, so a slow
        // machine (or a sanitizer build) still leaves enough frames to check.
        let subscriber = try Subscriber(endpoint: "ipc://\(directory.path)/rec.sock", topics: ["rec/seg"])
        var published = 0
        while published < 6, Date() < end { if try subscriber.receive(timeout: 0.5) != nil { published += 1 } }
        subscriber.close()
        let (exited, seconds) = recorder.stop(signal: SIGTERM)
        #expect(exited && recorder.status == 0, "\(recorder.stderr)")
        #expect(seconds < 2)

        let (status, json, err) = try ChildProcess.run(try MoesegTools.python(), [
            MoesegTools.packageRoot.appendingPathComponent("tools/mcap_check.py").path, out, "--no-messages",
        ])
        #expect(status == 0, "mcap_check: \(err) \(json.prefix(2000))")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(summary["ok"] as? Bool == true)
        #expect(summary["has_summary"] as? Bool == true)
        let channels = (summary["channels"] as? [[String: Any]]) ?? []
        var counts: [String: Int] = [:]
        for channel in channels {
            counts[channel["topic"] as? String ?? ""] = channel["count"] as? Int
            #expect(channel["message_encoding"] as? String == "protobuf")
        }
        let frames = counts["/camera/image"] ?? 0
        #expect(frames >= 5, "\(counts)")
        #expect(counts["rec/seg"] == frames, "\(counts)")
        #expect(counts["rec/ood"] == frames)
        #expect((counts["rec/unc"] ?? 0) >= frames)
        #expect((counts["rec/meta"] ?? 0) >= 1)
        #expect(counts["/camera/labels"] == frames)  // synthetic frames carry their labels
    }

    @Test func framesOnlyRecordingNeedsNoModel() throws {
        let directory = try DaemonFixtures.temporaryDirectory("record-frames")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("frames.mcap").path
        let (status, _, err) = try ChildProcess.run(try MoesegTools.moeseg(), [
            "record", "--source", "synthetic:urban", "--out", out, "--max-frames", "12", "--max-rate",
        ], environment: ["MOESEG_MODEL_DIR": "/nonexistent"])
        #expect(status == 0, "\(err)")
        let (_, replayOut, _) = try ChildProcess.run(try MoesegTools.moeseg(), ["inspect", out])
        #expect(replayOut.contains("/camera/image   12 msgs") && replayOut.contains("/camera/labels  12 msgs"), "\(replayOut)")
    }
}
