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
            + "SIGTERM/SIGINT close the file with a valid summary. --out must be a regular file or a new path "
            + "(never a symbolic link); it is created with mode 0640. A write error (disk full) stops the recording "
            + "with status 1.")

    @OptionGroup var options: DaemonOptions
    @Option(help: "The MCAP file to write.")
    var out: String
    @Flag(help: "Also run the mixture and record the published messages (the model and endpoint options apply then).")
    var withResults = false

    func run() throws {
        ignoreFileSizeSignal()
        SignalWaiter.blockDaemonSignals()
        try runDaemon(configPath: options.config, overrides: options.overrides(exitAtEnd: true),
                      record: RecordRequest(path: out, withResults: withResults))
    }
}
