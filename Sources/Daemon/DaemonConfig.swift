import Engine
import Mixture
import TOMLKit
import Wire

/// What the daemon does at the end of a recording.
public enum ReplayEnd: String, Sendable {
    case loop, exit
}

/// The daemon's configuration (config/moeseg.toml documents every key).
public struct DaemonConfig: Sendable, Equatable {
    public struct Source: Sendable, Equatable {
        public var spec = "synthetic:urban"
        public var syntheticRate = 15.0
        public var syntheticWidth = 512
        public var syntheticHeight = 256
        public var syntheticSeed: UInt64 = 1
        public var replaySpeed = 1.0
        public var replayAtEnd = ReplayEnd.loop
        public var reopenBackoffMs = 250
        public var reopenBackoffMaxMs = 4000
        public var stallTimeoutMs = 2000
    }

    public struct Model: Sendable, Equatable {
        public var dir = ""
        public var routingSamples = 0
        public var routingTemperature = 0.69
        public var temperature = 0.85
        public var maps = ["pe", "mi", "ev", "gate_entropy"]
        public var essentialMaps = ["mi"]
        public var miPixelThreshold: Float = 0.5
        public var threads = 2
    }

    public struct OOD: Sendable, Equatable {
        public var thresholds = OODThresholds(gateEntropy: 0.715356, meanMutualInformation: 0.0789373)
        public var enterFrames = 3
        public var exitFrames = 10
    }

    public struct Publish: Sendable, Equatable {
        public var endpoint = "auto"
        public var stream = "front"
        public var sendHighWaterMark = 4
        public var mapEncoding = "u8"
        public var curveSecretKeyFile = ""
        public var socketMode: UInt16 = 0o660
        public var socketGroup = ""
        public var maxMessageBytes = 1024
        public var heartbeatIntervalMs = 2000
        public var heartbeatTimeoutMs = 6000
        public var maxSubscriptionsPerPeer = 256
    }

    public struct Budget: Sendable, Equatable {
        public var cpus: [Int] = []
        public var deadlineMs = 100.0
        public var degradeAfter = 3
        public var recoverAfter = 30
        public var recoverFraction = 0.8
        public var maxFrameStride = 4
    }

    public struct Status: Sendable, Equatable {
        public var intervalMs = 1000
        public var watchdogStallDeadlines = 20
    }

    public var source = Source()
    public var model = Model()
    public var ood = OOD()
    public var publish = Publish()
    public var budget = Budget()
    public var status = Status()
    public var logLevel = "info"

    /// Where the text came from, for messages (`config/moeseg.toml` or `embedded default`).
    public var origin = ""

    /// The embedded default configuration.
    public static func embeddedDefault() throws(ConfigError) -> DaemonConfig {
        try parse(EmbeddedConfig.text, origin: "embedded default")
    }

    /// Parses and validates TOML text; every problem found is reported, one per line.
    public static func parse(_ text: String, origin: String) throws(ConfigError) -> DaemonConfig {
        try ConfigInputLimits.check(text, origin: origin)  // limits TOMLKit does not enforce (ConfigInputLimits.swift)
        let table: TOMLKit.TOMLTable
        do {
            table = try TOMLKit.TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(origin: origin, problems: ["line \(error.source.begin.line): \(error.description)"])
        } catch {
            throw ConfigError(origin: origin, problems: ["\(error)"])
        }
        var reader = ConfigReader(root: table)
        var config = DaemonConfig()
        config.origin = origin
        reader.read(into: &config)
        guard reader.problems.isEmpty else { throw ConfigError(origin: origin, problems: reader.problems) }
        return config
    }
}

/// Everything wrong with a configuration, one problem per line.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let origin: String
    public let problems: [String]

    public var description: String {
        problems.map { "config \(origin): \($0)".escapedForOneLine }.joined(separator: "\n")
    }
}

/// The model maps the configuration can name (with the `pe` / `mi` aliases of the principal set).
public let knownMapNames = UncertaintyMap.configurableNames
/// The OOD score names of the `[ood]` section, in OODScore order.
public let oodScoreNames: [(String, OODScore)] = [("gate_entropy", .gateEntropy), ("mean_mi", .meanMutualInformation),
                                                 ("uncertain_fraction", .uncertainPixelFraction),
                                                 ("routing_mi", .routingMutualInformation)]

/// Walks the TOML tree with the schema, collecting problems instead of stopping at the first.
struct ConfigReader {
    let root: TOMLKit.TOMLTable
    var problems: [String] = []

    static let schema: [String: Set<String>] = [
        "source": ["spec", "synthetic_rate", "synthetic_width", "synthetic_height", "synthetic_seed", "replay_speed",
                   "replay_at_end", "reopen_backoff_ms", "reopen_backoff_max_ms", "stall_timeout_ms"],
        "model": ["dir", "routing_samples", "routing_temperature", "temperature", "maps", "essential_maps", "mi_pixel_threshold", "threads"],
        "ood": ["enabled", "gate_entropy", "mean_mi", "uncertain_fraction", "routing_mi", "enter_frames", "exit_frames"],
        "publish": ["endpoint", "stream", "send_high_water_mark", "map_encoding", "curve_secret_key_file",
                    "socket_mode", "socket_group", "max_message_bytes", "heartbeat_interval_ms", "heartbeat_timeout_ms",
                    "max_subscriptions_per_peer"],
        "budget": ["cpus", "deadline_ms", "degrade_after", "recover_after", "recover_fraction", "max_frame_stride"],
        "status": ["interval_ms", "watchdog_stall_deadlines"],
        "log": ["level"],
    ]

    init(root: TOMLKit.TOMLTable) { self.root = root }

    /// Thresholds of scores whose key is absent (the values config/moeseg.toml documents).
    static let defaultThresholds: [OODScore: Float] = [.gateEntropy: 0.715356, .meanMutualInformation: 0.0789373,
                                                       .uncertainPixelFraction: 0.2, .routingMutualInformation: 0.05]

    mutating func read(into config: inout DaemonConfig) {
        for key in root.keys.sorted() {
            guard let allowed = Self.schema[key] else {
                problems.append("unknown section or key `\(key)` (sections: \(Self.schema.keys.sorted().joined(separator: ", ")))")
                continue
            }
            guard let table = root[key]?.table else {
                problems.append("`\(key)` must be a table ([\(key)])")
                continue
            }
            for inner in table.keys.sorted() where !allowed.contains(inner) {
                problems.append("[\(key)] unknown key `\(inner)` (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }

        string("source", "spec", &config.source.spec) { $0.isEmpty ? "must not be empty" : nil }
        double("source", "synthetic_rate", &config.source.syntheticRate) { $0 >= 0.1 && $0 <= 1000 ? nil : "must be 0.1-1000 frames/s" }
        int("source", "synthetic_width", &config.source.syntheticWidth) { (16...8192).contains($0) ? nil : "must be 16-8192" }
        int("source", "synthetic_height", &config.source.syntheticHeight) { (16...8192).contains($0) ? nil : "must be 16-8192" }
        var seed = Int(config.source.syntheticSeed)
        int("source", "synthetic_seed", &seed) { $0 >= 0 ? nil : "must be ≥ 0" }
        config.source.syntheticSeed = UInt64(max(0, seed))
        double("source", "replay_speed", &config.source.replaySpeed) { $0 >= 0 && $0 <= 1000 ? nil : "must be 0 (as fast as possible) or a positive multiple ≤ 1000" }
        var atEnd = config.source.replayAtEnd.rawValue
        string("source", "replay_at_end", &atEnd) { ReplayEnd(rawValue: $0) == nil ? "must be \"loop\" or \"exit\"" : nil }
        config.source.replayAtEnd = ReplayEnd(rawValue: atEnd) ?? .loop
        int("source", "reopen_backoff_ms", &config.source.reopenBackoffMs) { (1...600_000).contains($0) ? nil : "must be 1-600000" }
        int("source", "reopen_backoff_max_ms", &config.source.reopenBackoffMaxMs) { (1...600_000).contains($0) ? nil : "must be 1-600000" }
        if config.source.reopenBackoffMaxMs < config.source.reopenBackoffMs {
            problems.append("[source] reopen_backoff_max_ms (\(config.source.reopenBackoffMaxMs)) must be ≥ reopen_backoff_ms (\(config.source.reopenBackoffMs))")
        }
        int("source", "stall_timeout_ms", &config.source.stallTimeoutMs) { (10...600_000).contains($0) ? nil : "must be 10-600000" }

        string("model", "dir", &config.model.dir) { _ in nil }
        int("model", "routing_samples", &config.model.routingSamples) { (0...256).contains($0) ? nil : "must be 0-256" }
        double("model", "routing_temperature", &config.model.routingTemperature) { $0 >= 0 && $0 <= 100 ? nil : "must be 0-100" }
        double("model", "temperature", &config.model.temperature) { $0 >= 0.05 && $0 <= 20 ? nil : "must be 0.05-20" }
        strings("model", "maps", &config.model.maps) { knownMapNames.contains($0) ? nil : "unknown map `\($0)` (known: \(knownMapNames.joined(separator: ", ")))" }
        strings("model", "essential_maps", &config.model.essentialMaps) { knownMapNames.contains($0) ? nil : "unknown map `\($0)`" }
        for name in config.model.essentialMaps where !config.model.maps.contains(name) {
            problems.append("[model] essential_maps: `\(name)` is not in maps")
        }
        var pixel = Double(config.model.miPixelThreshold)
        double("model", "mi_pixel_threshold", &pixel) { $0 >= 0 && $0 <= 10 ? nil : "must be 0-10 (nats)" }
        config.model.miPixelThreshold = Float(pixel)
        int("model", "threads", &config.model.threads) { (1...64).contains($0) ? nil : "must be 1-64" }

        var enabled = oodScoreNames.filter { config.ood.thresholds[$0.1] != nil }.map(\.0)
        strings("ood", "enabled", &enabled) { name in oodScoreNames.contains { $0.0 == name } ? nil : "unknown score `\(name)` (known: \(oodScoreNames.map(\.0).joined(separator: ", ")))" }
        var thresholds = OODThresholds(pixelMutualInformation: config.model.miPixelThreshold)
        for (name, score) in oodScoreNames {
            // Thresholds not given keep the documented defaults (config/moeseg.toml).
            var value = Double(Self.defaultThresholds[score] ?? 0)
            double("ood", name, &value) { $0.isFinite && $0 >= 0 ? nil : "must be a finite number ≥ 0" }
            guard enabled.contains(name) else { continue }
            switch score {
            case .gateEntropy: thresholds.gateEntropy = Float(value)
            case .meanMutualInformation: thresholds.meanMutualInformation = Float(value)
            case .uncertainPixelFraction: thresholds.uncertainPixelFraction = Float(value)
            case .routingMutualInformation: thresholds.routingMutualInformation = Float(value)
            }
        }
        config.ood.thresholds = thresholds
        int("ood", "enter_frames", &config.ood.enterFrames) { (1...10_000).contains($0) ? nil : "must be 1-10000" }
        int("ood", "exit_frames", &config.ood.exitFrames) { (1...10_000).contains($0) ? nil : "must be 1-10000" }

        string("publish", "endpoint", &config.publish.endpoint) { Self.endpointProblem($0) }
        string("publish", "stream", &config.publish.stream) { Self.streamProblem($0) }
        int("publish", "send_high_water_mark", &config.publish.sendHighWaterMark) { (1...100_000).contains($0) ? nil : "must be 1-100000" }
        string("publish", "map_encoding", &config.publish.mapEncoding) { ["u8", "f16", "f32"].contains($0) ? nil : "must be \"u8\", \"f16\" or \"f32\"" }
        string("publish", "curve_secret_key_file", &config.publish.curveSecretKeyFile) { _ in nil }
        var mode = "0" + String(config.publish.socketMode, radix: 8)
        if string("publish", "socket_mode", &mode, { Self.socketMode($0) == nil ? "must be an octal file mode such as \"0660\" (at most 0777)" : nil }) {
            config.publish.socketMode = Self.socketMode(mode) ?? config.publish.socketMode
        }
        string("publish", "socket_group", &config.publish.socketGroup) { _ in nil }
        int("publish", "max_message_bytes", &config.publish.maxMessageBytes) { (512...1_048_576).contains($0) ? nil : "must be 512-1048576" }
        int("publish", "heartbeat_interval_ms", &config.publish.heartbeatIntervalMs) { (0...600_000).contains($0) ? nil : "must be 0 (off) - 600000" }
        int("publish", "heartbeat_timeout_ms", &config.publish.heartbeatTimeoutMs) { (100...6_553_500).contains($0) ? nil : "must be 100-6553500" }
        int("publish", "max_subscriptions_per_peer", &config.publish.maxSubscriptionsPerPeer) { (1...100_000).contains($0) ? nil : "must be 1-100000" }

        ints("budget", "cpus", &config.budget.cpus) { (0...1023).contains($0) ? nil : "CPU \($0) out of range 0-1023" }
        double("budget", "deadline_ms", &config.budget.deadlineMs) { $0 > 0 && $0 <= 60_000 ? nil : "must be in (0, 60000]" }
        int("budget", "degrade_after", &config.budget.degradeAfter) { (1...10_000).contains($0) ? nil : "must be 1-10000" }
        int("budget", "recover_after", &config.budget.recoverAfter) { (1...100_000).contains($0) ? nil : "must be 1-100000" }
        double("budget", "recover_fraction", &config.budget.recoverFraction) { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1)" }
        int("budget", "max_frame_stride", &config.budget.maxFrameStride) { (1...100).contains($0) ? nil : "must be 1-100" }

        int("status", "interval_ms", &config.status.intervalMs) { (50...60_000).contains($0) ? nil : "must be 50-60000" }
        int("status", "watchdog_stall_deadlines", &config.status.watchdogStallDeadlines) { (1...100_000).contains($0) ? nil : "must be 1-100000" }

        string("log", "level", &config.logLevel) { DaemonLogging.level(named: $0) == nil ? "must be one of trace, debug, info, notice, warning, error, critical" : nil }
    }

    /// Why an endpoint string cannot be bound, or nil.
    static func endpointProblem(_ endpoint: String) -> String? {
        if endpoint == "auto" { return nil }
        if let problem = WireEndpoint.tcpProblem(endpoint) { return problem }
        for scheme in ["ipc://", "tcp://", "inproc://"] where endpoint.hasPrefix(scheme) && endpoint.count > scheme.count {
            return nil
        }
        return "must be \"auto\" or an ipc://, tcp:// or inproc:// endpoint, got \"\(endpoint)\""
    }

    /// An octal file mode such as "0660" or "660", at most 0777.
    static func socketMode(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.count <= 4, let value = UInt16(text, radix: 8), value <= 0o777 else { return nil }
        return value
    }

    /// Why a stream name cannot be a topic prefix, or nil.
    static func streamProblem(_ stream: String) -> String? {
        let allowed = stream.unicodeScalars.allSatisfy { ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "." }
        return !stream.isEmpty && stream.count <= 64 && allowed ? nil : "must be 1-64 characters of [A-Za-z0-9_.-], got \"\(stream)\""
    }

    // MARK: - Typed access

    private func value(_ section: String, _ key: String) -> TOMLValueConvertible? {
        root[section]?.table?[key]
    }

    private mutating func typeProblem(_ section: String, _ key: String, _ expected: String, _ found: TOMLValueConvertible) {
        problems.append("[\(section)] \(key) must be \(expected), got \(found.type) \(found.debugDescription)")
    }

    @discardableResult
    private mutating func string(_ section: String, _ key: String, _ target: inout String, _ check: (String) -> String?) -> Bool {
        guard let raw = value(section, key) else { return false }
        guard let text = raw.string else { typeProblem(section, key, "a string", raw); return false }
        if let problem = check(text) { problems.append("[\(section)] \(key): \(problem)"); return false }
        target = text
        return true
    }

    @discardableResult
    private mutating func int(_ section: String, _ key: String, _ target: inout Int, _ check: (Int) -> String?) -> Bool {
        guard let raw = value(section, key) else { return false }
        guard raw.type == .int, let number = raw.int else { typeProblem(section, key, "an integer", raw); return false }
        if let problem = check(number) { problems.append("[\(section)] \(key): \(problem), got \(number)"); return false }
        target = number
        return true
    }

    @discardableResult
    private mutating func double(_ section: String, _ key: String, _ target: inout Double, _ check: (Double) -> String?) -> Bool {
        guard let raw = value(section, key) else { return false }
        let number: Double
        if raw.type == .double, let d = raw.double { number = d }
        else if raw.type == .int, let i = raw.int { number = Double(i) }
        else { typeProblem(section, key, "a number", raw); return false }
        if let problem = check(number) { problems.append("[\(section)] \(key): \(problem), got \(number)"); return false }
        target = number
        return true
    }

    private mutating func strings(_ section: String, _ key: String, _ target: inout [String], _ check: (String) -> String?) {
        guard let raw = value(section, key) else { return }
        guard let array = raw.array else { typeProblem(section, key, "an array of strings", raw); return }
        var result: [String] = []
        for element in array {
            guard let text = element.string else { typeProblem(section, key, "an array of strings", raw); return }
            if let problem = check(text) { problems.append("[\(section)] \(key): \(problem)"); continue }
            if !result.contains(text) { result.append(text) }
        }
        target = result
    }

    private mutating func ints(_ section: String, _ key: String, _ target: inout [Int], _ check: (Int) -> String?) {
        guard let raw = value(section, key) else { return }
        guard let array = raw.array else { typeProblem(section, key, "an array of integers", raw); return }
        var result: [Int] = []
        for element in array {
            guard element.type == .int, let number = element.int else { typeProblem(section, key, "an array of integers", raw); return }
            if let problem = check(number) { problems.append("[\(section)] \(key): \(problem)"); continue }
            if !result.contains(number) { result.append(number) }
        }
        target = result
    }
}

/// Documented defaults other tools need (moeseg calibrate writes them for scores it does not fit).
public enum ConfigDefaults {
    /// The threshold config/moeseg.toml documents for `score`.
    public static func threshold(_ score: OODScore) -> Float { ConfigReader.defaultThresholds[score] ?? 0 }
}
