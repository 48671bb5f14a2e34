import Daemon
import Foundation
import Glibc
import Testing
import ProcessSupport

/// A datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    let fd: Int32
    let path: String

    /// Binds a filesystem socket at `path`, or an abstract one when `path` starts with `@`.
    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (bytes[0] == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw MoesegTools.Failure(description: "cannot bind \(path): errno \(errno)") }
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// The next datagram, or nil after `timeout` seconds.
    func receive(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}

@Suite("sd_notify", .serialized)
struct NotifyTests {
    @Test func notifierReachesAbstractAndPathSockets() throws {
        let directory = try DaemonFixtures.temporaryDirectory("notify-unit")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["@moeseg-test-\(getpid())", directory.appendingPathComponent("notify.sock").path] {
            let server = try NotifySocket(path: name)
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
            #expect(notifier.isEnabled)
            #expect(notifier.send("READY=1\nSTATUS=ok"))
            #expect(server.receive(timeout: 1) == "READY=1\nSTATUS=ok")
        }
        #expect(!SystemdNotifier(environment: [:]).isEnabled)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "500000"]).watchdogNanos == 500_000_000)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"]).watchdogNanos == nil)
    }

    @Test func daemonSendsReadyWatchdogStatusAndStopping() throws {
        let directory = try DaemonFixtures.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try DaemonFixtures.model(in: directory)
        let recording = try DaemonFixtures.recording(in: directory)
        let socketPath = directory.appendingPathComponent("notify.sock").path
        // A deadline no frame misses on a loaded machine, so the status line says "mode full".
        let config = directory.appendingPathComponent("notify.toml")
        try "[budget]\ndeadline_ms = 60000\n".write(to: config, atomically: true, encoding: .utf8)
        let server = try NotifySocket(path: socketPath)
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--config", config.path, "--source", "replay:\(recording)", "--model", model,
            "--endpoint", "ipc://\(directory.path)/pub.sock", "--stream", "notifytest",
        ], environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"])

        var seen: [String] = []
        let end = Date().addingTimeInterval(60)
        // READY after the first frame, then watchdog pings (every 200 ms) and status lines (every second).
        while Date() < end, !(seen.contains("READY=1") && seen.filter({ $0 == "WATCHDOG=1" }).count >= 3
                              && seen.contains(where: { $0.hasPrefix("STATUS=fps") && $0.contains("source streaming") })) {
            guard let message = server.receive(timeout: 1) else { continue }
            seen.append(contentsOf: message.split(separator: "\n").map(String.init))
        }
        #expect(seen.contains("READY=1"), "\(seen) \(daemon.stderr)")
        #expect(seen.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(seen)")
        #expect(seen.contains { $0.hasPrefix("STATUS=fps") && $0.contains("mode full") && $0.contains("source streaming") }, "\(seen)")
        // WATCHDOG only after READY (frames must flow before the first ping).
        if let ready = seen.firstIndex(of: "READY=1"), let ping = seen.firstIndex(of: "WATCHDOG=1") {
            #expect(ready < ping)
        }

        let (exited, seconds) = daemon.stop(signal: SIGTERM)
        var tail: [String] = []
        while let message = server.receive(timeout: 0.5) { tail.append(message) }
        #expect(exited && daemon.status == 0, "status \(daemon.status): \(daemon.stderr)")
        #expect(seconds < 2, "SIGTERM took \(seconds) s")
        #expect(tail.contains("STOPPING=1"), "\(tail)")
        #expect(daemon.stderr.contains("SIGTERM received: stopping"))
    }
}
