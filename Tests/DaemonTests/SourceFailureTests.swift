import Foundation
import Glibc
import Testing
import Wire
import ProcessSupport

/// Issue 13.3 and 13.4: a recording damaged while it is replayed, and a camera that is not
/// there or is not a camera, are logged and published, and the first ends the run with a failure.
@Suite("Daemon source failures", .serialized)
struct SourceFailureTests {
    /// Statuses received on `endpoint` until `condition` holds for one of them or `timeout` passes.
    static func waitForStatus(_ subscriber: Subscriber, timeout: Double, _ condition: (Moeseg_V1_Status) -> Bool)
        throws -> Moeseg_V1_Status? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            guard let message = try subscriber.receive(timeout: 0.2), case let .status(status) = message.payload else { continue }
            if condition(status) { return status }
        }
        return nil
    }

    @Test func recordingDamagedWhileLoopingFailsTheRun() throws {
        let directory = try DaemonFixtures.temporaryDirectory("damage")
        defer { try? FileManager.default.removeItem(at: directory) }
        let recording = try DaemonFixtures.recording(in: directory, frames: 60)
        let endpoint = "ipc://\(directory.path)/damage.sock"
        // The embedded default loops a replay (replay_at_end = "loop").
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--source", "replay:\(recording)", "--model", try DaemonFixtures.model(in: directory),
            "--endpoint", endpoint, "--stream", "damage",
        ])
        defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }
        let subscriber = try Subscriber(endpoint: endpoint, topics: ["damage/status"])
        #expect(SignalTests.waitForLog(daemon, "first frame published", timeout: 60), "\(daemon.stderr)")

        // Corrupt the middle third in place, as a failing disk or a careless copy would.
        let handle = try #require(FileHandle(forUpdatingAtPath: recording))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 3)
        handle.write(Data(repeating: 0xA5, count: Int(size / 3)))
        try handle.close()

        let damaged = try Self.waitForStatus(subscriber, timeout: 30) { $0.sourceDetail.contains("damaged") }
        #expect(damaged != nil, "no status told of the damage; log: \(daemon.stderr)")
        #expect(daemon.waitUntilExit(timeout: 30), "still running: \(daemon.stderr)")
        #expect(daemon.status == 1, "exit \(daemon.status): \(daemon.stderr)")
        #expect(daemon.stderr.contains("error moeseg: source replay:\(recording)"), "\(daemon.stderr)")
        #expect(daemon.stderr.contains("moeseg: error: source replay:\(recording) ended after damage was found"), "\(daemon.stderr)")
    }

    @Test(arguments: ["/dev/null", "/dev/moeseg-no-such-camera"])
    func cameraThatIsNotThereIsPublishedUnavailable(device: String) throws {
        let directory = try DaemonFixtures.temporaryDirectory("v4l2")
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://\(directory.path)/cam.sock"
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--source", "v4l2:\(device)?wait=true", "--model", try DaemonFixtures.model(in: directory),
            "--endpoint", endpoint, "--stream", "cam",
        ])
        defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }
        let subscriber = try Subscriber(endpoint: endpoint, topics: ["cam/status"])
        let status = try Self.waitForStatus(subscriber, timeout: 30) { $0.sourceState == .unavailable }
        #expect(status?.sourceDetail.contains(device) == true, "status \(String(describing: status)); log \(daemon.stderr)")
        #expect(SignalTests.waitForLog(daemon, "source v4l2:\(device) unavailable: ", timeout: 10), "\(daemon.stderr)")
        // One line per outage, not one per retry.
        usleep(1_500_000)
        let lines = daemon.stderr.split(separator: "\n").filter { $0.contains("unavailable: ") }
        #expect(lines.count == 1, "\(lines)")
        let stopped = daemon.stop(signal: SIGTERM, timeout: 10)
        #expect(stopped.exited && daemon.status == 0)
    }
}
