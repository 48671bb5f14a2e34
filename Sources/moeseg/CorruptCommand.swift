import ArgumentParser
import Evaluation
import Foundation

/// `moeseg corrupt`: a copy of a recording with every camera frame corrupted (ImageNet-C style).
struct CorruptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Write a copy of a recording with every camera frame corrupted (19 kinds x 5 severities).",
        discussion: """
            The corruptions and severities are those of the imagecorruptions package: \
            \(Corruption.allCases.map(\.name).joined(separator: ", ")). Label maps and metadata are \
            copied unchanged; a moeseg.corruption metadata record says what was done. Frame i uses \
            a seed derived from --seed and i, so the same command gives the same bytes.
            """)

    @Option(help: "Corruption name, e.g. gaussian_noise, fog, jpeg_compression.")
    var kind: String

    @Option(help: "Severity, 1 (mild) to 5 (strong).")
    var severity: String

    @Option(help: "Seed of the random corruptions.")
    var seed: String = "1"

    @Argument(help: "Recording to read (MCAP with an rgb8 or bgr8 camera channel).")
    var input: String

    @Argument(help: "Recording to write.")
    var output: String

    func run() throws {
        // Checked here rather than in validate(): bad input is one line and exit status 1,
        // not a usage message.
        guard let corruption = Corruption(name: kind) else {
            throw fail("unknown corruption '\(kind)': expected one of \(Corruption.allCases.map(\.name).joined(separator: ", "))")
        }
        guard let level = Int(severity), Corruption.severities.contains(level) else {
            throw fail("--severity must be an integer in 1...5, got '\(severity)'")
        }
        guard let seedValue = UInt64(seed) else {
            throw fail("--seed must be an unsigned 64-bit integer, got '\(seed)'")
        }
        let started = monotonicSeconds()
        let summary = try reportingErrors {
            try CorruptedRecording.write(input: input, output: output, corruption: corruption, severity: level,
                                         seed: seedValue)
        }
        let labels = summary.labelTopic.map { "\(summary.labelMaps) label maps on \($0) copied unchanged" }
            ?? "no label channel"
        var notes = ""
        if summary.skippedFrames > 0 { notes += "; \(summary.skippedFrames) frames of other encodings left out" }
        for issue in summary.inputIssues {
            FileHandle.standardError.write(Data("moeseg: warning: \(input): \(issue)\n".utf8))
        }
        print(String(format: "%@ severity %d seed %llu: %d frames of %@ -> %@; %@%@ (%.2f s)", corruption.name, level,
                     seedValue, summary.frames, summary.cameraTopic, output, labels, notes,
                     monotonicSeconds() - started))
    }
}
