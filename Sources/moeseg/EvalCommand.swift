import ArgumentParser
import Evaluation
import Foundation
import Mixture
import NumPyIO
import Sensors

/// `moeseg eval`: segmentation quality, calibration, conditional and OOD metrics of a model on
/// labelled recordings (docs/evaluation.md), streamed; partial states merge exactly.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on labelled recordings: mIoU, calibration (ECE, MCE, Brier, NLL), PAvPU and OOD detection.",
        discussion: "Labels come from the recording's mono8 label channel, resized (nearest) to the model's input; ids ≥ classes "
            + "are ignored and 254 marks unknown objects. --ood recordings are the positives of the frame-level OOD metrics. "
            + "--state writes the partial state instead of (or besides) the report; `moeseg eval --merge S1 S2 ...` combines states.")

    @Option(help: "The model directory (moe.toml).")
    var model: String?
    @Option(help: "In-distribution labelled recordings (MCAP, comma-separated).")
    var data: String = ""
    @Option(help: "Out-of-distribution recordings (comma-separated): positives of the frame-level OOD metrics.")
    var ood: String = ""
    @Option(name: .customLong("routing-samples"), help: "Routing samples K per frame (adds the routing_mi score and routing maps).")
    var routingSamples: Int = 0
    @Option(help: "At most this many frames per recording (0: all).")
    var frames: Int = 0
    @Option(help: "Threads per expert.")
    var threads: Int = 2
    @Option(help: "Write the report JSON here ('-' = stdout, the default).")
    var json: String = "-"
    @Option(help: "Also write the partial state (JSON) here, for --merge.")
    var state: String?
    @Option(parsing: .upToNextOption, help: "Merge these partial states (from --state) instead of evaluating.")
    var merge: [String] = []
    @Option(help: "Write each frame's probabilities, labels and maps as .npy here (for tools/eval/eval_reference.py).")
    var dump: String?
    @Option(help: "Corrupt every --data and --ood frame before the model sees it (moeseg corrupt's kinds, e.g. fog).")
    var corruption: String?
    @Option(help: "Severity 1-5 of --corruption.")
    var severity: Int = 3
    @Option(name: .customLong("corruption-seed"), help: "Seed of the random corruptions (frame k uses seed + k).")
    var corruptionSeed: UInt64 = 1
    @Option(help: "Write a report page here: index.html (reliability diagrams, PAvPU curves, score histograms) and frames.png.")
    var report: String?

    func run() throws {
        func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        try reportingErrors {
            let result: EvaluationState
            var sheet: EvalContactSheet?
            if !merge.isEmpty {
                guard model == nil, data.isEmpty, ood.isEmpty else { throw fail("--merge combines states; it takes no --model, --data or --ood") }
                result = try Self.merged(merge)
            } else {
                guard let model else { throw fail("--model is required (or --merge STATES)") }
                guard !list(data).isEmpty else { throw fail("--data needs at least one labelled recording") }
                guard (0...256).contains(routingSamples) else { throw fail("--routing-samples must be 0-256") }
                guard frames >= 0, threads >= 1 else { throw fail("--frames must be ≥ 0 and --threads ≥ 1") }
                var shift: (Corruption, Int)?
                if let corruption {
                    guard let kind = Corruption(name: corruption) else {
                        throw fail("unknown corruption '\(corruption)' (one of \(Corruption.allCases.map(\.name).joined(separator: ", ")))")
                    }
                    guard Corruption.severities.contains(severity) else { throw fail("--severity must be 1-5, got \(severity)") }
                    shift = (kind, severity)
                }
                var evaluation = MixtureEvaluation(directory: model, routingSamples: routingSamples, threads: threads,
                                                   framesPerRecording: frames, dump: dump.map { URL(fileURLWithPath: $0) })
                evaluation.keepsContactSheet = report != nil
                evaluation.corruption = shift
                evaluation.corruptionSeed = corruptionSeed
                (result, sheet) = try evaluation.runWithSheet(data: list(data), ood: list(ood))
            }
            if let report {
                let dir = URL(fileURLWithPath: report)
                do {
                    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                    var sheetName: String?
                    if let png = try sheet?.png() {
                        try Data(png).write(to: dir.appendingPathComponent("frames.png"))
                        sheetName = "frames.png"
                    }
                    let page = EvaluationPage.html(result, model: model ?? "merged states", contactSheet: sheetName)
                    try page.write(to: dir.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
                } catch {
                    throw fail("cannot write the report to \(report): \((error as NSError).localizedDescription)")
                }
            }
            if let state {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try write(try encoder.encode(result), to: state)
            }
            try write(try EvaluationReport.json(result) + Data("\n".utf8), to: json)
        }
    }

    private func write(_ data: Data, to path: String) throws {
        if path == "-" { FileHandle.standardOutput.write(data); return }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw fail("cannot write \(path): \((error as NSError).localizedDescription)")
        }
    }

    static func merged(_ paths: [String]) throws -> EvaluationState {
        var result: EvaluationState?
        for path in paths {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw fail("cannot read state \(path): \((error as NSError).localizedDescription)")
            }
            let part: EvaluationState
            do { part = try JSONDecoder().decode(EvaluationState.self, from: data) } catch {
                throw fail("\(path) is not a moeseg eval state (written by --state)")
            }
            if result == nil { result = part } else {
                do { try result!.merge(part) } catch { throw fail("\(path): \(error)") }
            }
        }
        return result!
    }
}

/// Runs a mixture over labelled recordings and accumulates an `EvaluationState`.
struct MixtureEvaluation {
    let directory: String
    let routingSamples: Int
    let threads: Int
    let framesPerRecording: Int
    let dump: URL?
    /// The daemon's `mi_pixel_threshold` (nats), which the uncertain-fraction score counts above.
    var pixelThreshold: Float = 0.5
    /// Keep the first frames' pictures for `--report`.
    var keepsContactSheet = false
    /// Data shift applied to every frame before preprocessing.
    var corruption: (Corruption, Int)?
    var corruptionSeed: UInt64 = 1

    /// The daemon's names of the frame scores (its [ood] keys).
    static let scoreNames: [(String, OODScore)] = [("gate_entropy", .gateEntropy), ("mean_mi", .meanMutualInformation),
                                                  ("uncertain_fraction", .uncertainPixelFraction),
                                                  ("routing_mi", .routingMutualInformation)]

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
        let options = MixtureRunOptions(threads: threads,
                                        routing: RoutingSampling(samples: routingSamples, temperature: 1, seed: 1),
                                        maps: maps, mutualInformationPixelThreshold: pixelThreshold,
                                        keepsProbabilities: true)
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
                guard let l = frame.labels, l.count == frame.width * frame.height else {
                    if isOOD { labels = [UInt8](repeating: 255, count: width * height) } else {
                        throw fail("\(path): frame \(frame.sequence) has no label map (moeseg eval needs labelled recordings for --data)")
                    }
                    try add(frame: frame, labels: labels, runner: runner, evaluator: &evaluator, state: &state, isOOD: isOOD, index: index,
                            sheet: &sheet, principalMI: principalMI)
                    index += 1; taken += 1
                    continue
                }
                l.withUnsafeBufferPointer { src in
                    labels.withUnsafeMutableBufferPointer {
                        MapResize.nearest(src, width: frame.width, height: frame.height, into: $0, toWidth: width, toHeight: height)
                    }
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
        sheet?.add(frame: frame, result: result, principalMI: principalMI, isOOD: isOOD)
        var maps: [(name: String, values: UnsafeBufferPointer<Float>)] = []
        for map in Self.candidateMaps { if let values = result.map(map) { maps.append((map.rawValue, values)) } }
        var scores: [String: Double] = [:]
        for (name, score) in Self.scoreNames { if let value = result.scores[score] { scores[name] = Double(value) } }
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
