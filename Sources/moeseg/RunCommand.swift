import ArgumentParser
import Daemon
import Foundation

/// `moeseg run`: the daemon (source → mixture → ZeroMQ) until SIGTERM/SIGINT.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: capture, mixture with uncertainty, publish over ZeroMQ.",
        discussion: "Without --config it runs the embedded default (config/moeseg.toml): the demo model on a "
            + "synthetic source, publishing on an ipc endpoint. SIGTERM/SIGINT stop, SIGHUP reloads the OOD thresholds.")

    @Option(help: "TOML configuration file (default: the embedded config/moeseg.toml).")
    var config: String?
    @Option(help: "Frame source: v4l2:DEVICE | replay:FILE.mcap | synthetic:highway|urban|ambiguous.")
    var source: String?
    @Option(help: "Model directory (moe.toml + ONNX files).")
    var model: String?
    @Option(help: "ZeroMQ endpoint to bind, e.g. ipc:///run/moeseg/front.sock or tcp://0.0.0.0:5560.")
    var endpoint: String?
    @Option(help: "Stream name (topic prefix).")
    var stream: String?
    @Option(help: "Stop after publishing N frames.")
    var maxFrames: UInt64?
    @Flag(help: "Replay or synthesise frames as fast as inference takes them.")
    var maxRate = false
    @Flag(help: "Stop at the end of a recording instead of looping.")
    var exitAtEnd = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?
    @Flag(help: "Show a live one-line status on the terminal.")
    var statusLine = false

    func run() throws {
        // Before any thread exists, so every thread inherits the blocked mask.
        SignalWaiter.blockDaemonSignals()
        var overrides = RunOverrides()
        overrides.source = source
        overrides.modelDirectory = model
        overrides.endpoint = endpoint
        overrides.stream = stream
        overrides.maxFrames = maxFrames
        overrides.maxRate = maxRate
        overrides.exitAtEnd = exitAtEnd
        overrides.logLevel = logLevel
        overrides.statusLine = statusLine
        if let maxFrames, maxFrames == 0 { throw fail("--max-frames must be at least 1") }
        try runDaemon(configPath: config, overrides: overrides)
    }
}

/// Loads the config (the embedded one when `configPath` is nil) and runs the daemon until it
/// stops; each configuration problem becomes one `moeseg: error:` line and exit status 1.
func runDaemon(configPath: String?, overrides: RunOverrides, record: RecordRequest? = nil) throws {
    let status: Int32
    do {
        let loaded = try DaemonLauncher.loadConfig(path: configPath)
        status = try DaemonLauncher.run(config: loaded, configPath: configPath, overrides: overrides,
                                        environment: ProcessInfo.processInfo.environment,
                                        executable: "/proc/self/exe", record: record)
    } catch {
        for line in error.description.split(separator: "\n") {
            FileHandle.standardError.write(Data("moeseg: error: \(line)\n".utf8))
        }
        throw ExitCode.failure
    }
    if status != 0 { throw ExitCode(status) }
}
