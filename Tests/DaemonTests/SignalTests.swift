import Foundation
import Glibc
import Testing
import ProcessSupport

/// Issue 13.2: the daemon's signals are blocked in every thread (also those libraries start
/// before main), stray signals do not kill it, a SIGTERM during start-up stops it cleanly and a
/// SIGHUP storm is coalesced.
@Suite("Daemon signals", .serialized)
struct SignalTests {
    /// SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM as the bits of /proc/…/status SigBlk.
    static let daemonMask: UInt64 = [SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM]
        .reduce(0) { $0 | (1 << UInt64($1 - 1)) }

    /// SigBlk of every thread of `pid`, by thread id.
    static func blockedMasks(_ pid: Int32) -> [(tid: Int32, name: String, mask: UInt64)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
                  let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16),
                  let id = Int32(tid) else { return nil }
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? "?"
            return (id, name.trimmingCharacters(in: .whitespacesAndNewlines), mask)
        }
    }

    static func waitForLog(_ daemon: ChildProcess, _ text: String, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, daemon.process.isRunning {
            if daemon.stderr.contains(text) { return true }
            usleep(20_000)
        }
        return daemon.stderr.contains(text)
    }

    @Test func everyThreadBlocksAndStraySignalsDoNotKill() throws {
        let directory = try DaemonFixtures.temporaryDirectory("signals")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--source", "synthetic:urban", "--model", try DaemonFixtures.model(in: directory),
            "--endpoint", "ipc://\(directory.path)/sig.sock", "--stream", "sig",
        ])
        defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }
        #expect(Self.waitForLog(daemon, "first frame published", timeout: 60), "\(daemon.stderr)")

        // The control thread (tid == pid) unblocks them only inside sigtimedwait; every other
        // thread, OpenBLAS's and libzmq's included, must keep them blocked all the time.
        let masks = Self.blockedMasks(daemon.pid).filter { $0.tid != daemon.pid }
        #expect(masks.count >= 3, "threads: \(masks)")
        for thread in masks {
            #expect(thread.mask & Self.daemonMask == Self.daemonMask,
                    "thread \(thread.tid) (\(thread.name)) SigBlk \(String(thread.mask, radix: 16))")
        }

        for _ in 0..<50 { kill(daemon.pid, SIGHUP) }
        kill(daemon.pid, SIGUSR1)
        kill(daemon.pid, SIGUSR2)
        kill(daemon.pid, SIGALRM)
        kill(daemon.pid, SIGPIPE)
        for _ in 0..<20 { kill(daemon.pid, SIGHUP); kill(daemon.pid, SIGUSR1) }
        usleep(1_500_000)
        #expect(daemon.process.isRunning, "a burst of signals killed the daemon: \(daemon.stderr)")
        kill(daemon.pid, SIGHUP)
        let stopped = daemon.stop(signal: SIGTERM, timeout: 10)
        #expect(stopped.exited)
        #expect(daemon.process.terminationReason == .exit && daemon.status == 0, "status \(daemon.status) \(daemon.stderr)")

        // 71 SIGHUPs within ~2 s: one reload per second at most.
        let reloads = daemon.stderr.split(separator: "\n").filter { $0.contains("SIGHUP: reloading") }
        #expect((1...4).contains(reloads.count), "reload lines: \(reloads)")
        // The ignored signals are logged, SIGUSR1 once per 10 s however many arrive.
        let usr1 = daemon.stderr.split(separator: "\n").filter { $0.contains("SIGUSR1 received: ignored") }
        #expect(usr1.count == 1, "\(usr1)")
        #expect(daemon.stderr.contains("SIGUSR2 received: ignored") && daemon.stderr.contains("SIGALRM received: ignored"))
    }

    /// SIGTERM as soon as the process has blocked its signals (before main, before OpenBLAS's
    /// threads), and again at 50 ms: each run exits 0 through the normal shutdown.
    @Test(arguments: [0.0, 0.05])
    func sigtermDuringStartUpStopsCleanly(notBefore: Double) throws {
        let directory = try DaemonFixtures.temporaryDirectory("early")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try DaemonFixtures.model(in: directory)
        for attempt in 0..<3 {
            let start = Date()
            let daemon = try ChildProcess(try MoesegTools.moeseg(), [
                "run", "--source", "synthetic:urban", "--model", model,
                "--endpoint", "ipc://\(directory.path)/early\(attempt).sock", "--stream", "early",
            ])
            defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }
            // The dynamic loader runs before the executable's first instruction; the signal is
            // sent once the main thread's mask shows the pre-init hook has run.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let main = Self.blockedMasks(daemon.pid).first(where: { $0.tid == daemon.pid }),
                   main.mask & Self.daemonMask == Self.daemonMask { break }
                usleep(200)
            }
            let wait = notBefore - Date().timeIntervalSince(start)
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            kill(daemon.pid, SIGTERM)
            #expect(daemon.waitUntilExit(timeout: 30))
            #expect(daemon.process.terminationReason == .exit && daemon.status == 0,
                    "attempt \(attempt): reason \(daemon.process.terminationReason.rawValue) status \(daemon.status) \(daemon.stderr)")
        }
    }
}
