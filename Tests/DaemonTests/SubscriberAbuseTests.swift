import Foundation
import Glibc
import Testing
import ProcessSupport

/// Issue 13.1 end to end: the daemon's memory while tcp peers send an oversized subscription
/// or declare 4 GiB messages (before ZMQ_MAXMSGSIZE: +380 MB and +1.7 GB).
@Suite("Daemon under abusive subscribers", .serialized)
struct SubscriberAbuseTests {
    static func residentMegabytes(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }

    /// A tcp port nobody listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(arguments: [("big-subscription", 4 << 20), ("huge-frame", 2)])
    func memoryStaysFlat(mode: String, argument: Int) throws {
        let directory = try DaemonFixtures.temporaryDirectory("abuse")
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "tcp://127.0.0.1:\(Self.freePort())"
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--source", "synthetic:urban", "--model", try DaemonFixtures.model(in: directory),
            "--endpoint", endpoint, "--stream", "abuse",
        ])
        defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }
        #expect(SignalTests.waitForLog(daemon, "first frame published", timeout: 60), "\(daemon.stderr)")
        usleep(500_000)
        let before = Self.residentMegabytes(daemon.pid)

        let peer = try ChildProcess(try MoesegTools.python(), [
            MoesegTools.packageRoot.appendingPathComponent("tools/client/abusive_peer.py").path, endpoint, mode, "\(argument)",
        ])
        defer { if peer.process.isRunning { _ = peer.stop(signal: SIGKILL) } }
        var peak = before
        let end = Date().addingTimeInterval(4)
        while Date() < end {
            peak = max(peak, Self.residentMegabytes(daemon.pid))
            usleep(50_000)
        }
        #expect(daemon.process.isRunning, "\(daemon.stderr)")
        #expect(peak - before < 64, "RSS \(before) MB → peak \(peak) MB; peer: \(peer.stdout) \(peer.stderr)")
        if mode == "huge-frame" {
            #expect(peer.stdout.contains("closed by server"), "peer: \(peer.stdout) \(peer.stderr)")
        }
        let stopped = daemon.stop(signal: SIGTERM, timeout: 10)
        #expect(stopped.exited && daemon.status == 0)
    }
}
