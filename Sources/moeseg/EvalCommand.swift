import ArgumentParser
import Evaluation
import Foundation

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
    @Option(help: "Logit temperature of the members (the daemon's [model] temperature).")
    var temperature: Double = 1
    @Option(name: .customLong("routing-temperature"), help: "Temperature of the routing samples (the daemon's [model] routing_temperature).")
    var routingTemperature: Double = 1
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
                guard routingTemperature.isFinite, (0...100).contains(routingTemperature) else {
                    throw fail("--routing-temperature must be 0-100, got \(routingTemperature)")
                }
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
                evaluation.temperature = temperature
                evaluation.routingTemperature = routingTemperature
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
