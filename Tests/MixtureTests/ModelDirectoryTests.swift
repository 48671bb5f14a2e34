import Foundation
import Mixture
import NumPyIO
import Testing

/// The `moeseg` binary that `swift test` built next to the test bundle.
enum MoesegCLI {
    static func path() throws -> String {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["MOESEG_BIN"] { candidates.append(configured) }
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(bundleDirectory.appendingPathComponent("moeseg").path)
        candidates.append(bundleDirectory.deletingLastPathComponent().appendingPathComponent("moeseg").path)
        candidates.append(PythonReference.packageRoot.appendingPathComponent(".build/debug/moeseg").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ReferenceError(description: "no moeseg binary (looked at \(candidates)); run swift build --product moeseg or set MOESEG_BIN")
        }
        return found
    }

    /// Runs moeseg; returns (exit status, stdout, stderr).
    static func run(_ arguments: [String]) throws -> (Int32, String, String) {
        try runProcess(try path(), arguments)
    }
}

/// Runs a program to completion with its output in temporary files: reading pipes from
/// Foundation's FileHandle can die on EINTR while other tests' children exit.
func runProcess(_ executable: String, _ arguments: [String]) throws -> (Int32, String, String) {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-proc-\(UUID().uuidString)")
    let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try? out.close()
    try? err.close()
    return (process.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// Runs tools/reference/random_mixtures.py into a fresh temporary folder.
func makeRandomMixtures(_ arguments: [String] = []) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-models-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let script = PythonReference.packageRoot.appendingPathComponent("tools/reference/random_mixtures.py").path
    let (status, _, stderr) = try runProcess(try PythonReference.python(), [script] + arguments + [root.path])
    guard status == 0 else { throw ReferenceError(description: "random_mixtures.py failed: \(stderr)") }
    return root
}

/// The random mixtures, built once for the whole suite (the suite only reads them).
enum SharedMixtures {
    static let root: Result<URL, ReferenceError> = {
        do { return .success(try makeRandomMixtures()) } catch { return .failure(ReferenceError(description: "\(error)")) }
    }()

    static func directory(_ name: String) throws -> URL { try root.get().appendingPathComponent(name) }
}

/// Compares `moeseg infer`'s files in `output` with the reference files in `reference`:
/// maps within 1e-5 absolute; logits within the engine's contract (1e-4 × max|x|, the experts
/// run in moeseg's engine vs onnxruntime); predictions equal except at ties (probability gap
/// ≤ 1e-5), where maps read at the predicted class (EV, classwise gate entropy) are skipped.
func expectOutputsMatch(_ output: URL, _ reference: URL, case name: String) throws -> Float {
    let files = try FileManager.default.contentsOfDirectory(atPath: reference.path).filter { $0.hasSuffix(".npy") }.sorted()
    let written = Set(try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".npy") })
    #expect(written == Set(files), "\(name): infer wrote \(written.sorted()), reference has \(files)")
    func load(_ dir: URL, _ file: String) throws -> NumPyArray { try NumPyArray(contentsOf: dir.appendingPathComponent(file)) }
    let want = try load(reference, "prediction.npy"), got = try load(output, "prediction.npy")
    let probabilities = try load(reference, "probabilities.npy")
    let pixels = want.values.count
    var agree = [Bool](repeating: true, count: pixels)
    for i in 0..<pixels where got.values[i] != want.values[i] {
        agree[i] = false
        let gap = abs(probabilities.values[Int(got.values[i]) * pixels + i] - probabilities.values[Int(want.values[i]) * pixels + i])
        #expect(gap <= 1e-5, "\(name): prediction differs at pixel \(i) without a tie (gap \(gap))")
    }
    var worstMap: Float = 0
    for file in files where file != "prediction.npy" && written.contains(file) {
        let r = try load(reference, file), o = try load(output, file)
        #expect(r.shape == o.shape, "\(name)/\(file): shape \(o.shape), reference \(r.shape)")
        guard r.values.count == o.values.count else { continue }
        let isLogits = file.hasSuffix("logits.npy")
        let perClass = file == "ev.npy" || (file == "gate_entropy.npy" && r.values.count == pixels)
        var worst: Float = 0, scale: Float = 0
        for i in r.values.indices where !(perClass && !agree[i % pixels]) {
            worst = max(worst, abs(r.values[i] - o.values[i]))
            scale = max(scale, abs(r.values[i]))
        }
        let tolerance: Float = isLogits ? 1e-4 * max(scale, 1) : 1e-5
        #expect(worst <= tolerance, "\(name)/\(file): max |moeseg − reference| = \(worst) > \(tolerance)")
        if !isLogits { worstMap = max(worstMap, worst) }
    }
    return worstMap
}

@Suite("Model directories: load, validate, run against the onnxruntime + numpy reference", .serialized)
struct ModelDirectoryTests {
    @Test func randomMixturesMatchReference() throws {
        let root = try SharedMixtures.root.get()
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("cases.json"))) as! [String: [String: Any]]
        #expect(cases.count >= 7)
        var worst: Float = 0
        for (name, routing) in cases.sorted(by: { $0.key < $1.key }) {
            let directory = root.appendingPathComponent(name)
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-out-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let (status, _, stderr) = try MoesegCLI.run([
                "infer", "--model", directory.path, "--input", directory.appendingPathComponent("input.npy").path,
                "--output-dir", output.path, "--routing-samples", "\(routing["samples"] as! Int)",
                "--temperature", "\(routing["temperature"] as! Double)", "--seed", "\(routing["seed"] as! Int)",
            ])
            #expect(status == 0, "\(name): moeseg infer failed: \(stderr)")
            guard status == 0 else { continue }
            worst = max(worst, try expectOutputsMatch(output, directory.appendingPathComponent("reference"), case: name))
            let frame = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("frame.json"))) as! [String: Any]
            #expect(frame["scores"] != nil && frame["timings_ms"] != nil && frame["ood"] != nil)
        }
        print("random mixtures: largest map difference vs numpy \(worst)")
    }

    @Test func malformedDirectoriesGiveOneLine() throws {
        let root = try makeRandomMixtures(["--malformed"])
        defer { try? FileManager.default.removeItem(at: root) }
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("malformed.json"))) as! [String: String]
        #expect(expected.count >= 10)
        for (name, phrase) in expected.sorted(by: { $0.key < $1.key }) {
            let directory = root.appendingPathComponent(name)
            let (status, _, stderr) = try MoesegCLI.run(["infer", "--model", directory.path, "--input",
                                                         directory.appendingPathComponent("input.npy").path,
                                                         "--output-dir", root.appendingPathComponent("out").path])
            let lines = stderr.split(separator: "\n")
            #expect(status != 0, "\(name): exit status 0")
            #expect(lines.count == 1 && lines[0].hasPrefix("moeseg: error: ") && lines[0].contains(phrase),
                    "\(name): expected one error line containing \"\(phrase)\", got: \(stderr)")
            let (inspectStatus, _, inspectErr) = try MoesegCLI.run(["inspect", directory.path])
            #expect(inspectStatus != 0 && inspectErr.split(separator: "\n").count == 1, "\(name): inspect: \(inspectErr)")
        }
    }

    @Test func routingIsReproducibleAndVanishesAsTemperatureGoesToZero() throws {
        let directory = try SharedMixtures.directory("moe3-classwise")
        let model = try MixtureModel.load(directory: directory.path)
        let input = try NumPyArray(contentsOf: directory.appendingPathComponent("input.npy")).values
        func routingMI(_ t: Double, seed: UInt64, form: RoutingSampling.Form = .scaledNoise) throws -> [Float] {
            let runner = try MixtureRunner(model: model, options: MixtureRunOptions(
                routing: RoutingSampling(samples: 8, temperature: t, seed: seed, form: form)))
            let result = try input.withUnsafeBufferPointer { try runner.process(input: $0) }
            return Array(result.map(.routingMI)!)
        }
        let first = try routingMI(1, seed: 5), again = try routingMI(1, seed: 5), reseeded = try routingMI(1, seed: 6)
        #expect(first == again, "same seed, same frame: identical routing MI")
        #expect(first != reseeded, "another seed: other samples")
        func mean(_ m: [Float]) -> Double { m.reduce(0) { $0 + Double($1) } / Double(m.count) }
        let means = try [2.0, 0.5, 0.1, 0.01, 0.001].map { mean(try routingMI($0, seed: 5)) }
        #expect(means[0] > 1e-3, "routing MI at T = 2 should be clearly positive: \(means)")
        #expect(zip(means, means.dropFirst()).allSatisfy { $0 > $1 }, "routing MI falls as T falls: \(means)")
        let atZero = try routingMI(0, seed: 5), tempered = try routingMI(0, seed: 5, form: .tempered)
        #expect(means.last! < 1e-5 && atZero.allSatisfy { $0 <= 1e-6 }, "routing MI → 0 as T → 0: \(means)")
        // The design card's form keeps Gumbel-max disagreement at T → 0 (docs/uncertainty.md §3).
        #expect(mean(tempered) > 1e-3)
    }

    @Test func parallelAndSequentialExpertsAgree() throws {
        let directory = try SharedMixtures.directory("moe5-simple")
        let model = try MixtureModel.load(directory: directory.path)
        let input = try NumPyArray(contentsOf: directory.appendingPathComponent("input.npy")).values
        var maps: [[String: [Float]]] = []
        for parallel in [true, false] {
            let runner = try MixtureRunner(model: model, options: MixtureRunOptions(
                cpus: [0, 1], routing: RoutingSampling(samples: 3, temperature: 1, seed: 2), parallelExperts: parallel))
            var result = try input.withUnsafeBufferPointer { try runner.process(input: $0) }
            result = try input.withUnsafeBufferPointer { try runner.process(input: $0) }  // second frame: index 1
            #expect(result.frameIndex == 1 && result.timings.experts.count == 5 && result.timings.total > 0)
            var named: [String: [Float]] = ["prediction": result.prediction.map(Float.init)]
            for map in UncertaintyMap.allCases { if let values = result.map(map) { named[map.rawValue] = Array(values) } }
            maps.append(named)
        }
        // Same arithmetic in both modes, so the maps agree to rounding; not bitwise, because engine
        // tests running concurrently in this process may switch the global kernel dispatch
        // (ck_set_dispatch) between the two runs.
        #expect(Set(maps[0].keys) == Set(maps[1].keys))
        for key in maps[0].keys.sorted() {
            let a = maps[0][key]!, b = maps[1][key] ?? []
            guard a.count == b.count else { Issue.record("\(key): sizes differ"); continue }
            if key == "prediction" {
                let flips = zip(a, b).filter { $0 != $1 }.count
                #expect(flips * 1000 <= a.count, "prediction differs at \(flips) of \(a.count) pixels")
            } else {
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5, "\(key): parallel vs sequential differ by \(worst)")
            }
        }
        #expect(maps[0].count == 11)
    }

    @Test func enabledMapsAndRoutingSamplesChangeBetweenFrames() throws {
        let directory = try SharedMixtures.directory("moe2-simple")
        let model = try MixtureModel.load(directory: directory.path)
        let input = try NumPyArray(contentsOf: directory.appendingPathComponent("input.npy")).values
        let runner = try MixtureRunner(model: model, options: MixtureRunOptions(routing: RoutingSampling(samples: 4, temperature: 1, seed: 1)))
        runner.enabledMaps = [.miStacked]
        runner.routingSamples = 0
        let result = try input.withUnsafeBufferPointer { try runner.process(input: $0) }
        #expect(result.map(.miStacked) != nil && result.map(.routingMI) == nil && result.map(.ev) == nil)
        #expect(result.scores.routingMutualInformation == nil && result.scores.meanMutualInformation != nil)
        runner.enabledMaps = Set(UncertaintyMap.allCases)
        runner.routingSamples = 100
        #expect(runner.routingSamples == 4)
        let full = try input.withUnsafeBufferPointer { try runner.process(input: $0) }
        #expect(full.map(.routingMI) != nil && full.scores.routingMutualInformation != nil)
    }
}
