import ArgumentParser
import Foundation
import Wire

/// `moeseg bench-wire`: publishing cost per frame with and without a stalled subscriber.
struct BenchWire: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-wire",
        abstract: "Measure the publisher's time per frame with and without a stalled subscriber.")

    @Option(help: "Frames per phase (phases alternate: reader, reader + stalled subscriber).")
    var frames = 150

    @Option(help: "Rounds of the two phases.")
    var rounds = 2

    @Option(help: "Frames per second (0: back to back).")
    var rate: Double = 15

    @Option(help: "Frame size WIDTHxHEIGHT.")
    var size = "512x256"

    @Option(help: "Busy work per frame standing in for inference, in milliseconds.")
    var workMs: Double = 0

    @Option(help: "Maps and encodings, e.g. pe_stacked:u8,ev:f16.")
    var maps = "pe_stacked:u8,mi_stacked:u8,ev:u8,gate_entropy:f16,routing_mi:f16"

    @Option(help: "Endpoint to publish on (default: an ipc socket in /tmp), e.g. to watch with `moeseg sub`.")
    var endpoint: String?

    @Flag(help: "Run without the reading subscriber (for counting allocations under valgrind).")
    var noReader = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if frames < 1 || rounds < 1 { throw ValidationError("--frames and --rounds must be at least 1") }
        if !(rate.isFinite && rate >= 0) { throw ValidationError("--rate must be 0 or more") }
        if !(workMs.isFinite && workMs >= 0) { throw ValidationError("--work-ms must be 0 or more") }
    }

    func run() throws {
        try reportingErrors {
            var options = WireBenchmark.Options()
            options.framesPerPhase = frames
            options.rounds = rounds
            options.rate = rate
            options.workMilliseconds = workMs
            options.reader = !noReader
            options.endpoint = endpoint
            let dims = size.split(separator: "x").compactMap { Int($0) }
            guard dims.count == 2, dims.allSatisfy({ (1...8192).contains($0) }) else { throw fail("--size must be WIDTHxHEIGHT, got \(size)") }
            options.width = dims[0]
            options.height = dims[1]
            var parsed: [String: MapEncoding] = [:]
            for item in maps.split(separator: ",") {
                let parts = item.split(separator: ":")
                guard parts.count == 2, let encoding = MapEncoding(rawValue: String(parts[1])) else {
                    throw fail("--maps wants name:u8|f16|f32 items, got '\(item)'")
                }
                parsed[String(parts[0])] = encoding
            }
            options.maps = parsed
            let r = try WireBenchmark(options: options).run()
            if json {
                let phase = { (p: WireBenchmark.Phase) -> [String: Any] in
                    ["frames": p.frames, "publish_mean_us": p.publishMean, "publish_p50_us": p.publishP50,
                     "publish_p99_us": p.publishP99, "frame_mean_us": p.frameMean, "frame_p50_us": p.frameP50,
                     "frame_p99_us": p.frameP99]
                }
                let object: [String: Any] = [
                    "without_stalled": phase(r.withoutStalled), "with_stalled": phase(r.withStalled),
                    "publish_mean_ratio": r.publishMeanRatio, "publish_p99_ratio": r.publishP99Ratio,
                    "publish_p50_ratio": r.publishP50Ratio, "frame_p50_ratio": r.frameP50Ratio,
                    "frame_mean_ratio": r.frameMeanRatio, "reader_received": r.readerReceived, "sent": r.sent,
                    "stalled_received_seg": r.stalledReceivedSeg, "bytes_per_frame": r.bytesPerFrame,
                    "send_buffers_created": r.sendBuffersCreated]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("bench-wire: \(options.width)x\(options.height) seg + \(parsed.count) maps (\(r.bytesPerFrame) payload bytes/frame), "
                + "\(rate == 0 ? "back to back" : "\(rate) frames/s"), work \(workMs) ms/frame, \(rounds)x\(frames) frames per phase")
            for p in [r.withoutStalled, r.withStalled] {
                print(String(format: "  %-15@ publish mean %7.1f us  p50 %7.1f us  p99 %7.1f us   frame mean %8.1f us  p50 %8.1f us  p99 %8.1f us",
                             p.name as NSString, p.publishMean, p.publishP50, p.publishP99, p.frameMean, p.frameP50, p.frameP99))
            }
            print(String(format: "  ratio with/without stalled subscriber: publish p50 %.3f, mean %.3f, p99 %.3f; frame p50 %.3f, mean %.3f",
                         r.publishP50Ratio, r.publishMeanRatio, r.publishP99Ratio, r.frameP50Ratio, r.frameMeanRatio))
            print("  reader received \(r.readerReceived) of \(r.sent) messages; stalled subscribers got \(r.stalledReceivedSeg) seg messages of \(rounds * frames); "
                + "\(r.sendBuffersCreated) pooled send buffers made in all")
        }
    }
}
