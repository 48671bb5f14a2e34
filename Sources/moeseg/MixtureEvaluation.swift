import Daemon
import Evaluation
import Foundation
import Mixture
import NumPyIO
import Sensors

/// Runs a mixture over labelled recordings and accumulates an `EvaluationState`.
struct MixtureEvaluation {
    let directory: String
    let routingSamples: Int
    let threads: Int
    var framesPerRecording: Int
    let dump: URL?
    /// The daemon's `mi_pixel_threshold` (nats), which the uncertain-fraction score counts above.
    var pixelThreshold: Float = 0.5
    /// The members' logit temperature (MixtureRunOptions.temperature).
    var temperature = 1.0
    /// The routing samples' temperature and seed (the daemon's `routing_temperature`, seed 0).
    var routingTemperature = 1.0
    var routingSeed: UInt64 = 0
    /// Called with every frame's result and labels (ids ≥ classes: none) before it is accumulated.
    var onFrame: ((MixtureFrameResult, [UInt8], _ isOOD: Bool) -> Void)?
    /// Keep the first frames' pictures for `--report`.
    var keepsContactSheet = false
    /// Data shift applied to every frame before preprocessing.
    var corruption: (Corruption, Int)?
    var corruptionSeed: UInt64 = 1

    /// The maps evaluated when the model computes them.
    static let candidateMaps: [UncertaintyMap] = [.peStacked, .miStacked, .peWeighted, .miWeighted, .peEnsemble,
                                                  .miEnsemble, .ev, .gateEntropy, .routingPE, .routingMI]

    func run(data: [String], ood: [String]) throws -> EvaluationState {
        try runWithSheet(data: data, ood: ood).0
    }

    func runWithSheet(data: [String], ood: [String]) throws -> (EvaluationState, EvalContactSheet?) {
        let model = try MixtureModel.load(directory: directory)
        let manifest = model.manifest
        var maps = Set(Self.candidateMaps)
        if routingSamples == 0 { maps.subtract([.routingPE, .routingMI]) }
        var options = MixtureRunOptions(threads: threads,
                                        routing: RoutingSampling(samples: routingSamples, temperature: routingTemperature, seed: routingSeed),
                                        maps: maps, mutualInformationPixelThreshold: pixelThreshold,
                                        keepsProbabilities: true)
        options.temperature = temperature
        let runner = try MixtureRunner(model: model, options: options)
        let width = manifest.input.width, height = manifest.input.height
        var state = EvaluationState(classes: model.classes)
        var evaluator = FrameEvaluator(width: width, height: height, classes: model.classes)
        var sheet = keepsContactSheet ? EvalContactSheet(width: width, height: height) : nil
        let principalMI = UncertaintyMap.principal(for: manifest)?.mi
        if let dump { try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true) }
        var index = 0
        for (path, isOOD) in data.map({ ($0, false) }) + ood.map({ ($0, true) }) {
            let source: ReplaySource
            do {
                source = try ReplaySource(path: path, options: ReplayOptions(rate: .maximum, loop: false, loadLabels: true))
            } catch {
                throw fail("\(path): \(error)")
            }
            defer { source.close() }
            var frame = Frame()
            var taken = 0
            var labels = [UInt8](repeating: 255, count: width * height)
            while framesPerRecording == 0 || taken < framesPerRecording,
                  try source.nextFrame(into: &frame, timeout: .seconds(10)) == .frame {
                if !MapResize.labels(of: frame, into: &labels, toWidth: width, toHeight: height) {
                    guard isOOD else {
                        throw fail("\(path): frame \(frame.sequence) has no label map (moeseg eval needs labelled recordings for --data)")
                    }
                    // OOD frames need no labels: everything is ignored but the frame scores.
                    labels.withUnsafeMutableBufferPointer { $0.update(repeating: 255) }
                }
                try add(frame: frame, labels: labels, runner: runner, evaluator: &evaluator, state: &state, isOOD: isOOD, index: index,
                        sheet: &sheet, principalMI: principalMI)
                index += 1
                taken += 1
            }
            if source.damageCount > 0 || !source.issuesFoundAtOpen.isEmpty {
                FileHandle.standardError.write(Data("moeseg: warning: \(path) is damaged; evaluated what was readable\n".utf8))
            }
        }
        guard state.idFrames > 0 else { throw fail("no frames in \(data.joined(separator: ","))") }
        return (state, sheet)
    }

    private func add(frame: Frame, labels: [UInt8], runner: MixtureRunner, evaluator: inout FrameEvaluator,
                     state: inout EvaluationState, isOOD: Bool, index: Int,
                     sheet: inout EvalContactSheet?, principalMI: UncertaintyMap?) throws {
        var frame = frame
        if let (kind, severity) = corruption {
            do { try kind.apply(to: &frame, severity: severity, seed: corruptionSeed &+ UInt64(index)) } catch {
                throw fail("frame \(index): \(error)")
            }
        }
        let result = try runner.process(frame: frame)
        onFrame?(result, labels, isOOD)
        sheet?.add(frame: frame, result: result, principalMI: principalMI, isOOD: isOOD)
        var maps: [(name: String, values: UnsafeBufferPointer<Float>)] = []
        for map in Self.candidateMaps { if let values = result.map(map) { maps.append((map.rawValue, values)) } }
        var scores: [String: Double] = [:]
        for (name, score) in oodScoreNames { if let value = result.scores[score] { scores[name] = Double(value) } }
        evaluator.add(to: &state, probabilities: result.probabilities, labels: labels, maps: maps, scores: scores, isOOD: isOOD)
        if let dump {
            let stem = String(format: "%05d", index)
            try NumPyArray(shape: [runner.model.classes, result.height, result.width], values: Array(result.probabilities))
                .write(to: dump.appendingPathComponent("\(stem)_probs.npy"))
            try NumPyArray.encodeBytes(shape: [result.height, result.width], values: labels)
                .write(to: dump.appendingPathComponent("\(stem)_labels.npy"))
            for (name, values) in maps {
                try NumPyArray(shape: [result.height, result.width], values: Array(values))
                    .write(to: dump.appendingPathComponent("\(stem)_map_\(name).npy"))
            }
            let meta: [String: Any] = ["ood": isOOD, "scores": scores]
            try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys])
                .write(to: dump.appendingPathComponent("\(stem)_frame.json"))
        }
    }
}
