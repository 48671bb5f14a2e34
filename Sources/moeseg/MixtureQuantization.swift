import Engine
import Foundation
import Mixture
import Sensors

/// What `moeseg quantize` does: calibrate every expert and the gate on recorded frames, write the
/// QDQ files and a moe.toml, compare int8 with fp32 on held-out frames, and keep the layers whose
/// quantization hurts the mixture most in float until it agrees well enough.
enum MixtureQuantization {
    struct Request {
        var directory: String
        var calibration: [String]
        var holdoutData: [String]
        var out: String
        var frames: Int
        var holdout: Int
        var method: CalibrationMethod
        var keepFloat: Set<String>
        var ood: [String]
        var signedActivations: Bool
        var minAgreement: Double
        var maxFloatLayers: Int
        var threads: Int
        var json: Bool
    }

    /// Preprocessed model inputs and, where the recording has them, label maps at model resolution.
    struct FrameSet {
        var inputs: [[Float]] = []
        var labels: [[UInt8]?] = []
    }

    /// One quantized graph of the mixture: where it comes from and where it goes.
    struct Part {
        let name: String
        let source: String
        let target: String
        let quantizer: ModelQuantizer
    }

    static func run(_ r: Request) throws {
        let model = try MixtureModel.load(directory: r.directory)
        let manifest = model.manifest
        guard manifest.mcDropout == nil else { throw fail("quantize: MC-dropout models are not supported (quantize the mixture, not the baseline)") }
        guard !r.calibration.isEmpty else { throw fail("quantize: give at least one --calibration recording") }
        let started = Date()
        var (calibration, heldOut) = try readFrames(r.calibration, manifest: manifest, calibration: r.frames,
                                                    holdout: r.holdoutData.isEmpty ? r.holdout : 0)
        if !r.holdoutData.isEmpty {
            heldOut = try readFrames(r.holdoutData, manifest: manifest, calibration: 0, holdout: r.holdout).1
        }
        guard !calibration.inputs.isEmpty, !heldOut.inputs.isEmpty else {
            throw fail("quantize: the recordings gave \(calibration.inputs.count) calibration and \(heldOut.inputs.count) held-out frames; need at least one of each")
        }
        let ood = r.ood.isEmpty ? FrameSet() : try readFrames(r.ood, manifest: manifest, calibration: 0, holdout: r.holdout).1
        let outDir = URL(fileURLWithPath: r.out).standardizedFileURL.resolvingSymlinksInPath().path
        let sources = manifest.experts.map(\.file) + [manifest.gate?.file, manifest.combineConv].compactMap { $0 }
        if outDir == URL(fileURLWithPath: r.directory).standardizedFileURL.resolvingSymlinksInPath().path
            || sources.contains(where: { URL(fileURLWithPath: $0).deletingLastPathComponent().resolvingSymlinksInPath().path == outDir }) {
            throw fail("quantize: --out \(r.out) holds the float model's files; choose another directory")
        }
        try FileManager.default.createDirectory(atPath: r.out, withIntermediateDirectories: true)

        // Calibrate: the experts on the frames, the gate on the float experts' features.
        var parts: [Part] = []
        var features: [[[Float]]] = Array(repeating: [], count: calibration.inputs.count)
        var used = Set<String>()
        func target(_ source: String) -> String {
            var name = URL(fileURLWithPath: source).lastPathComponent
            while used.contains(name) { name = "q_" + name }
            used.insert(name)
            return r.out + "/" + name
        }
        for expert in manifest.experts {
            let q = try ModelQuantizer(path: expert.file)
            let session = try InferenceSession(path: expert.file, options: .init(threads: r.threads, keepValues: q.calibrationValues))
            let index = Dictionary(session.outputs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (f, input) in calibration.inputs.enumerated() {
                _ = session.inputBuffer(0).update(fromContentsOf: input)
                session.run()
                for name in q.calibrationValues { q.observe(name, session.outputBuffer(index[name]!)) }
                if let feature = expert.features, let i = index[feature] { features[f].append(Array(session.outputBuffer(i))) }
            }
            parts.append(Part(name: expert.name, source: expert.file, target: target(expert.file), quantizer: q))
        }
        if let gate = manifest.gate {
            let q = try ModelQuantizer(path: gate.file)
            let session = try InferenceSession(path: gate.file, options: .init(threads: 1, keepValues: q.calibrationValues))
            let index = Dictionary(session.outputs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            for frame in features {
                for (e, name) in gate.inputs.enumerated() {
                    guard let i = session.inputs.firstIndex(where: { $0.name == name }) else { throw fail("quantize: the gate has no input \(name)") }
                    _ = session.inputBuffer(i).update(fromContentsOf: frame[e])
                }
                session.run()
                for name in q.calibrationValues { q.observe(name, session.outputBuffer(index[name]!)) }
            }
            parts.append(Part(name: "gate", source: gate.file, target: target(gate.file), quantizer: q))
        }
        let combine = manifest.combineConv.map { target($0) }
        if let source = manifest.combineConv, let combine {
            // The "+conv" graph reads the mixed logits, which stay float (the mixture math is fp32).
            try? FileManager.default.removeItem(atPath: combine)
            try FileManager.default.copyItem(atPath: source, toPath: combine)
        }
        let unknown = r.keepFloat.subtracting(parts.flatMap(\.quantizer.candidates))
        guard unknown.isEmpty else {
            throw fail("quantize: --keep-float names no quantizable node: \(unknown.sorted().joined(separator: ", "))")
        }
        try writeManifest(manifest, parts: parts, combine: combine, method: r.method, to: r.out + "/moe.toml")

        // Write, compare, and keep the worst layer float while the mixture disagrees too much.
        var keep = r.keepFloat
        var decisions: [String] = r.keepFloat.sorted().map { "\($0): kept float (--keep-float)" }
        var summaries: [QuantizedModelSummary] = []
        var comparison: Comparison
        while true {
            summaries = try parts.map { try $0.quantizer.write(to: $0.target, method: r.method, keepFloat: keep.intersection($0.quantizer.candidates), signedActivations: r.signedActivations) }
            let quantized = try MixtureModel.load(directory: r.out)
            comparison = try compare(float: model, quantized: quantized, heldOut: heldOut, ood: ood, threads: r.threads)
            guard comparison.agreement < r.minAgreement, keep.count - r.keepFloat.count < r.maxFloatLayers else { break }
            guard let (node, jump) = try worstLayer(parts, keep: keep, frames: Array(calibration.inputs.prefix(2)), threads: r.threads) else { break }
            decisions.append(String(format: "%@: kept float, prediction agreement %.2f %% < %.2f %% and its output's relative error grew most (+%.3f) of all quantized layers",
                                    node, comparison.agreement * 100, r.minAgreement * 100, jump))
            keep.insert(node)
        }
        let report = Report(request: r, calibrationFrames: calibration.inputs.count, heldOutFrames: heldOut.inputs.count,
                            oodFrames: ood.inputs.count, summaries: summaries, decisions: decisions, comparison: comparison,
                            seconds: Date().timeIntervalSince(started))
        print(r.json ? report.json : report.text)
    }

    /// Frames of `paths`, spread over the files: every third frame (until `holdout` are taken) is
    /// held out, the others calibrate (until `calibration` are taken).
    static func readFrames(_ paths: [String], manifest: MixtureManifest, calibration: Int, holdout: Int) throws -> (FrameSet, FrameSet) {
        let preprocessor = Preprocessor(input: manifest.input)
        let size = 3 * manifest.input.width * manifest.input.height
        var calib = FrameSet(), held = FrameSet()
        let perFile = (calibration + holdout + paths.count - 1) / paths.count
        var counter = 0
        for path in paths {
            let source: ReplaySource
            do {
                source = try ReplaySource(path: path, options: ReplayOptions(rate: .maximum, loop: false, loadLabels: true))
            } catch {
                throw fail("\(path): \(error)")
            }
            defer { source.close() }
            var frame = Frame()
            var taken = 0
            while taken < perFile, calib.inputs.count < calibration || held.inputs.count < holdout,
                  try source.nextFrame(into: &frame, timeout: .seconds(10)) == .frame {
                var input = [Float](repeating: 0, count: size)
                try input.withUnsafeMutableBufferPointer { try preprocessor.process(frame, into: $0.baseAddress!) }
                var resized = [UInt8](repeating: 255, count: manifest.input.width * manifest.input.height)
                let labels: [UInt8]? = MapResize.labels(of: frame, into: &resized, toWidth: manifest.input.width,
                                                        toHeight: manifest.input.height) ? resized : nil
                let toHoldout = (counter % 3 == 2 && held.inputs.count < holdout) || calib.inputs.count >= calibration
                if toHoldout {
                    held.inputs.append(input)
                    held.labels.append(labels)
                } else {
                    calib.inputs.append(input)
                    calib.labels.append(labels)
                }
                counter += 1
                taken += 1
            }
        }
        return (calib, held)
    }

    /// The quantized, not yet float-kept layer whose output's relative error (int8 vs fp32) grows
    /// most over its input's, on a few calibration frames.
    static func worstLayer(_ parts: [Part], keep: Set<String>, frames: [[Float]], threads: Int) throws -> (String, Double)? {
        var best: (String, Double)? = nil
        for part in parts where part.name != "gate" {
            let layers = part.quantizer.layers.filter { !keep.contains($0.node) }
            let names = Array(Set(layers.flatMap { [$0.input, $0.output] }))
            let float = try InferenceSession(path: part.source, options: .init(threads: threads, keepValues: names))
            let int8 = try InferenceSession(path: part.target, options: .init(threads: threads, keepValues: names))
            var error: [String: (diff: Double, norm: Double)] = [:]
            for input in frames {
                for s in [float, int8] {
                    _ = s.inputBuffer(0).update(fromContentsOf: input)
                    s.run()
                }
                for name in names {
                    let a = float.outputBuffer(float.outputs.firstIndex { $0.name == name }!)
                    let b = int8.outputBuffer(int8.outputs.firstIndex { $0.name == name }!)
                    var d = 0.0, n = 0.0
                    for i in 0..<a.count { d += Double((a[i] - b[i]) * (a[i] - b[i])); n += Double(a[i] * a[i]) }
                    error[name, default: (0, 0)].diff += d
                    error[name, default: (0, 0)].norm += n
                }
            }
            func relative(_ name: String) -> Double { error[name].map { ($0.diff / max($0.norm, 1e-30)).squareRoot() } ?? 0 }
            for layer in layers {
                let jump = relative(layer.output) - relative(layer.input)
                if jump > (best?.1 ?? -.infinity) { best = (layer.node, jump) }
            }
        }
        return best
    }

    /// fp32 vs int8 on the same held-out (and OOD) frames.
    struct Comparison {
        var agreement = 0.0
        var miouFloat: Double? = nil, miouInt8: Double? = nil
        var meanAbsDeltaMI = 0.0
        var aurocFloat: Double? = nil, aurocInt8: Double? = nil
        var msFloat = 0.0, msInt8 = 0.0
    }

    static func compare(float: MixtureModel, quantized: MixtureModel, heldOut: FrameSet, ood: FrameSet, threads: Int) throws -> Comparison {
        let manifest = float.manifest
        guard let principal = UncertaintyMap.principal(for: manifest) else { throw fail("quantize: a single model has no mixture maps to compare") }
        let options = MixtureRunOptions(threads: threads, maps: [principal.pe, principal.mi])
        let runners = [try MixtureRunner(model: float, options: options), try MixtureRunner(model: quantized, options: options)]
        let classes = float.classes
        var confusion = [ConfusionMatrix(classes: classes), ConfusionMatrix(classes: classes)]
        var same = 0, pixels = 0, deltaMI = 0.0
        var times: [[Double]] = [[], []]
        var idScores: [[Double]] = [[], []], oodScores: [[Double]] = [[], []]
        var hasLabels = false
        for (f, input) in (heldOut.inputs + ood.inputs).enumerated() {
            let isOOD = f >= heldOut.inputs.count
            var predictions: [[UInt8]] = [], mi: [[Float]] = []
            for (k, runner) in runners.enumerated() {
                let result = try input.withUnsafeBufferPointer { try runner.process(input: $0) }
                times[k].append(result.timings.total * 1000)
                predictions.append(Array(result.prediction))
                mi.append(result.map(principal.mi).map(Array.init) ?? [])
                let score = Double(result.scores.meanMutualInformation ?? 0)
                if isOOD { oodScores[k].append(score) } else { idScores[k].append(score) }
            }
            guard !isOOD else { continue }
            for i in predictions[0].indices where predictions[0][i] == predictions[1][i] { same += 1 }
            pixels += predictions[0].count
            if mi[0].count == mi[1].count, !mi[0].isEmpty {
                deltaMI += zip(mi[0], mi[1]).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(mi[0].count)
            }
            if let labels = heldOut.labels[f], labels.count == predictions[0].count {
                hasLabels = true
                for k in 0..<2 { confusion[k].add(predictions: predictions[k], labels: labels) }
            }
        }
        var c = Comparison()
        c.agreement = Double(same) / Double(max(pixels, 1))
        c.meanAbsDeltaMI = deltaMI / Double(max(heldOut.inputs.count, 1))
        if hasLabels {
            c.miouFloat = confusion[0].meanIoU
            c.miouInt8 = confusion[1].meanIoU
        }
        if !ood.inputs.isEmpty {
            c.aurocFloat = frameAUROC(positives: oodScores[0], negatives: idScores[0])
            c.aurocInt8 = frameAUROC(positives: oodScores[1], negatives: idScores[1])
        }
        c.msFloat = MixtureBench.Summary.median(times[0])
        c.msInt8 = MixtureBench.Summary.median(times[1])
        return c
    }

    /// The int8 model's moe.toml: the float manifest with the new files.
    static func writeManifest(_ m: MixtureManifest, parts: [Part], combine: String?, method: CalibrationMethod, to path: String) throws {
        func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func file(_ p: String) -> String { quote(URL(fileURLWithPath: p).lastPathComponent) }
        func numbers(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        let description = "int8 (moeseg quantize, \(method.rawValue)) of \(m.id) \(m.version)" + (m.description.map { ": \($0)" } ?? "")
        var lines = ["format = \"moeseg.moe\"", "format_version = 1", "id = \(quote(m.id + "-int8"))", "version = \(quote(m.version))",
                     "description = \(quote(description))", "", "[input]", "width = \(m.input.width)", "height = \(m.input.height)",
                     "color = \(quote(m.input.color.rawValue))", "scale = \(m.input.scale)", "mean = \(numbers(m.input.mean))",
                     "std = \(numbers(m.input.std))", "", "[classes]", "names = [" + m.classNames.map(quote).joined(separator: ", ") + "]",
                     "colors = [" + m.classColors.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"]
        for (e, expert) in m.experts.enumerated() {
            lines += ["", "[[experts]]", "name = \(quote(expert.name))", "file = \(file(parts[e].target))", "logits = \(quote(expert.logits))"]
            if let f = expert.features { lines.append("features = \(quote(f))") }
        }
        if let gate = m.gate, let part = parts.last, part.name == "gate" {
            lines += ["", "[gate]", "file = \(file(part.target))", "kind = \(quote(gate.kind.rawValue))",
                      "inputs = [" + gate.inputs.map(quote).joined(separator: ", ") + "]", "output = \(quote(gate.output))"]
        }
        lines += ["", "[combine]", "rule = \(quote(m.combineRule.rawValue))"]
        if let combine { lines.append("conv = \(file(combine))") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
