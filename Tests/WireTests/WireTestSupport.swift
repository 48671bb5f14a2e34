import Foundation
import Testing
@testable import Wire

/// Python for the client interop tests: MOESEG_PYTHON, else <package root>/.venv/bin/python.
enum PythonClient {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible { let description: String }

    static var python: String? {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !env.isEmpty {
            return FileManager.default.isExecutableFile(atPath: env) ? env : nil
        }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Starts `tools/client/<script> args...`; the caller waits and reads the pipes.
    static func start(_ script: String, _ args: [String]) throws -> (Process, Pipe, Pipe) {
        guard let python else {
            throw Failure(description: "no Python for the client tests: set MOESEG_PYTHON or create .venv from tools/requirements.txt")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [packageRoot.appendingPathComponent("tools/client/\(script)").path] + args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }
}

/// A scratch directory for ipc sockets, removed at the end of a test (short path: sun_path is 108 bytes).
final class SocketDirectory {
    let path: String
    init() throws {
        path = "/tmp/moeseg-wire-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func endpoint(_ name: String = "cam0") -> String { "ipc://\(path)/\(name).sock" }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A Bool shared between a test and its pump thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Test frames: a class-id image and maps with known content.
struct TestFrame {
    let width: Int
    let height: Int
    let classIds: [UInt8]
    /// A ramp from 0 to 1 over the pixels.
    let ramp: [Float]

    init(width: Int = 64, height: Int = 32) {
        self.width = width
        self.height = height
        let n = width * height
        classIds = (0..<n).map { UInt8(($0 / width) % 5) }
        ramp = (0..<n).map { Float($0) / Float(n - 1) }
    }

    func header(_ sequence: UInt64) -> Moeseg_V1_Header {
        var h = Moeseg_V1_Header()
        h.sequence = sequence
        h.sourceSequence = sequence + 100
        h.captureMonotonicNs = 1_000_000 * Int64(sequence)
        h.captureRealtimeNs = realtimeNanoseconds()
        h.modelID = "demo-simple"
        var l = Moeseg_V1_StageLatency()
        l.preprocessUs = 900; l.expertsUs = 40_000; l.gateUs = 300; l.combineUs = 800
        l.uncertaintyUs = 4_000; l.totalUs = 47_000
        h.latency = l
        return h
    }

    /// One frame's messages: seg, every configured map, the verdict.
    func publish(_ publisher: Publisher, sequence: UInt64, maps: [String]) {
        let h = header(sequence)
        classIds.withUnsafeBufferPointer {
            publisher.publishSegmentation(header: h, classIds: $0, width: width, height: height)
        }
        ramp.withUnsafeBufferPointer { values in
            for name in maps { publisher.publishMap(header: h, name: name, values: values, width: width, height: height) }
        }
        var verdict = Moeseg_V1_OodVerdict()
        verdict.header = h
        var score = Moeseg_V1_OodScore()
        score.name = "mean_mutual_information"; score.present = true; score.value = 0.2
        score.enabled = true; score.threshold = 0.15; score.fired = true
        verdict.scores = [score]
        verdict.rawOod = true
        publisher.publishVerdict(verdict)
    }
}

func testMeta() -> Moeseg_V1_Meta {
    var meta = Moeseg_V1_Meta()
    meta.modelID = "demo-simple"
    meta.modelVersion = "1"
    meta.classes = ["road", "sidewalk", "car", "sky", "vegetation"].enumerated().map { i, name in
        var c = Moeseg_V1_ClassInfo()
        c.id = UInt32(i); c.name = name; c.rgb = UInt32(i * 0x202020)
        return c
    }
    meta.inputWidth = 64
    meta.inputHeight = 32
    meta.numExperts = 2
    meta.segmentation = true
    return meta
}

func testStatus(_ sequence: UInt64) -> Moeseg_V1_Status {
    var s = Moeseg_V1_Status()
    s.header.sequence = sequence
    s.fps = 15
    s.latencyP50Us = 60_000; s.latencyP90Us = 65_000; s.latencyP99Us = 70_000
    s.budgetMode = "full"
    s.sourceState = .streaming
    s.framesProcessed = sequence
    s.uptimeS = 1.5
    return s
}

/// Runs `body` on a thread every `period` seconds until stopped (the stand-in for the daemon's pipeline thread).
final class Pump: @unchecked Sendable {
    let stop = Flag()
    private let done = DispatchSemaphore(value: 0)

    init(period: Double, _ body: @escaping @Sendable (UInt64) -> Void) {
        let thread = Thread { [stop, done] in
            var tick: UInt64 = 0
            while !stop.isSet {
                body(tick)
                tick += 1
                Thread.sleep(forTimeInterval: period)
            }
            done.signal()
        }
        thread.start()
    }

    func finish() {
        stop.set()
        done.wait()
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// The parent of every suite that opens sockets. They run one after another, so that the
/// late-joiner timing check does not compete with the stalled-subscriber, benchmark and
/// Python client tests for the two cores.
@Suite("Wire sockets", .serialized)
enum WireSockets {}
