import ArgumentParser
import Daemon
import Foundation
import Recording

/// `moeseg record`: frames from a source (and optionally the daemon's results) into MCAP.
struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record frames from a source to MCAP, optionally with the published results.",
        discussion: "With --with-results the mixture runs and publishes as in `moeseg run`, and every published "
            + "message is also written to the file (protobuf channels <stream>/seg, /unc, /ood, /status, /meta). "
            + "SIGTERM/SIGINT close the file with a valid summary. --out must be a regular file or a new path "
            + "(never a symbolic link); it is created with mode 0640. A write error (disk full) stops the recording "
            + "with status 1. With --split-size or --split-duration, OUT.mcap becomes OUT-0000.mcap, OUT-0001.mcap, ..., "
            + "each a complete file.")

    @OptionGroup var options: DaemonOptions
    @Option(help: "The MCAP file to write.")
    var out: String
    @Flag(help: "Also run the mixture and record the published messages (the model and endpoint options apply then).")
    var withResults = false
    @Option(help: "Start a new file once one holds this much, e.g. 512MiB, 2GB or plain bytes (at least 4096).")
    var splitSize: String?
    @Option(help: "Start a new file once it spans this long, e.g. 10m, 90s, 1h or plain seconds.")
    var splitDuration: String?

    func run() throws {
        var split: RecordingSplit?
        if let splitSize {
            do { split = RecordingSplit(maxBytes: try RecordingSplit.parseBytes(splitSize)) } catch {
                throw fail("--split-size: \(error)")
            }
        }
        if let splitDuration {
            var policy = split ?? RecordingSplit()
            do { policy.maxDurationNanos = try RecordingSplit.parseDuration(splitDuration) } catch {
                throw fail("--split-duration: \(error)")
            }
            split = policy
        }
        ignoreFileSizeSignal()
        SignalWaiter.blockDaemonSignals()
        try runDaemon(configPath: options.config, overrides: options.overrides(exitAtEnd: true),
                      record: RecordRequest(path: out, withResults: withResults, split: split))
    }
}
