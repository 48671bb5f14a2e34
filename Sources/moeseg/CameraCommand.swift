import ArgumentParser
import Foundation
import Sensors

/// `moeseg camera DEVICE`: what a V4L2 camera offers, and whether capture from it works.
struct CameraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera",
        abstract: "List a V4L2 camera's formats, or capture from it and report fps, drops and state changes.")

    @Argument(help: "Video node, e.g. /dev/video0 or /dev/v4l/by-id/....")
    var device: String

    @Flag(help: "List capabilities, formats and frame sizes, then exit.")
    var list = false

    @Option(help: "Stop after this many frames.")
    var frames: Int = 60

    @Option(help: "Stop after this many seconds even if fewer frames came (default: none).")
    var seconds: Double?

    @Option(help: "Requested width (the driver may adjust it).")
    var width: Int?

    @Option(help: "Requested height (the driver may adjust it).")
    var height: Int?

    @Option(help: "Requested frame rate.")
    var fps: Double?

    @Option(help: "Insist on one pixel format: yuyv, rgb8 or bgr8.")
    var format: String?

    @Flag(help: "Wait for a camera that is not there yet instead of failing.")
    var wait = false

    @Option(help: "Seconds without frames after which the device counts as failed and is reopened.")
    var stallTimeout: Double = 2

    func validate() throws {
        if frames < 1 { throw ValidationError("--frames must be at least 1") }
        if let seconds, !(seconds.isFinite && seconds > 0) { throw ValidationError("--seconds must be a positive number") }
        if let width, width < 1 { throw ValidationError("--width must be positive") }
        if let height, height < 1 { throw ValidationError("--height must be positive") }
        if let fps, !(fps.isFinite && fps > 0) { throw ValidationError("--fps must be a positive number") }
        if let format, PixelFormat(rawValue: format) == nil || format == "mono8" {
            throw ValidationError("--format must be yuyv, rgb8 or bgr8")
        }
        if !(stallTimeout.isFinite && stallTimeout > 0) { throw ValidationError("--stall-timeout must be a positive number") }
    }

    func run() throws {
        try reportingErrors {
            if list { try listFormats() } else { try capture() }
        }
    }

    private func listFormats() throws {
        let (caps, formats) = try V4L2Source.describe(path: device)
        print("\(device): driver \(caps.driver), card '\(caps.card)', bus \(caps.busInfo), capabilities 0x\(String(caps.capabilities, radix: 16))"
            + " (capture \(caps.canCapture ? "yes" : "no"), streaming \(caps.canStream ? "yes" : "no"))")
        for (format, sizes) in formats {
            var notes: [String] = []
            if format.compressed { notes.append("compressed") }
            if format.emulated { notes.append("converted by libv4l2") }
            if let pixel = format.fourcc.pixelFormat { notes.append("moeseg \(pixel.rawValue)") }
            let sizeText = sizes.map { size -> String in
                switch size {
                case let .discrete(w, h): return "\(w)x\(h)"
                case let .range(minW, minH, maxW, maxH): return "\(minW)x\(minH)..\(maxW)x\(maxH)"
                }
            }.joined(separator: " ")
            print("  \(format.fourcc)  \(format.description)\(notes.isEmpty ? "" : " [\(notes.joined(separator: ", "))]")  \(sizeText)")
        }
        let chosen = V4L2Source.chooseFormat(formats.map(\.0))
        print("would use: \(chosen.map { "\($0.fourcc)\($0.emulated ? " (converted)" : " (native)")" } ?? "nothing (no usable format)")")
    }

    private func capture() throws {
        var options = V4L2Options(device: device, width: width, height: height, fps: fps,
                                  format: format.flatMap(PixelFormat.init(rawValue:)), waitForDevice: wait,
                                  stallTimeout: .milliseconds(Int(stallTimeout * 1000)))
        options.bufferCount = 4
        let source = try V4L2Source(options: options)
        let start = Date()
        var opens: UInt64 = 0
        say("state \(source.state.rawValue)")
        source.onStateChange = { old, new, reason in
            say("state \(old.rawValue) -> \(new.rawValue)\(reason.map { " (\($0))" } ?? "")")
        }
        var frame = Frame()
        var count = 0, windowCount = 0
        var windowStart = Date()
        var lastSequence: UInt64?
        var backwards = 0
        while count < frames {
            if let seconds, Date().timeIntervalSince(start) >= seconds { break }
            let result = try source.nextFrame(into: &frame, timeout: .milliseconds(200))
            if source.opens != opens, let n = source.negotiated {
                opens = source.opens
                let rate = n.fps.map { String(format: " at %.2f fps", $0) } ?? ""
                say("opened \(device) -> \(n.resolvedPath): \(n.capabilities.card), \(n.format.width)x\(n.format.height) \(n.format.fourcc)"
                    + " (\(n.converted ? "converted by libv4l2" : "native"), moeseg \(n.pixelFormat.rawValue))\(rate), \(n.buffers) buffers,"
                    + " \(n.format.bytesPerLine) bytes/row")
            }
            guard result == .frame else {
                if result == .endOfStream { break }
                continue
            }
            if let lastSequence, frame.sequence <= lastSequence { backwards += 1 }
            lastSequence = frame.sequence
            count += 1
            windowCount += 1
            let elapsed = Date().timeIntervalSince(windowStart)
            if elapsed >= 1 || count == frames {
                let age = Double(Self.monotonicNow() &- frame.monotonicNanos) / 1e6
                say(String(format: "frames %d  fps %.1f  drops %llu  seq %llu  %dx%d ", count, Double(windowCount) / elapsed,
                           source.drops, frame.sequence, frame.width, frame.height)
                    + frame.format.rawValue + String(format: "  age %.1f ms", age))
                windowCount = 0
                windowStart = Date()
            }
        }
        let total = Date().timeIntervalSince(start)
        say(String(format: "summary: frames %d in %.1f s, drops %llu (driver %llu, stale %llu, corrupt %llu), disconnects %llu, opens %llu,"
                   + " sequence went backwards %d times, state ", count, total, source.drops, source.driverDrops, source.staleDrops,
                   source.corruptDrops, source.disconnects, source.opens, backwards) + source.state.rawValue)
        source.close()
        if count == 0 { throw fail("no frame from \(device) in \(String(format: "%.1f", total)) s") }
    }

    private func say(_ line: String) {
        let stamp = String(format: "%.3f", Double(Self.monotonicNow()) / 1e9)
        print("[\(stamp)] \(line)")
        fflush(nil)
    }

    private static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
