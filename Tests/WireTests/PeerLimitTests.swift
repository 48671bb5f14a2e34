import Foundation
import Glibc
import Testing
@testable import Wire

/// Issue 13.1 and 13.7: what one peer can make the publisher hold, and what an ipc endpoint
/// may replace. The peers are real libzmq subscribers (pyzmq) in a child process.
@Suite("Publisher limits", .serialized)
struct PeerLimitTests {
    /// Polls the publisher until `condition` holds or `timeout` seconds pass.
    static func poll(_ publisher: Publisher, timeout: Double, until condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            publisher.pollSubscriptions()
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    static func peer(_ endpoint: String, _ mode: String, _ argument: Int = 0) throws -> Process {
        let (process, _, _) = try PythonClient.start("abusive_peer.py", [endpoint, mode, "\(argument)"])
        return process
    }

    static func end(_ process: Process) {
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test("a subscriber that stops answering heartbeats is disconnected")
    func heartbeatDropsAFrozenPeer() throws {
        var options = PublisherOptions(stream: "cam0", endpoint: "tcp://127.0.0.1:0")
        options.heartbeatIntervalMs = 100
        options.heartbeatTimeoutMs = 400
        let publisher = try Publisher(options: options, meta: testMeta())
        defer { publisher.close() }
        let peer = try Self.peer(publisher.boundEndpoint, "subscribe")
        defer { Self.end(peer) }
        #expect(Self.poll(publisher, timeout: 20) { publisher.statistics.connections == 1 && publisher.statistics.subscriptions >= 1 })
        // Frozen: the kernel still acknowledges TCP, but no PONG comes back.
        kill(peer.processIdentifier, SIGSTOP)
        #expect(Self.poll(publisher, timeout: 5) { publisher.statistics.connections == 0 },
                "connections: \(publisher.statistics.connections)")
    }

    @Test("a peer holding more subscriptions than the cap is cut off")
    func subscriptionCapCutsThePeer() throws {
        var options = PublisherOptions(stream: "cam0", endpoint: "tcp://127.0.0.1:0")
        options.maxSubscriptionsPerPeer = 64
        let publisher = try Publisher(options: options, meta: testMeta())
        defer { publisher.close() }
        let peer = try Self.peer(publisher.boundEndpoint, "many-subscriptions", 1000)
        defer { Self.end(peer) }
        #expect(Self.poll(publisher, timeout: 20) { publisher.statistics.peersCutOff >= 1 },
                "cut off \(publisher.statistics.peersCutOff), subscriptions \(publisher.statistics.subscriptions)")
        #expect(publisher.lastCutOffPeer == "127.0.0.1")
        // At most the cap (plus what arrived in the same poll) got through before the cut.
        #expect(publisher.statistics.subscriptions < 1000)
    }

    @Test("a subscription longer than max_message_bytes never reaches the trie")
    func oversizedSubscriptionIsRefused() throws {
        let publisher = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: "tcp://127.0.0.1:0"), meta: testMeta())
        defer { publisher.close() }
        let peer = try Self.peer(publisher.boundEndpoint, "big-subscription", 4 << 20)
        defer { Self.end(peer) }
        // The peer keeps reconnecting; none of its attempts gets a subscription in.
        _ = Self.poll(publisher, timeout: 3) { false }
        #expect(publisher.statistics.subscriptions == 0)
        // A normal subscriber still gets through.
        let subscriber = try Subscriber(endpoint: publisher.boundEndpoint, topics: ["cam0/meta"])
        var got = false
        let end = Date().addingTimeInterval(5)
        while !got, Date() < end {
            publisher.pollSubscriptions()
            if let m = try subscriber.receive(timeout: 0.01), m.kind == .meta { got = true }
        }
        #expect(got)
    }

    @Test("ipc: a path that is not a socket is refused, the socket gets the configured mode")
    func ipcPathAndMode() throws {
        let dir = try SocketDirectory()
        let file = "\(dir.path)/cam0.sock"
        try "keep me".write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: "ipc://\(file)"), meta: testMeta())
            Issue.record("a regular file was replaced by the socket")
        } catch {
            #expect("\(error)".contains("exists and is not a socket"), "\(error)")
        }
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "keep me")
        let link = "\(dir.path)/link.sock"
        symlink(file, link)
        #expect(throws: WireError.self) { _ = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: "ipc://\(link)"), meta: testMeta()) }

        for mode: UInt16 in [0o660, 0o600, 0o666] {
            var options = PublisherOptions(stream: "cam0", endpoint: dir.endpoint("m\(mode)"))
            options.socketMode = mode
            let publisher = try Publisher(options: options, meta: testMeta())
            var info = stat()
            #expect(stat("\(dir.path)/m\(mode).sock", &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            #expect(UInt16(info.st_mode & 0o777) == mode, "mode \(String(info.st_mode & 0o777, radix: 8))")
            publisher.close()
        }
        var options = PublisherOptions(stream: "cam0", endpoint: dir.endpoint("g"))
        options.socketGroup = "no-such-group-moeseg"
        #expect(throws: WireError.self) { _ = try Publisher(options: options, meta: testMeta()) }
    }

    @Test("tcp ports above 65535 are refused instead of wrapping")
    func tcpPorts() {
        for bad in ["tcp://127.0.0.1:65536", "tcp://127.0.0.1:70000", "tcp://127.0.0.1:-1", "tcp://127.0.0.1:",
                    "tcp://127.0.0.1", "tcp://127.0.0.1:5x", "tcp://[::1:5555"] {
            #expect(WireEndpoint.tcpProblem(bad) != nil, "\(bad)")
            #expect(throws: WireError.self) { _ = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: bad), meta: testMeta()) }
        }
        for good in ["tcp://127.0.0.1:65535", "tcp://*:5555", "tcp://127.0.0.1:*", "tcp://[::1]:5555", "tcp://eth0:0"] {
            #expect(WireEndpoint.tcpProblem(good) == nil, "\(good)")
        }
    }
}
