import ArgumentParser
import Daemon
import Foundation

/// `moeseg record`: frames from a source (and optionally the daemon's results) into MCAP.
struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record frames from a source to MCAP, optionally with the published results.",
        discussion: "With --with-results the mixture runs and publishes as in `moeseg run`, and every published "
            + "message is also written to the file (protobuf channels <stream>/seg, /unc, /ood, /status, /meta). "
            + "SIGTERM/SIGINT close the file with a valid summary.")

    @Option(help: "Frame source: v4l2:DEVICE | replay:FILE.mcap | synthetic:highway|urban|ambiguous.")
    var source: String?
    @Option(help: "The MCAP file to write.")
    var out: String
    @Flag(help: "Also run the mixture and record the published messages.")
    var withResults = false
    @Option(help: "Stop after N frames.")
    var maxFrames: UInt64?
    @Option(help: "TOML configuration file (default: the embedded config/moeseg.toml).")
    var config: String?
    @Option(help: "Model directory (with --with-results).")
    var model: String?
    @Option(help: "ZeroMQ endpoint to bind (with --with-results).")
    var endpoint: String?
    @Option(help: "Stream name (topic prefix).")
    var stream: String?
    @Flag(help: "Replay or synthesise frames as fast as they are recorded.")
    var maxRate = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() throws {
        SignalWaiter.blockDaemonSignals()
        if let maxFrames, maxFrames == 0 { throw fail("--max-frames must be at least 1") }
        var overrides = RunOverrides()
        overrides.source = source
        overrides.modelDirectory = model
        overrides.endpoint = endpoint
        overrides.stream = stream
        overrides.maxFrames = maxFrames
        overrides.maxRate = maxRate
        overrides.exitAtEnd = true
        overrides.logLevel = logLevel
        try runDaemon(configPath: config, overrides: overrides, record: RecordRequest(path: out, withResults: withResults))
    }
}
