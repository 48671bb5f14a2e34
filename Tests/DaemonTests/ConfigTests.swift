import Daemon
import Foundation
import Mixture
import Testing

@Suite("Daemon config")
struct ConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func embeddedDefaultIsTheCommittedFile() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("config/moeseg.toml"), encoding: .utf8)
        #expect(EmbeddedConfig.text + "\n" == file, "run tools/dev/embed-config.sh after editing config/moeseg.toml")
    }

    @Test func embeddedDefaultParses() throws {
        let config = try DaemonConfig.embeddedDefault()
        #expect(config.source.spec == "synthetic:urban")
        #expect(config.publish.endpoint == "auto")
        #expect(config.ood.thresholds.meanMutualInformation == 0.0789373)  // tools/eval/calibrate_demo.sh
        #expect(config.ood.thresholds.gateEntropy == 0.715356)
        #expect(config.ood.thresholds.routingMutualInformation == nil)  // not in `enabled`
        #expect(config.model.maps == ["pe", "mi", "ev", "gate_entropy"] && config.model.essentialMaps == ["mi"])
        #expect(config.model.routingSamples == 0 && config.model.routingTemperature == 0.69)  // fitted, used once K > 0
        #expect(config.budget.deadlineMs == 100)
    }

    @Test func everyKeyOfTheDefaultIsCommented() throws {
        let lines = EmbeddedConfig.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where line.contains(" = ") && !line.hasPrefix("#") {
            let previous = index > 0 ? lines[index - 1] : ""
            let isContinuation = previous.contains(" = ") && !previous.hasPrefix("#")
            // A key sits under a comment, or right under a commented sibling key (a documented pair).
            #expect(previous.hasPrefix("#") || isContinuation, "key without a comment: \(line)")
        }
    }

    func problems(_ text: String) -> [String] {
        do {
            _ = try DaemonConfig.parse(text, origin: "test.toml")
            return []
        } catch {
            return error.problems
        }
    }

    /// A config file names only what it changes: absent keys take the embedded file's values.
    @Test func emptyConfigIsTheEmbeddedDefault() throws {
        var empty = try DaemonConfig.parse("", origin: "x")
        var embedded = try DaemonConfig.embeddedDefault()
        empty.origin = ""
        embedded.origin = ""
        #expect(empty == embedded)
        let partial = try DaemonConfig.parse("[ood]\nenabled = [\"routing_mi\"]\n", origin: "x")
        #expect(partial.ood.thresholds.routingMutualInformation == 0.05)
        #expect(partial.ood.thresholds.meanMutualInformation == nil)
    }

    @Test func unknownSectionsAndKeysAreReported() {
        let found = problems("[budget]\ndeadline = 10\n[camera]\nx = 1\n")
        #expect(found.count == 2)
        #expect(found.contains { $0.contains("[budget] unknown key `deadline`") })
        #expect(found.contains { $0.contains("unknown section or key `camera`") })
    }

    @Test func wrongTypesAndRangesAreReportedOnePerProblem() {
        let found = problems("""
            [budget]
            deadline_ms = "fast"
            degrade_after = 0
            cpus = [0, "one"]
            [publish]
            map_encoding = "png"
            endpoint = "udp://x"
            stream = "a/b"
            [log]
            level = "loud"
            """)
        #expect(found.count == 7, "\(found)")
        #expect(found.contains { $0.hasPrefix("[budget] deadline_ms must be a number, got string") })
        #expect(found.contains { $0.hasPrefix("[budget] degrade_after: must be 1-10000, got 0") })
        #expect(found.contains { $0.hasPrefix("[budget] cpus must be an array of integers") })
        #expect(found.contains { $0.hasPrefix("[publish] map_encoding") })
        #expect(found.contains { $0.hasPrefix("[publish] endpoint") })
        #expect(found.contains { $0.hasPrefix("[publish] stream") })
        #expect(found.contains { $0.hasPrefix("[log] level") })
    }

    /// Issue 13.5 and 13.7: rates that overflowed the source's clock, ports that wrapped, socket modes.
    @Test func ratesPortsAndSocketModesAreBounded() throws {
        for rate in ["5e-11", "0.0", "0.05", "1001"] {
            let found = problems("[source]\nsynthetic_rate = \(rate)\n")
            #expect(found.count == 1 && found[0].hasPrefix("[source] synthetic_rate: must be 0.1-1000 frames/s"), "\(rate): \(found)")
        }
        for endpoint in ["tcp://127.0.0.1:65536", "tcp://0.0.0.0:99999", "tcp://host:port", "tcp://127.0.0.1"] {
            let found = problems("[publish]\nendpoint = \"\(endpoint)\"\n")
            #expect(found.count == 1 && found[0].hasPrefix("[publish] endpoint: "), "\(endpoint): \(found)")
        }
        #expect(problems("[publish]\nendpoint = \"tcp://127.0.0.1:65535\"\n").isEmpty)
        for mode in ["\"0999\"", "\"01777\"", "\"rw\"", "660"] {
            #expect(problems("[publish]\nsocket_mode = \(mode)\n").count == 1, "\(mode)")
        }
        let config = try DaemonConfig.parse("[publish]\nsocket_mode = \"0640\"\nmax_subscriptions_per_peer = 8\n", origin: "test")
        #expect(config.publish.socketMode == 0o640 && config.publish.maxSubscriptionsPerPeer == 8)
        #expect(try DaemonConfig.embeddedDefault().publish.socketMode == 0o660)
        #expect(problems("[publish]\nmax_message_bytes = 100\nheartbeat_timeout_ms = 10\n").count == 2)
    }

    @Test func crossKeyRulesAreChecked() {
        let found = problems("""
            [model]
            maps = ["pe_stacked", "nonsense"]
            essential_maps = ["mi_stacked"]
            [ood]
            enabled = ["routing_mi"]
            [source]
            reopen_backoff_ms = 500
            reopen_backoff_max_ms = 100
            """)
        #expect(found.contains { $0.contains("unknown map `nonsense`") })
        #expect(found.contains { $0.contains("essential_maps: `mi_stacked` is not in maps") })
        #expect(found.contains { $0.contains("reopen_backoff_max_ms (100) must be ≥ reopen_backoff_ms (500)") })
    }

    @Test func syntaxErrorsNameTheLine() {
        let found = problems("[budget]\ndeadline_ms = \n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("line 2:") == true, "\(found)")
    }

    @Test func errorTextHasOneLinePerProblemWithTheOrigin() {
        do {
            _ = try DaemonConfig.parse("[log]\nlevel = 3\n[x]\n", origin: "/etc/moeseg/front.toml")
            Issue.record("expected an error")
        } catch {
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.allSatisfy { $0.hasPrefix("config /etc/moeseg/front.toml: ") })
        }
    }

    @Test func sourceSpecsParse() throws {
        #expect(try SourceSpecCheck.parse("v4l2:/dev/video0") == "v4l2:/dev/video0")
        #expect(try SourceSpecCheck.parse("replay:a.mcap") == "replay:a.mcap")
        #expect(try SourceSpecCheck.parse("synthetic:ambiguous").hasPrefix("synthetic:ambiguous"))
        for bad in ["synthetic:moon", "v4l2:", "camera:/dev/video0", "replay"] {
            #expect(throws: (any Error).self) { try SourceSpecCheck.parse(bad) }
        }
    }

    @Test func autoEndpointFollowsSystemdThenRuntimeDirectories() {
        #expect(DaemonLauncher.resolveEndpoint("tcp://127.0.0.1:5560", stream: "s", environment: [:]) == "tcp://127.0.0.1:5560")
        #expect(DaemonLauncher.resolveEndpoint("auto", stream: "front", environment: ["RUNTIME_DIRECTORY": "/run/moeseg"])
            == "ipc:///run/moeseg/front.sock")
        let fallback = DaemonLauncher.resolveEndpoint("auto", stream: "front", environment: ["XDG_RUNTIME_DIR": "/nonexistent"])
        #expect(fallback.hasPrefix("ipc://") && fallback.hasSuffix("/front.sock"))
    }
}

import Sensors

enum SourceSpecCheck {
    static func parse(_ text: String) throws -> String { try SourceSpec(parsing: text).description }
}
