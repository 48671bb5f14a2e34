import ArgumentParser
import Foundation
import Recording

/// `moeseg recover IN.mcap OUT.mcap`: an indexed, valid copy of a crashed or damaged recording.
struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Rewrite a recording that was never closed (kill -9, power loss, full disk) or is damaged into a valid indexed MCAP file.",
        discussion: "Keeps every message of every intact chunk with the schemas, channels and metadata the input "
            + "declares; chunks whose CRC does not match are skipped, never trusted. Prints one line with what was "
            + "recovered and what was dropped; each skipped stretch in the middle is also named on stderr.")

    @Argument(help: "The damaged or unclosed recording (read only).")
    var input: String
    @Argument(help: "The MCAP file to write (not the input; never through a symbolic link).")
    var output: String
    @Option(help: "Chunk compression of the output: zstd or none.")
    var compression: String = "zstd"

    func run() throws {
        guard let chosen = MCAPCompression.allCases.first(where: { ($0 == .none ? "none" : $0.rawValue) == compression }) else {
            throw fail("--compression must be zstd or none, got '\(compression)'")
        }
        ignoreFileSizeSignal()
        let report = try reportingErrors {
            try MCAPRecovery.recover(input: input, output: output, options: MCAPWriterOptions(compression: chosen))
        }
        for loss in report.damagedChunks { printError("warning: \(input): damaged chunk skipped, \(loss)") }
        for loss in report.skipped { printError("warning: \(input): skipped \(loss)") }
        print(report.line)
    }
}

/// One line to stderr, for warnings beside a command's own output.
private func printError(_ line: String) {
    FileHandle.standardError.write(Data("moeseg: \(line)\n".utf8))
}
