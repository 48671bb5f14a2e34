import ArgumentParser
import Foundation
import Glibc
import Scenes

/// `moeseg synth`: renders a procedural drive with ground-truth labels.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a procedural driving sequence with pixel-exact labels.",
        discussion: """
            Frames go to an MCAP recording (--out), to PNG files (--png-dir), or nowhere \
            (--benchmark measures render speed on the calling thread). --contact-sheet FILE \
            writes one PNG with a few frames of every domain rendered at --size.
            """)

    @Option(help: "Scene domain: highway, urban or ambiguous.")
    var domain: String = "urban"

    @Option(help: "Number of frames to render.")
    var frames: Int = 300

    @Option(help: "Seed of the drive (same seed, same frames).")
    var seed: UInt64 = 1

    @Option(help: "Image size WIDTHxHEIGHT.")
    var size: String = "512x256"

    @Option(help: "MCAP file to record into.")
    var out: String?

    @Option(name: .customLong("png-dir"), help: "Directory for per-frame PNGs (image and colour-coded labels).")
    var pngDirectory: String?

    @Flag(help: "Render without writing anything and report frames/s.")
    var benchmark = false

    @Option(name: .customLong("contact-sheet"),
            help: "Write a contact sheet PNG (frames 0, 90, 300 of every domain, image above labels) and exit.")
    var contactSheet: String?

    @Option(name: .customLong("sheet-downsample"), help: "Shrink contact sheet tiles by this factor (1...8).")
    var sheetDownsample: Int = 2

    mutating func validate() throws {
        _ = try parsedDomain()
        _ = try parsedSize()
        guard (1...10_000_000).contains(frames) else {
            throw ValidationError("--frames must be in 1...10000000, got \(frames)")
        }
        if let out, !out.hasSuffix(".mcap") {
            throw ValidationError("--out must name a .mcap file, got '\(out)'")
        }
        guard (1...8).contains(sheetDownsample) else {
            throw ValidationError("--sheet-downsample must be in 1...8, got \(sheetDownsample)")
        }
        if contactSheet == nil && !benchmark && out == nil && pngDirectory == nil {
            throw ValidationError("nothing to do: give --out FILE.mcap, --png-dir DIR, --benchmark or --contact-sheet FILE")
        }
        if benchmark && (out != nil || pngDirectory != nil) {
            throw ValidationError("--benchmark renders without writing: drop --out and --png-dir")
        }
    }

    func parsedDomain() throws -> SceneDomain {
        guard let value = SceneDomain(rawValue: domain.lowercased()) else {
            let names = SceneDomain.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown domain '\(domain)': expected one of \(names)")
        }
        return value
    }

    func parsedSize() throws -> (width: Int, height: Int) {
        let parts = size.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else {
            throw ValidationError("--size must look like 512x256, got '\(size)'")
        }
        guard SceneError.sizeRange.contains(width), SceneError.sizeRange.contains(height) else {
            throw ValidationError("--size \(size): each side must be in \(SceneError.sizeRange.lowerBound)...\(SceneError.sizeRange.upperBound)")
        }
        return (width, height)
    }

    func run() throws {
        ignoreFileSizeSignal()
        let (width, height) = try parsedSize()
        if let contactSheet {
            let png = try ContactSheet.png(seed: seed, frames: [0, 90, 300], width: width, height: height,
                                           downsample: sheetDownsample)
            try FileOutput.write(png, to: contactSheet)
            print("wrote \(contactSheet) (\(png.count) bytes)")
            return
        }
        let domain = try parsedDomain()
        let renderer = try SceneRenderer(domain: domain, seed: seed, width: width, height: height)
        if let pngDirectory { try makeDirectory(pngDirectory) }
        // The single hand-off point to the recording writer (see `RecordingHandOff`).
        let recording: RecordingHandOff? = try out.map { try RecordingHandOff(path: $0, renderer: renderer) }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var labels = [UInt8](repeating: 0, count: width * height)
        var renderSeconds = [Double](repeating: 0, count: frames)
        let progress = ProgressReporter(total: frames)
        let started = monotonicSeconds()
        for index in 0..<frames {
            let before = monotonicSeconds()
            rgb.withUnsafeMutableBufferPointer { image in
                labels.withUnsafeMutableBufferPointer { label in
                    renderer.render(frame: index, rgb: image, labels: label)
                }
            }
            renderSeconds[index] = monotonicSeconds() - before
            if let recording {
                let sceneNanos = UInt64((Double(index) / SceneRenderer.nominalFrameRate * 1e9).rounded())
                try recording.append(frame: index, sceneTimeNanos: sceneNanos, rgb: rgb, labels: labels)
            }
            if let pngDirectory {
                try writePNGs(directory: pngDirectory, index: index, width: width, height: height, rgb: rgb, labels: labels)
            }
            progress.update(done: index + 1)
        }
        try recording?.finish()
        progress.finish()
        let elapsed = monotonicSeconds() - started
        report(domain: domain, width: width, height: height, elapsed: elapsed, renderSeconds: renderSeconds,
               summary: renderer.summary)
    }

    private func report(domain: SceneDomain, width: Int, height: Int, elapsed: Double, renderSeconds: [Double],
                        summary: String) {
        // Steady state: leave out the first frames (page faults, caches) when there are enough.
        let warmup = renderSeconds.count > 20 ? 5 : 0
        let steady = Array(renderSeconds[warmup...]).sorted()
        let total = steady.reduce(0, +)
        let mean = total / Double(max(steady.count, 1))
        let p50 = steady[steady.count / 2]
        let p99 = steady[min(steady.count - 1, Int(Double(steady.count) * 0.99))]
        let fps = mean > 0 ? 1 / mean : 0
        print(String(format: "%@ %dx%d seed %llu (%@): %d frames in %.2f s; render %.1f frames/s (mean %.2f ms, p50 %.2f ms, p99 %.2f ms per frame)",
                     domain.rawValue, width, height, seed, summary, frames, elapsed, fps, mean * 1000, p50 * 1000, p99 * 1000))
    }

    private func writePNGs(directory: String, index: Int, width: Int, height: Int, rgb: [UInt8], labels: [UInt8]) throws {
        let name = String(format: "%@/frame_%06d", directory, index)
        let image = try rgb.withUnsafeBufferPointer { try PNGWriter.rgb(width: width, height: height, pixels: $0) }
        let label = try labels.withUnsafeBufferPointer { try PNGWriter.labels(width: width, height: height, labels: $0) }
        try FileOutput.write(image, to: name + ".png")
        try FileOutput.write(label, to: name + "_labels.png")
    }

    private func makeDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw SynthError("--png-dir \(path) exists and is not a directory") }
            return
        }
        guard mkdir(path, 0o755) == 0 else {
            throw SynthError("cannot create --png-dir \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A run-time failure of `synth`, reported as one line.
struct SynthError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Progress on stderr: a redrawn bar on a terminal, a line per 10% otherwise.
final class ProgressReporter {
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDraw = 0.0
    private var lastDecile = 0
    private let started = monotonicSeconds()

    init(total: Int) { self.total = total }

    func update(done: Int) {
        let now = monotonicSeconds()
        if isTerminal {
            guard now - lastDraw > 0.1 || done == total else { return }
            lastDraw = now
            let width = 30
            let filled = done * width / max(total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let rate = Double(done) / max(now - started, 1e-9)
            FileHandleOutput.standardError(String(format: "\r[%@] %d/%d %.1f frames/s", bar, done, total, rate),
                                           newline: false)
        } else {
            let decile = done * 10 / max(total, 1)
            guard decile > lastDecile else { return }
            lastDecile = decile
            FileHandleOutput.standardError("\(done)/\(total) frames")
        }
    }

    func finish() {
        if isTerminal { FileHandleOutput.standardError("") }
    }
}

enum FileHandleOutput {
    static func standardError(_ text: String, newline: Bool = true) {
        let line = newline ? text + "\n" : text
        FileHandle.standardError.write(Data(line.utf8))
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
