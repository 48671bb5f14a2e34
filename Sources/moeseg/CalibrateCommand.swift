import ArgumentParser
import Daemon
import Evaluation
import Foundation
import Mixture

/// `moeseg calibrate`: OOD thresholds fitted at a target frame false-positive rate on
/// in-distribution recordings, written into a daemon config ready for `moeseg run --config`.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit the OOD thresholds at a target frame false-positive rate on in-distribution recordings.",
        discussion: "Runs the model with the base config's settings (maps, mi_pixel_threshold, routing samples) on every "
            + "frame of --data, sets each enabled score's threshold so that at most --target-fpr of those frames exceed it, "
            + "reports the detection rate on --ood recordings, and writes the base config (default: the embedded one) "
            + "with its [ood] section replaced. First it fits the members' logit temperature by NLL and then the routing "
            + "temperature by the NLL of the routing-sampled predictive, on the first --temperature-frames frames.")

    @Option(help: "The model directory (default: the base config's model, else the demo model).")
    var model: String?
    @Option(help: "In-distribution recordings (comma-separated).")
    var data: String
    @Option(help: "Out-of-distribution recordings (comma-separated), to report the true-positive rate.")
    var ood: String = ""
    @Option(name: .customLong("target-fpr"), help: "Share of in-distribution frames each score may flag.")
    var targetFPR: Double = 0.01
    @Option(help: "The config to start from (default: the embedded default).")
    var config: String?
    @Option(help: "Where to write the config with the fitted [ood] section.")
    var out: String
    @Option(help: "Threads per expert.")
    var threads: Int = 2
    @Option(name: .customLong("temperature-frames"), help: "In-distribution frames (the first of each recording) to fit the logit temperature on by NLL; 0 keeps the base config's.")
    var temperatureFrames: Int = 64
    @Option(name: .customLong("routing-samples"), help: "Routing samples K per frame for the daemon, written into the config (default: the base config's); the routing temperature is fitted with this K, or with 8 when it is 0.")
    var routingSamples: Int?

    func run() throws {
        func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        try reportingErrors {
            guard targetFPR >= 0, targetFPR < 1 else { throw fail("--target-fpr must be in [0, 1), got \(targetFPR)") }
            guard !list(data).isEmpty else { throw fail("--data needs at least one in-distribution recording") }
            let base: DaemonConfig
            do { base = try DaemonLauncher.loadConfig(path: config) } catch { throw fail("\(error)") }
            let baseText: String
            if let config {
                guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw fail("cannot read \(config)") }
                baseText = text
            } else {
                baseText = EmbeddedConfig.text
            }
            let directory: String
            do {
                directory = try DaemonLauncher.resolveModelDirectory(configured: model ?? base.model.dir,
                                                                   environment: ProcessInfo.processInfo.environment,
                                                                   executable: "/proc/self/exe")
            } catch { throw fail("\(error)") }
            guard temperatureFrames >= 0 else { throw fail("--temperature-frames must be ≥ 0") }
            let samples = routingSamples ?? base.model.routingSamples
            guard (0...256).contains(samples) else { throw fail("--routing-samples must be 0-256, got \(samples)") }
            var evaluation = MixtureEvaluation(directory: directory, routingSamples: samples, threads: threads,
                                               framesPerRecording: 0, dump: nil)
            evaluation.routingTemperature = base.model.routingTemperature
            evaluation.pixelThreshold = base.model.miPixelThreshold
            evaluation.temperature = base.model.temperature
            var lines: [String] = []
            var temperature = base.model.temperature
            if temperatureFrames > 0 {
                let fit = try Self.fitTemperature(evaluation, data: list(data), frames: temperatureFrames)
                temperature = fit.temperature
                lines.append("temperature: \(Self.number(fit.temperature)) (NLL \(Self.number(fit.nllBefore)) at T = \(Self.number(base.model.temperature)) → "
                    + "\(Self.number(fit.nllAfter)), top-label ECE \(Self.number(fit.eceBefore)) → \(Self.number(fit.eceAfter)) on \(fit.frames) frames)")
            }
            evaluation.temperature = temperature
            var routingTemperature = base.model.routingTemperature
            if temperatureFrames > 0 {
                let fitSamples = samples > 0 ? samples : 8
                if let fit = try Self.fitRoutingTemperature(evaluation, data: list(data), frames: temperatureFrames, samples: fitSamples,
                                                           start: base.model.routingTemperature) {
                    routingTemperature = fit.temperature
                    lines.append("routing temperature: \(Self.number(fit.temperature)) (NLL of the \(fitSamples)-sample routing predictive "
                        + "\(Self.number(fit.nllAtStart)) at T = \(Self.number(base.model.routingTemperature)) → \(Self.number(fit.nll)); "
                        + "\(Self.number(fit.nllAtZero)) without routing noise; \(fit.pixels) pixels of \(fit.frames) frames)"
                        + (samples == 0 ? "; routing samples stay off (routing_samples = 0)" : ""))
                } else {
                    lines.append("routing temperature: not fitted (the model has no gate)")
                }
            }
            evaluation.routingTemperature = routingTemperature
            let state = try evaluation.run(data: list(data), ood: list(ood))

            let enabled = oodScoreNames.filter { base.ood.thresholds[$0.1] != nil }
            guard !enabled.isEmpty else { throw fail("the base config enables no OOD score ([ood] enabled)") }
            // routing_mi is fitted whenever routing samples are on, so enabling it later needs no re-run.
            let toFit = oodScoreNames.filter { base.ood.thresholds[$0.1] != nil || ($0.0 == "routing_mi" && samples > 0) }
            var fitted: [(name: String, threshold: Double)] = []
            for (name, _) in toFit {
                let isEnabled = enabled.contains { $0.0 == name }
                guard let scores = state.frameScores[name], let t = ThresholdFit.threshold(inDistribution: scores.id, falsePositiveRate: targetFPR) else {
                    if !isEnabled { continue }
                    throw fail("the model gives no \(name) score (enabled in [ood]); disable it or enable the maps it needs")
                }
                fitted.append((name, t))
                let fpr = ThresholdFit.rate(of: scores.id, above: t)
                let tpr = scores.ood.isEmpty ? nil : ThresholdFit.rate(of: scores.ood, above: t)
                lines.append("\(name): threshold \(Self.number(t)), ID frames flagged \(Self.percent(fpr))"
                    + (tpr.map { ", OOD frames flagged \(Self.percent($0))" } ?? "") + (isEnabled ? "" : " (not enabled in [ood])"))
            }
            let enabledFits = fitted.filter { f in enabled.contains { $0.0 == f.name } }
            // A frame is OOD when any enabled score fires.
            func anyFires(_ pick: (EvaluationState.FrameScoreLists) -> [Double]) -> Double? {
                let lists = enabledFits.map { pick(state.frameScores[$0.name]!) }
                guard let count = lists.first?.count, count > 0, lists.allSatisfy({ $0.count == count }) else { return nil }
                var flagged = 0
                for f in 0..<count where enabledFits.indices.contains(where: { lists[$0][f] > enabledFits[$0].threshold }) { flagged += 1 }
                return Double(flagged) / Double(count)
            }
            let idAny = anyFires { $0.id }
            let oodAny = anyFires { $0.ood }
            lines.append("any enabled score: ID frames flagged \(idAny.map(Self.percent) ?? "-") (target \(Self.percent(targetFPR)) per score)"
                + (oodAny.map { ", OOD frames flagged \(Self.percent($0))" } ?? ""))

            let provenance = "# Fitted by `moeseg calibrate --target-fpr \(targetFPR)` on \(state.idFrames) in-distribution frames of "
                + list(data).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
                + (list(ood).isEmpty ? "" : " (OOD check: \(list(ood).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")))")
                + " with model \(URL(fileURLWithPath: directory).lastPathComponent)."
            let section = Self.oodSection(fitted: fitted, enabled: enabledFits.map(\.name), base: base, provenance: provenance, summary: lines)
            var text = Self.replacingOODSection(in: baseText, with: section)
            text = Self.setting("temperature", to: Self.number(temperature), inSection: "model", of: text,
                                comment: "Logit temperature fitted by moeseg calibrate (NLL).")
            text = Self.setting("routing_temperature", to: Self.number(routingTemperature), inSection: "model", of: text,
                                comment: "Routing temperature fitted by moeseg calibrate (NLL of the routing predictive).")
            if let routingSamples {
                text = Self.setting("routing_samples", to: "\(routingSamples)", inSection: "model", of: text,
                                    comment: "Routing samples per frame (moeseg calibrate --routing-samples).")
            }
            if !text.hasSuffix("\n") { text += "\n" }
            do { _ = try DaemonConfig.parse(text, origin: out) } catch { throw fail("the written config would not load: \(error)") }
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                throw fail("cannot write \(out): \((error as NSError).localizedDescription)")
            }
            for line in lines { print(line) }
            print("wrote \(out)")
        }
    }

    static func number(_ x: Double) -> String { String(format: "%.6g", x) }

    /// The temperature minimising top-label NLL on the first frames of the recordings, found by
    /// golden-section search over log T in [1/4, 4] (NLL is unimodal in T for a softmax).
    static func fitTemperature(_ base: MixtureEvaluation, data: [String], frames: Int)
        throws -> (temperature: Double, nllBefore: Double, nllAfter: Double, eceBefore: Double, eceAfter: Double, frames: Int) {
        var evaluation = base
        evaluation.framesPerRecording = max(1, (frames + data.count - 1) / data.count)
        var cache: [Double: (Double, Double, Int)] = [:]
        func measure(_ t: Double) throws -> (nll: Double, ece: Double, frames: Int) {
            if let hit = cache[t] { return hit }
            evaluation.temperature = t
            let state = try evaluation.run(data: data, ood: [])
            let result = (state.topLabel.nll ?? .infinity, state.topLabel.expectedCalibrationError ?? 1, state.idFrames)
            cache[t] = result
            return result
        }
        let start = try measure(base.temperature)
        var lo = log(0.25), hi = log(4.0)
        let ratio = (sqrt(5.0) - 1) / 2
        var a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo)
        var fa = try measure(exp(a)).nll, fb = try measure(exp(b)).nll
        for _ in 0..<10 {
            if fa < fb { hi = b; b = a; fb = fa; a = hi - ratio * (hi - lo); fa = try measure(exp(a)).nll }
            else { lo = a; a = b; fa = fb; b = lo + ratio * (hi - lo); fb = try measure(exp(b)).nll }
        }
        // Two significant figures: more would claim a precision 64 frames cannot give.
        var best = Double(String(format: "%.2g", exp((lo + hi) / 2))) ?? 1
        best = min(max(best, 0.05), 20)
        let end = try measure(best)
        if end.nll >= start.nll { return (base.temperature, start.nll, start.nll, start.ece, start.ece, start.frames) }
        return (best, start.nll, end.nll, start.ece, end.ece, end.frames)
    }

    /// The routing temperature minimising the NLL of the K-sample routing predictive on the first
    /// frames of the recordings (the runner at the fitted logit temperature; RoutingTemperatureFit),
    /// nil for a model without a gate.
    static func fitRoutingTemperature(_ base: MixtureEvaluation, data: [String], frames: Int, samples: Int, start: Double)
        throws -> RoutingTemperatureFit.Result? {
        let model: MixtureModel
        do { model = try MixtureModel.load(directory: base.directory) } catch { throw fail("\(error)") }
        guard let gate = model.manifest.gate else { return nil }
        let experts = model.manifest.experts.count, classes = model.classes
        let columns = gate.kind == .simple ? 1 : classes
        let sampler = RoutingGateSampler(experts: experts, columns: columns)
        var noise = [Double](repeating: 0, count: experts * columns), column = [Double](repeating: 0, count: experts)
        var fit = RoutingTemperatureFit(experts: experts, classes: classes, gateColumns: columns, samples: samples) { t, frame, gate, out in
            noise.withUnsafeMutableBufferPointer { n in
                column.withUnsafeMutableBufferPointer { w in
                    sampler.draw(gate: gate.baseAddress!, routing: RoutingSampling(samples: samples, temperature: t, seed: base.routingSeed),
                                 samples: samples, frameIndex: frame, into: out.baseAddress!, noise: n.baseAddress!, column: w.baseAddress!)
                }
            }
        }
        var evaluation = base
        evaluation.framesPerRecording = max(1, (frames + data.count - 1) / data.count)
        evaluation.onFrame = { result, labels, _ in
            guard let gateLogits = result.gateLogits else { return }
            fit.add(frameIndex: result.frameIndex, gateLogits: gateLogits, expertLogits: (0..<experts).map { result.expertLogits($0) },
                    labels: labels, width: result.width, height: result.height)
        }
        _ = try evaluation.run(data: data, ood: [])
        return fit.fit(start: start)
    }

    /// `text` with `key = value` in `[section]`: the existing line replaced, else appended to the section.
    static func setting(_ key: String, to value: String, inSection section: String, of text: String, comment: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "[\(section)]" }) else {
            return text + "\n[\(section)]\n\(key) = \(value)\n"
        }
        var end = start + 1
        while end < lines.count, !lines[end].trimmingCharacters(in: .whitespaces).hasPrefix("[") { end += 1 }
        if let line = (start + 1..<end).first(where: { lines[$0].hasPrefix("\(key) =") || lines[$0].hasPrefix("\(key)=") }) {
            lines[line] = "\(key) = \(value)"
        } else {
            var insert = end
            while insert > start + 1, lines[insert - 1].trimmingCharacters(in: .whitespaces).isEmpty { insert -= 1 }
            lines.insert(contentsOf: ["# \(comment)", "\(key) = \(value)"], at: insert)
        }
        return lines.joined(separator: "\n")
    }
    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }

    /// The new [ood] section: fitted thresholds for the enabled scores, the base's others and debounce.
    static func oodSection(fitted: [(name: String, threshold: Double)], enabled: [String], base: DaemonConfig, provenance: String,
                           summary: [String]) -> String {
        var text = "[ood]\n"
        text += "# Per-frame OOD scores and their thresholds; a frame is OOD when any enabled score is above\n"
        text += "# its threshold. Enabled scores: gate_entropy, mean_mi, uncertain_fraction, routing_mi.\n"
        text += "# SIGHUP re-reads this section from the config file and applies it without a restart.\n"
        text += "# mean_mi is the frame mean of the weighted MI for a simple gate when mi_weighted is among the\n"
        text += "# maps, else of the stacked MI.\n"
        text += provenance + "\n"
        for line in summary { text += "# \(line)\n" }
        text += "enabled = [" + enabled.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n"
        for (name, score) in oodScoreNames {
            if let f = fitted.first(where: { $0.name == name }) {
                text += "\(name) = \(number(f.threshold))\n"
            } else {
                let value = base.ood.thresholds[score].map(Double.init) ?? Double(ConfigDefaults.threshold(score))
                text += "\(name) = \(number(value))\n"
            }
        }
        text += "# Debounce: consecutive OOD frames to enter the OOD state, in-distribution frames to leave it.\n"
        text += "enter_frames = \(base.ood.enterFrames)\nexit_frames = \(base.ood.exitFrames)\n"
        return text
    }

    /// `text` with the lines from its `[ood]` header up to the next table header replaced
    /// (or the section appended when there is none).
    static func replacingOODSection(in text: String, with section: String) -> String {
        var lines = text.components(separatedBy: "\n")
        func isHeader(_ line: String) -> Bool { line.trimmingCharacters(in: .whitespaces).hasPrefix("[") }
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("[ood]") }) else {
            return text + (text.hasSuffix("\n") ? "\n" : "\n\n") + section
        }
        var end = start + 1
        while end < lines.count, !isHeader(lines[end]) { end += 1 }
        // Keep the blank line before the next section.
        var replacement = section.components(separatedBy: "\n")
        if replacement.last == "" { replacement.removeLast() }
        if end < lines.count { replacement.append("") }
        lines.replaceSubrange(start..<end, with: replacement)
        return lines.joined(separator: "\n")
    }
}
