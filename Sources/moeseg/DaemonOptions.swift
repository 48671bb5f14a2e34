import ArgumentParser
import Daemon

/// The options `moeseg run` and `moeseg record` share: where the config, frames, model and
/// socket come from, and when to stop.
struct DaemonOptions: ParsableArguments {
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
    @Option(help: "Stop after N frames.")
    var maxFrames: UInt64?
    @Flag(help: "Replay or synthesise frames as fast as they are taken.")
    var maxRate = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func validate() throws {
        if let maxFrames, maxFrames == 0 { throw fail("--max-frames must be at least 1") }
    }

    /// The command-line values over the config's.
    func overrides(exitAtEnd: Bool) -> RunOverrides {
        var overrides = RunOverrides()
        overrides.source = source
        overrides.modelDirectory = model
        overrides.endpoint = endpoint
        overrides.stream = stream
        overrides.maxFrames = maxFrames
        overrides.maxRate = maxRate
        overrides.exitAtEnd = exitAtEnd
        overrides.logLevel = logLevel
        return overrides
    }
}
