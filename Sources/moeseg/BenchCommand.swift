import ArgumentParser
import Engine
import Foundation
import NumPyIO

/// `moeseg bench`: latency of a model over many runs, after warm-up.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a model's latency (median, p90, min) and resident memory.")

    @Option(name: .long, help: "The ONNX model file, or a model directory (moe.toml): the whole mixture with uncertainty.")
    var model: String

    @Option(name: .long, help: "Threads that share each layer.")
    var threads: Int = 1

    @Option(name: .long, help: "Measured runs.")
    var iterations: Int = 50

    @Option(name: .long, help: "Unmeasured runs first (packing, caches, page faults).")
    var warmup: Int = 5

    @Option(name: .long, help: "Input .npy (default: seeded pseudo-random values in [-1, 1]).")
    var input: String?

    @Option(name: .customLong("input-shape"), help: "Shape for an input with open dimensions, e.g. 1x3x256x512.")
    var inputShape: String?

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(name: .long, help: "Time every node and print where the time goes.")
    var profile = false
    @Option(name: .customLong("profile-nodes"), help: "With --profile: how many of the slowest nodes to list.")
    var profileNodes: Int = 10

    @Flag(name: .long, help: "Model directory only: run the experts one after another instead of in parallel.")
    var sequential = false

    @Flag(name: .long, help: "Model directory only: measure parallel and sequential experts in the same run, frames alternating.")
    var compare = false

    @Option(name: .customLong("routing-samples"), help: "Model directory only: routing samples K per frame.")
    var routingSamples: Int = 0

    @Option(name: .long, help: "Model directory only: the maps to compute: daemon (the daemon's default maps), all, or a list such as pe,mi,ev (pe/mi: the model's principal set).")
    var maps = "daemon"

    @Option(name: .long, help: "Model directory only: CPUs to pin the expert workers to, e.g. 0,1.")
    var cpus: String?

    @Option(name: .customLong("frame-size"), help: "Model directory only: camera frame size WxH to preprocess (default: the model's input size).")
    var frameSize: String?

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard routingSamples >= 0, routingSamples <= 1024 else { throw ValidationError("--routing-samples must be in 0...1024") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            try reportingErrors {
                let cpuList = try (cpus ?? "").split(separator: ",").map { text -> Int in
                    guard let cpu = Int(text), cpu >= 0 else { throw fail("--cpus must look like 0,1") }
                    return cpu
                }
                var size: (Int, Int)? = nil
                if let frameSize {
                    let parts = frameSize.split(separator: "x").compactMap { Int($0) }
                    guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 <= 16384 }) else { throw fail("--frame-size must look like 1280x720") }
                    size = (parts[0], parts[1])
                }
                try MixtureBench.run(.init(directory: model, threads: threads, iterations: iterations, warmup: warmup, json: json,
                                           sequential: sequential, compare: compare, routingSamples: routingSamples,
                                           maps: maps, cpus: cpuList,
                                           frameWidth: size?.0, frameHeight: size?.1))
            }
            return
        }
        try reportingErrors {
            var shape: [Int]? = nil
            var values: [Float]? = nil
            if let input {
                let array = try NumPyArray(contentsOf: URL(fileURLWithPath: input))
                shape = array.shape
                values = array.values
            } else if let inputShape {
                let dims = inputShape.split(separator: "x").compactMap { Int($0) }
                guard !dims.isEmpty, dims.count == inputShape.split(separator: "x").count else {
                    throw fail("--input-shape must look like 1x3x256x512")
                }
                shape = dims
            }
            let session = try InferenceSession(path: model, options: .init(threads: threads, firstInputShape: shape, profile: profile))
            let buffer = session.inputBuffer(0)
            if let values, values.count != buffer.count {
                throw fail("input has \(values.count) values, the model needs \(buffer.count)")
            }
            // The arena reuses the input's memory, so the input is written before every run;
            // without a file it is regenerated in place rather than kept as a second copy.
            func writeInput() {
                if let values {
                    _ = buffer.update(fromContentsOf: values)
                    return
                }
                var state: UInt64 = 0x9E37_79B9_7F4A_7C15
                for i in buffer.indices {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    buffer[i] = Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1
                }
            }
            for _ in 0..<warmup {
                writeInput()
                session.run()
            }
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            for _ in 0..<iterations {
                writeInput()
                let t0 = DispatchTime.now().uptimeNanoseconds
                session.run()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            let sorted = samples.sorted()
            func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))] }
            let report: [(String, Any)] = [
                ("model", model), ("threads", session.threads), ("iterations", iterations), ("warmup", warmup),
                ("median_ms", pct(0.5)), ("p90_ms", pct(0.9)), ("p99_ms", pct(0.99)), ("min_ms", sorted[0]),
                ("mean_ms", samples.reduce(0, +) / Double(samples.count)),
                ("load_ms", session.loadSeconds * 1000),
                ("peak_rss_mb", ProcessMemory.peakResidentMB), ("rss_mb", ProcessMemory.residentMB),
                ("weights_mb", Double(session.weightBytes) / 1_048_576), ("arena_mb", Double(session.arenaBytes) / 1_048_576),
                ("scratch_mb", Double(session.statistics.scratchBytes) / 1_048_576),
                ("gflops_per_run", Double(session.statistics.flops) / 1e9),
                ("samples_ms", samples),
            ]
            if json {
                print(JSONLine.object(report))
            } else {
                print(String(format: "%@: %d threads, median %.2f ms, p90 %.2f ms, min %.2f ms over %d runs (load %.0f ms)",
                             model, session.threads, pct(0.5), pct(0.9), sorted[0], iterations, session.loadSeconds * 1000))
                print(String(format: "memory: peak RSS %.1f MB, RSS %.1f MB; weights %.1f MB, arena %.1f MB, scratch %.1f MB; %.2f GFLOP per run",
                             ProcessMemory.peakResidentMB, ProcessMemory.residentMB, Double(session.weightBytes) / 1_048_576,
                             Double(session.arenaBytes) / 1_048_576, Double(session.statistics.scratchBytes) / 1_048_576,
                             Double(session.statistics.flops) / 1e9))
            }
            if profile {
                let out = json ? FileHandle.standardError : FileHandle.standardOutput
                var text = "op type              nodes   ms/run   share\n"
                for e in session.profile() {
                    text += String(format: "%-20@ %5d %8.3f %6.1f%%\n", e.opType as NSString, e.nodes, e.milliseconds, e.share * 100)
                }
                text += "slowest nodes:\n"
                for n in session.slowestNodes(max(0, profileNodes)) {
                    text += String(format: "  %8.3f ms  %@ (%@)\n", n.milliseconds, n.label as NSString, n.opType as NSString)
                }
                out.write(Data(text.utf8))
            }
        }
    }
}

/// Minimal JSON for flat reports (numbers, strings, number arrays) without Foundation's
/// JSONSerialization quirks around number formatting.
enum JSONLine {
    static func object(_ pairs: [(String, Any)]) -> String {
        "{" + pairs.map { "\(quote($0.0)): \(value($0.1))" }.joined(separator: ", ") + "}"
    }

    static func value(_ v: Any) -> String {
        switch v {
        // Four decimals for timings; small scores (mean MI 1e-5) keep six significant digits.
        case let d as Double: return d.isFinite ? String(format: d == 0 || abs(d) >= 0.01 ? "%.4f" : "%.6g", d) : "null"
        case let i as Int: return String(i)
        case let s as String: return quote(s)
        case let b as Bool: return b ? "true" : "false"
        case let a as [Double]: return "[" + a.map { value($0) }.joined(separator: ", ") + "]"
        // Objects first: an array of (key, value) pairs also matches [Any].
        case let o as [(String, Any)]: return object(o)
        case let a as [Any]: return "[" + a.map { value($0) }.joined(separator: ", ") + "]"
        default: return "null"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out += c.value < 0x20 ? String(format: "\\u%04x", c.value) : String(c)
            }
        }
        return out + "\""
    }
}
