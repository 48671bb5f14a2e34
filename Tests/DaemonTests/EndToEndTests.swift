import Daemon
import Foundation
import Glibc
import Testing
import Wire
import ProcessSupport

@Suite("Daemon end to end", .serialized)
struct EndToEndTests {
    /// Acceptance 1: replay → demo mixture → ZeroMQ; Swift and Python subscribers decode every topic.
    @Test func replayThroughTheMixtureToSubscribers() throws {
        let directory = try DaemonFixtures.temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try DaemonFixtures.model(in: directory)
        let recording = try DaemonFixtures.recording(in: directory)
        let endpoint = "ipc://\(directory.path)/e2e.sock"
        let manifest = try String(contentsOfFile: model + "/moe.toml", encoding: .utf8)
        let width = try #require(Self.integer(after: "width = ", in: manifest))
        let height = try #require(Self.integer(after: "height = ", in: manifest))

        // Routing samples are off by default; turn them on so the routing map crosses the wire too.
        let config = directory.appendingPathComponent("e2e.toml")
        try """
            [model]
            routing_samples = 4
            maps = ["pe_stacked", "mi_stacked", "mi_weighted", "ev", "gate_entropy", "routing_mi"]
            essential_maps = ["mi_weighted"]

            # A deadline no frame misses on a loaded CI machine: this test checks the wire, and
            # the status line's mode must stay "full" (BudgetTests cover degrading).
            [budget]
            deadline_ms = 60000

            """.write(to: config, atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(try MoesegTools.moeseg(), [
            "run", "--config", config.path, "--source", "replay:\(recording)", "--model", model, "--endpoint", endpoint,
            "--stream", "e2e",
        ])
        defer { if daemon.process.isRunning { _ = daemon.stop(signal: SIGKILL) } }

        // Swift SUB socket: every topic, map sizes, increasing sequences.
        let subscriber = try Subscriber(endpoint: endpoint, topics: ["e2e/"])
        var counts: [TopicKind: Int] = [:]
        var lastSequence: [String: UInt64] = [:]
        var mapNames = Set<String>()
        var meta: Moeseg_V1_Meta?
        let end = Date().addingTimeInterval(60)
        while Date() < end, (counts[.status] ?? 0) < 2 || (counts[.segmentation] ?? 0) < 10 || (counts[.verdict] ?? 0) < 10 {
            guard let message = try subscriber.receive(timeout: 0.5) else { continue }
            counts[message.kind, default: 0] += 1
            switch message.payload {
            case let .segmentation(seg):
                #expect(Int(seg.width) == width && Int(seg.height) == height && seg.classIds.count == width * height)
                if let last = lastSequence["seg"] { #expect(seg.header.sequence > last) }
                lastSequence["seg"] = seg.header.sequence
                #expect(seg.header.stream == "e2e")
                #expect(seg.header.latency.totalUs > 0)
            case let .uncertainty(map):
                #expect(Int(map.width) == width && Int(map.height) == height)
                let values = try #require(MapCodec.decode(map))
                #expect(values.count == width * height)
                #expect(values.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
                // Every map lies in [0, 1], so a u8 map spends all 256 codes on that range.
                #expect(map.encoding != .u8Scaled || (map.offset == 0 && abs(map.scale - 1 / 255) <= 1e-9), "\(map.map): scale \(map.scale)")
                if let last = lastSequence[map.map] { #expect(map.header.sequence > last) }
                lastSequence[map.map] = map.header.sequence
                mapNames.insert(map.map)
            case let .verdict(verdict):
                #expect(verdict.scores.contains { $0.name == "mean_mi" && $0.present && $0.enabled })
                if let last = lastSequence["ood"] { #expect(verdict.header.sequence > last) }
                lastSequence["ood"] = verdict.header.sequence
            case let .status(status):
                #expect(status.budgetMode == "full")
                #expect(status.sourceState == .streaming)
            case let .meta(m):
                meta = m
            }
        }
        #expect((counts[.segmentation] ?? 0) >= 10, "\(counts) \(daemon.stderr)")
        #expect((counts[.verdict] ?? 0) >= 10)
        #expect((counts[.status] ?? 0) >= 2)
        #expect((counts[.meta] ?? 0) >= 1)
        #expect(mapNames.isSuperset(of: ["pe_stacked", "mi_stacked", "ev", "gate_entropy", "routing_mi"]), "\(mapNames)")
        #expect(meta.map { Int($0.inputWidth) == width && $0.thresholds.contains { $0.name == "mean_mi" } } == true)
        subscriber.close()

        // A late subscriber gets meta at once (the publisher re-sends it on subscription).
        let start = Date()
        let late = try Subscriber(endpoint: endpoint, topics: ["e2e/meta"])
        let first = try late.receive(timeout: 2)
        let metaSeconds = Date().timeIntervalSince(start)
        #expect(first?.kind == .meta)
        // Meta is sent only on a subscription (no periodic copy), so its arrival proves the re-send;
        // the bound is loose because two busy cores can delay the publisher's 50 ms poll.
        #expect(metaSeconds < 1, "meta after \(metaSeconds) s")
        late.close()

        // The Python client (tools/client) decodes the same stream.
        let python = try MoesegTools.python()
        let (status, out, err) = try ChildProcess.run(python, [
            MoesegTools.packageRoot.appendingPathComponent("tools/client/check_stream.py").path,
            "--endpoint", endpoint, "--count", "600", "--expect-topics", "seg,unc,ood,status,meta",
            "--meta-within-ms", "1000", "--timeout", "30",
        ])
        #expect(status == 0, "check_stream.py: \(out) \(err)")
        let summary = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let seg = summary?["seg"] as? [String: Any]
        #expect(seg?["shape"] as? [Int] == [height, width], "\(out)")
        #expect(summary?["monotonic"] as? Bool == true)

        let (exited, seconds) = daemon.stop(signal: SIGTERM)
        #expect(exited && daemon.status == 0, "status \(daemon.status): \(daemon.stderr)")
        #expect(seconds < 2, "SIGTERM took \(seconds) s")
    }

    @Test func badInputGivesOneErrorLine() throws {
        let directory = try DaemonFixtures.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let moeseg = try MoesegTools.moeseg()
        let config = directory.appendingPathComponent("bad.toml").path
        try "[budget]\ndeadline_ms = -5\n[camera]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["run", "--source", "camera:0"], "source 'camera:0'"),
            (["run", "--source", "replay:/nonexistent.mcap"], "/nonexistent.mcap: cannot open"),
            (["run", "--source", "synthetic:urban", "--model", directory.path], "moe.toml"),
            (["run", "--config", config], "config \(config): [budget] deadline_ms: must be in (0, 60000]"),
            (["run", "--config", directory.appendingPathComponent("missing.toml").path], "cannot read config file"),
            (["run", "--stream", "a/b"], "--stream"),
        ]
        for (arguments, expected) in cases {
            let (status, _, err) = try ChildProcess.run(moeseg, arguments, environment: ["MOESEG_MODEL_DIR": directory.path])
            #expect(status == 1, "\(arguments): \(err)")
            #expect(err.contains(expected), "\(arguments): \(err)")
            #expect(err.split(separator: "\n").allSatisfy { $0.hasPrefix("moeseg: error: ") }, "\(arguments): \(err)")
            #expect(!err.contains("Fatal error") && !err.contains("crashed"))
        }
    }

    static func integer(after prefix: String, in text: String) -> Int? {
        guard let range = text.range(of: prefix) else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}
