import ArgumentParser
import Glibc
import Recording
import Sensors

/// `moeseg replay FILE.mcap`: plays a recording's camera topic, one line per frame.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a recording's camera frames and print one line per frame.")

    @Argument(help: "MCAP recording to play.")
    var file: String

    @Option(help: "Speed relative to the recording (1.0 = as recorded).")
    var rate: Double?

    @Flag(help: "Deliver every frame as fast as possible instead of at the recorded pace.")
    var maxRate = false

    @Flag(help: "Start again from the start offset at the end of the recording.")
    var loop = false

    @Option(help: "Seconds after the first frame to start at.")
    var startOffset: Double = 0

    @Option(help: "Camera topic (default: the first foxglove.RawImage rgb8 channel).")
    var topic: String?

    @Option(help: "Stop after this many frames.")
    var maxFrames: Int?

    func validate() throws {
        if maxRate && rate != nil { throw ValidationError("--rate and --max-rate exclude each other") }
        if let rate, !(rate.isFinite && rate > 0) { throw ValidationError("--rate must be a positive number") }
        if !(startOffset.isFinite && startOffset >= 0) { throw ValidationError("--start-offset must be zero or more seconds") }
        if let maxFrames, maxFrames < 0 { throw ValidationError("--max-frames must not be negative") }
    }

    func run() throws {
        let options = ReplayOptions(rate: maxRate ? .maximum : .paced(rate ?? 1.0), loop: loop,
                                    startOffsetSeconds: startOffset, cameraTopic: topic)
        let source = try ReplaySource(path: file, options: options)
        var reported = 0
        func reportIssues() {
            let issues = source.issues
            while reported < issues.count {
                printError("warning: \(file): \(issues[reported])")
                reported += 1
            }
        }
        reportIssues()
        var frame = Frame()
        var count = 0
        while maxFrames.map({ count < $0 }) ?? true {
            let result = try source.nextFrame(into: &frame, timeout: .seconds(5))
            if result == .endOfStream { break }
            guard result == .frame else { continue }
            count += 1
            let labels = frame.labels == nil ? "" : "  labels"
            print("\(frame.sequence)  t=\(seconds(frame.monotonicNanos))  \(frame.width)x\(frame.height) "
                + "\(frame.format.rawValue)  \(frame.pixels.count) bytes\(labels)")
            fflush(nil)  // one line per frame as it plays, even into a pipe
            reportIssues()
        }
        source.close()
        print("replayed \(source.deliveredFrames) frames from \(source.cameraTopic), skipped \(source.skippedFrames)"
            + (source.undecodableFrames > 0 ? ", \(source.undecodableFrames) undecodable" : ""))
    }

    private func seconds(_ nanos: UInt64) -> String {
        let frac = String(nanos % 1_000_000_000)
        return "\(nanos / 1_000_000_000)." + String(repeating: "0", count: 9 - frac.count) + frac
    }

    private func printError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
