import Foundation
import Logging
import Mixture
import Recording
import Scenes
import Sensors
import Wire

/// Command-line values that override the configuration (the `moeseg run` contract).
public struct RunOverrides: Sendable {
    public var source: String?
    public var modelDirectory: String?
    public var endpoint: String?
    public var stream: String?
    /// Stop after this many published frames.
    public var maxFrames: UInt64?
    /// Replay or synthesise as fast as inference takes frames.
    public var maxRate = false
    /// At the end of a recording, stop instead of looping.
    public var exitAtEnd = false
    public var logLevel: String?
    /// Rewrite one status line on the terminal every interval.
    public var statusLine = false

    public init() {}
}

extension SourceSpec {
    /// A replay run as fast as frames are taken (every frame matters, none may be dropped).
    func isUnpacedReplay(config: DaemonConfig) -> Bool {
        guard case let .replay(_, o) = self else { return false }
        return config.source.spec.contains("?") ? o.rate == nil : config.source.replaySpeed == 0
    }
}

/// What `moeseg record` writes.
public struct RecordRequest: Sendable {
    /// The MCAP file (with `split`, the base its parts are named after).
    public var path: String
    /// Also run the mixture and record the published messages.
    public var withResults: Bool
    /// Go on in a new file at these limits (nil: one file).
    public var split: RecordingSplit?

    public init(path: String, withResults: Bool, split: RecordingSplit? = nil) {
        self.path = path
        self.withResults = withResults
        self.split = split
    }
}

/// Builds a running daemon from a configuration: finds the model, binds the publisher,
/// opens the source, and serves until stopped.
public enum DaemonLauncher {
    /// The variant of models/demo the daemon runs by default: the int8 mixture `moeseg quantize`
    /// made from moe-simple (docs/quantization.md); the float one stays beside it.
    public static let defaultDemoVariant = "moe-simple-int8"

    /// Reads and validates a config file, or the embedded default when `path` is nil.
    public static func loadConfig(path: String?) throws(DaemonError) -> DaemonConfig {
        guard let path else {
            do { return try DaemonConfig.embeddedDefault() } catch { throw DaemonError.configuration("\(error)") }
        }
        let text = try ConfigInputLimits.read(path: path)
        do { return try DaemonConfig.parse(text, origin: path) } catch { throw DaemonError.configuration("\(error)") }
    }

    /// The model directory: the configured one, else $MOESEG_MODEL_DIR, else the demo model
    /// installed next to the binary (`<exe>/../share/moeseg/models/demo/<variant>`), else the
    /// repository's models/demo/<variant> above a `.build/<config>/moeseg` binary.
    public static func resolveModelDirectory(configured: String, environment: [String: String],
                                             executable: String) throws(DaemonError) -> String {
        if !configured.isEmpty { return configured }
        if let dir = environment["MOESEG_MODEL_DIR"], !dir.isEmpty { return dir }
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [exe.appendingPathComponent("../share/moeseg/models/demo").standardized.path]
        var dir = exe
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("models/demo").standardized.path)
        }
        for root in candidates {
            let variant = root + "/" + defaultDemoVariant
            if FileManager.default.fileExists(atPath: variant + "/moe.toml") { return variant }
        }
        throw DaemonError.model("no model: give --model DIR, set [model] dir or $MOESEG_MODEL_DIR, or install the demo model "
            + "(looked for \(defaultDemoVariant)/moe.toml in \(candidates.joined(separator: ", ")))")
    }

    /// The endpoint to bind: `auto` becomes ipc://$RUNTIME_DIRECTORY/<stream>.sock under systemd,
    /// else /run/moeseg/ when writable, else $XDG_RUNTIME_DIR/moeseg/ or /tmp/moeseg-<uid>/.
    public static func resolveEndpoint(_ endpoint: String, stream: String, environment: [String: String]) -> String {
        guard endpoint == "auto" else { return endpoint }
        if let runtime = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first, !runtime.isEmpty {
            return "ipc://\(runtime)/\(stream).sock"
        }
        if access(WireEndpoint.runDirectory, W_OK) == 0 { return WireEndpoint.defaultEndpoint(stream: stream) }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty, access(xdg, W_OK) == 0 {
            return "ipc://\(xdg)/moeseg/\(stream).sock"
        }
        return "ipc:///tmp/moeseg-\(getuid())/\(stream).sock"
    }

    /// A function that opens the configured source (called again after every failure). Options in
    /// the spec itself (`synthetic:urban?fps=30`, `replay:x.mcap?rate=2&loop=true`) win over the
    /// `[source]` keys; `--max-rate` wins over both.
    public static func sourceOpener(spec: SourceSpec, config: DaemonConfig, maxRate: Bool, exitAtEnd: Bool)
        -> @Sendable () throws -> FrameSource {
        let source = config.source
        let hasOptions = source.spec.contains("?")
        switch spec {
        case let .synthetic(o):
            let width = hasOptions ? o.width : source.syntheticWidth
            let height = hasOptions ? o.height : source.syntheticHeight
            let seed = hasOptions ? o.seed : source.syntheticSeed
            let rate: Double? = maxRate ? nil : (hasOptions ? o.fps : source.syntheticRate)
            return { try SyntheticSource(domain: o.domain, seed: seed, width: width, height: height, rate: rate) }
        case let .replay(path, o):
            let speed: Double? = hasOptions ? o.rate : (source.replaySpeed == 0 ? nil : source.replaySpeed)
            let rate: ReplayRate = maxRate ? .maximum : speed.map { .paced($0) } ?? .maximum
            let loop = !exitAtEnd && (hasOptions ? o.loop : source.replayAtEnd == .loop)
            return {
                do {
                    return try ReplaySource(path: path, options: ReplayOptions(rate: rate, loop: loop, loadLabels: false))
                } catch {
                    throw DaemonError.source("\(error)")
                }
            }
        case let .v4l2(o):
            // The V4L2 source reopens a vanished camera itself (state `unavailable`, backoff).
            var waiting = o
            waiting.waitForDevice = true
            waiting.stallTimeout = .milliseconds(source.stallTimeoutMs)
            waiting.minBackoff = .milliseconds(source.reopenBackoffMs)
            waiting.maxBackoff = .milliseconds(source.reopenBackoffMaxMs)
            let options = waiting
            return { try V4L2Source(options: options) }
        }
    }

    /// Runs the daemon until SIGTERM/SIGINT, `maxFrames` or the end of a recording; returns the exit status.
    /// Call `SignalWaiter.blockDaemonSignals()` first, before any other thread exists.
    public static func run(config base: DaemonConfig, configPath: String?, overrides: RunOverrides,
                           environment: [String: String], executable: String,
                           record: RecordRequest? = nil) throws(DaemonError) -> Int32 {
        var config = base
        if let source = overrides.source { config.source.spec = source }
        if let model = overrides.modelDirectory { config.model.dir = model }
        if let stream = overrides.stream {
            if let problem = ConfigReader.streamProblem(stream) { throw DaemonError.configuration("--stream: \(problem)") }
            config.publish.stream = stream
        }
        if let endpoint = overrides.endpoint {
            if let problem = ConfigReader.endpointProblem(endpoint) { throw DaemonError.configuration("--endpoint: \(problem)") }
            config.publish.endpoint = endpoint
        }
        let levelName = overrides.logLevel ?? config.logLevel
        guard let level = DaemonLogging.level(named: levelName) else {
            throw DaemonError.configuration("--log-level: unknown level \"\(levelName)\" (trace, debug, info, notice, warning, error, critical)")
        }
        let logger = DaemonLogging.logger(level: level)

        let spec: SourceSpec
        do { spec = try SourceSpec(parsing: config.source.spec) } catch { throw DaemonError.configuration("\(error)") }
        for cpu in config.budget.cpus where !ThreadAffinity.isAllowed(cpu) {
            throw DaemonError.configuration("[budget] cpus: CPU \(cpu) is not available to this process (\(ThreadAffinity.allowedCount) allowed)")
        }

        // Source: replays and synthetic scenes fail fast; a camera may appear later.
        let opener = sourceOpener(spec: spec, config: config, maxRate: overrides.maxRate, exitAtEnd: overrides.exitAtEnd)
        var initial: FrameSource?
        do {
            initial = try opener()
        } catch {
            if case .v4l2 = spec {
                logger.warning("source \(spec) not available yet: \(error); retrying with backoff")
            } else {
                throw DaemonError.source("\(error)")
            }
        }

        var mixture: (stage: MixtureStage, maps: Set<UncertaintyMap>, essential: Set<UncertaintyMap>, summary: String)?
        if record == nil || record?.withResults == true {
            do {
                mixture = try makeMixtureStage(config: config, environment: environment, executable: executable)
            } catch {
                initial?.close()
                throw error
            }
        }
        if let mixture {
            let peerLogger = logger
            var throttle = LogThrottle(intervalNanos: 10_000_000_000)
            mixture.stage.onPeerCutOff = { address, cap in
                let (allowed, held) = throttle.admit("cut", now: monotonicNow())
                if allowed {
                    peerLogger.warning("subscriber \(address) held more than \(cap) subscriptions: its connections were closed\(held > 0 ? " (\(held) more since the last such line)" : "")")
                }
            }
        }
        let stage: FrameStage
        var recording: RecordingStage?
        if let record {
            let domain: String
            if case let .synthetic(d) = spec { domain = d.domain.rawValue } else { domain = "camera" }
            let info = RecordingInfo(domain: domain, generatorVersion: "moeseg record", extra: ["source": spec.description])
            let stageLogger = logger
            let recorder: RecordingStage
            do {
                recorder = try RecordingStage(path: record.path, split: record.split, info: info, inner: mixture?.stage,
                                              stream: config.publish.stream) { stageLogger.info("\($0)") }
            } catch {
                initial?.close()
                mixture?.stage.close()
                throw DaemonError.system("cannot write the recording: \(error)")
            }
            recording = recorder
            stage = recorder
        } else {
            stage = mixture!.stage
        }
        let maps = mixture?.maps ?? []
        let essential = mixture?.essential ?? []
        let routingSamples = config.model.routingSamples

        var options = PipelineOptions(
            budget: BudgetPolicy(deadlineNanos: UInt64(config.budget.deadlineMs * 1e6), degradeAfter: config.budget.degradeAfter,
                                 recoverAfter: config.budget.recoverAfter, recoverFraction: config.budget.recoverFraction,
                                 maxStride: config.budget.maxFrameStride,
                                 hasRoutingSamples: routingSamples > 0 && !maps.isDisjoint(with: [.routingPE, .routingMI]),
                                 hasOptionalMaps: !maps.subtracting(essential).isEmpty),
            thresholds: config.ood.thresholds)
        options.cpus = config.budget.cpus
        options.enterFrames = config.ood.enterFrames
        options.exitFrames = config.ood.exitFrames
        options.statusIntervalNanos = UInt64(config.status.intervalMs) * 1_000_000
        options.reopenBackoffNanos = UInt64(config.source.reopenBackoffMs) * 1_000_000
        options.reopenBackoffMaxNanos = UInt64(config.source.reopenBackoffMaxMs) * 1_000_000
        options.stallTimeoutNanos = UInt64(config.source.stallTimeoutMs) * 1_000_000
        options.maxFrames = overrides.maxFrames
        if case .v4l2 = spec { options.exitAtEndOfStream = false } else {
            options.lossless = overrides.maxRate || spec.isUnpacedReplay(config: config)
        }
        let pipeline = Pipeline(options: options, source: initial, reopen: opener, stage: stage, logger: logger)

        let what = record.map { "moeseg record to \($0.path)" } ?? "moeseg run"
        logger.info("\(what): source \(spec)\(mixture.map { ", " + $0.summary } ?? ""), deadline \(config.budget.deadlineMs) ms")
        let stall = max(1_000_000_000, UInt64(config.budget.deadlineMs * 1e6) * UInt64(config.status.watchdogStallDeadlines))
        let service = DaemonService(
            pipeline: pipeline, notifier: SystemdNotifier(environment: environment), logger: logger,
            statusIntervalNanos: options.statusIntervalNanos, watchdogStallNanos: stall, statusLine: overrides.statusLine,
            reloadThresholds: {
                let fresh = try loadConfig(path: configPath)
                return fresh.ood.thresholds
            })
        let status = try service.run()
        if let recording {
            if let failure = recording.failure {
                throw DaemonError.system("recording stopped after \(recording.framesWritten) frames: \(failure)")
            }
            let files = recording.paths.count == 1 ? recording.paths[0]
                : "\(recording.paths.count) files \(recording.paths[0]) ... \(recording.paths[recording.paths.count - 1])"
            logger.info("recorded \(recording.framesWritten) frames to \(files)")
        }
        return status
    }

    /// Loads the model, binds the publisher and joins them in a stage.
    static func makeMixtureStage(config: DaemonConfig, environment: [String: String], executable: String) throws(DaemonError)
        -> (stage: MixtureStage, maps: Set<UncertaintyMap>, essential: Set<UncertaintyMap>, summary: String) {
        // Model.
        let modelDirectory = try resolveModelDirectory(configured: config.model.dir, environment: environment, executable: executable)
        let model: MixtureModel
        do { model = try MixtureModel.load(directory: modelDirectory) } catch { throw DaemonError.model("\(error)") }
        var maps = UncertaintyMap.resolve(config.model.maps, for: model.manifest)
        let essential = UncertaintyMap.resolve(config.model.essentialMaps, for: model.manifest)
        let routingSamples = config.model.routingSamples
        if routingSamples == 0 { maps.subtract([.routingPE, .routingMI]) }
        let runner: MixtureRunner
        do {
            var options = MixtureRunOptions(
                threads: 1, cpus: config.budget.cpus,
                routing: RoutingSampling(samples: routingSamples, temperature: config.model.routingTemperature, seed: 0),
                maps: maps, mutualInformationPixelThreshold: config.model.miPixelThreshold,
                parallelExperts: config.model.threads > 1)
            options.temperature = config.model.temperature
            runner = try MixtureRunner(model: model, options: options)
        } catch {
            throw DaemonError.model("\(modelDirectory): \(error)")
        }

        // Publisher.
        let endpoint = resolveEndpoint(config.publish.endpoint, stream: config.publish.stream, environment: environment)
        let encoding = MapEncoding(rawValue: config.publish.mapEncoding) ?? .u8
        var encodings: [String: MapEncoding] = [:]
        // Every map is normalised to [0, 1] (PE and MI by ln C, gate entropy by ln E), the
        // publisher's default u8 range, so all 256 codes are used.
        for map in maps { encodings[map.rawValue] = encoding }
        var curve: CurveKeys?
        if !config.publish.curveSecretKeyFile.isEmpty {
            do { curve = try CurveKeys.load(secretKeyFile: config.publish.curveSecretKeyFile) } catch {
                throw DaemonError.publishing("[publish] curve_secret_key_file: \(error)")
            }
        }
        let publisher: Publisher
        do {
            var options = PublisherOptions(stream: config.publish.stream, endpoint: endpoint,
                                           sendHighWaterMark: config.publish.sendHighWaterMark,
                                           curve: curve, mapEncodings: encodings)
            options.socketMode = config.publish.socketMode
            options.socketGroup = config.publish.socketGroup.isEmpty ? nil : config.publish.socketGroup
            options.maxInboundMessageBytes = config.publish.maxMessageBytes
            options.heartbeatIntervalMs = config.publish.heartbeatIntervalMs
            options.heartbeatTimeoutMs = config.publish.heartbeatTimeoutMs
            options.maxSubscriptionsPerPeer = config.publish.maxSubscriptionsPerPeer
            publisher = try Publisher(options: options,
                                      meta: MixtureStage.meta(model: model, thresholds: config.ood.thresholds,
                                                              enterFrames: config.ood.enterFrames, exitFrames: config.ood.exitFrames))
        } catch {
            throw DaemonError.publishing("cannot publish on \(endpoint): \(error)")
        }
        let stage = MixtureStage(runner: runner, publisher: publisher,
                                 maps: .init(all: maps, essential: essential.intersection(maps)),
                                 routingSamples: routingSamples, thresholds: config.ood.thresholds,
                                 enterFrames: config.ood.enterFrames, exitFrames: config.ood.exitFrames)

        let summary = "model \(model.manifest.id) \(model.manifest.version) (\(modelDirectory)), "
            + "publishing \(config.publish.stream)/* on \(publisher.boundEndpoint), "
            + "maps \(maps.map(\.rawValue).sorted().joined(separator: ","))"
        return (stage, maps, essential.intersection(maps), summary)
    }
}
