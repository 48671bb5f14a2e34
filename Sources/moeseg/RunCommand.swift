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

    @OptionGroup var options: DaemonOptions
    @Flag(help: "Stop at the end of a recording instead of looping.")
    var exitAtEnd = false
    @Flag(help: "Show a live one-line status on the terminal.")
    var statusLine = false

    func run() throws {
        // Before any thread exists, so every thread inherits the blocked mask.
        SignalWaiter.blockDaemonSignals()
        var overrides = options.overrides(exitAtEnd: exitAtEnd)
        overrides.statusLine = statusLine
        try runDaemon(configPath: options.config, overrides: overrides)
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
