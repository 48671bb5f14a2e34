import Daemon
import Foundation
import Mixture
import Sensors

/// `moeseg bench --model DIR`: the whole mixture with uncertainty, per-stage medians, and (with
/// `--compare`) parallel vs sequential experts measured in the same run.
enum MixtureBench {
    struct Request {
        var directory: String
        var threads: Int
        var iterations: Int
        var warmup: Int
        var json: Bool
        var sequential: Bool
        var compare: Bool
        var routingSamples: Int
        var maps: String
        var cpus: [Int]
        var frameWidth: Int?
        var frameHeight: Int?
    }

    /// Median of each stage over the measured frames, in milliseconds.
    struct Summary {
        var total: [Double] = [], preprocess: [Double] = [], expertStage: [Double] = [], gate: [Double] = []
        var combine: [Double] = [], uncertainty: [Double] = [], experts: [[Double]] = []
        var expertsCPU: [Double] = [], uncertaintyCPU: [Double] = []

        mutating func add(_ t: StageTimings) {
            total.append(t.total * 1000)
            preprocess.append(t.preprocess * 1000)
            expertStage.append(t.expertStage * 1000)
            gate.append(t.gate * 1000)
            combine.append(t.combine * 1000)
            uncertainty.append(t.uncertainty * 1000)
            expertsCPU.append(t.expertsCPU * 1000)
            uncertaintyCPU.append(t.uncertaintyCPU * 1000)
            if experts.isEmpty { experts = t.experts.map { _ in [] } }
            for (i, v) in t.experts.enumerated() { experts[i].append(v * 1000) }
        }

        static func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            return s.isEmpty ? 0 : s[s.count / 2]
        }

        static func percentile(_ values: [Double], _ p: Double) -> Double {
            let s = values.sorted()
            return s.isEmpty ? 0 : s[min(s.count - 1, Int((p * Double(s.count - 1)).rounded()))]
        }

        func pairs(_ label: String) -> [(String, Any)] {
            [("mode", label), ("median_ms", Self.median(total)), ("p90_ms", Self.percentile(total, 0.9)),
             ("min_ms", total.min() ?? 0), ("preprocess_ms", Self.median(preprocess)),
             ("experts_ms", experts.map { Self.median($0) } as [Any]), ("expert_stage_ms", Self.median(expertStage)),
             ("gate_ms", Self.median(gate)), ("combine_ms", Self.median(combine)),
             ("uncertainty_ms", Self.median(uncertainty)),
             ("uncertainty_share", Self.median(uncertainty) / max(Self.median(total), 1e-9)),
             ("experts_cpu_ms", Self.median(expertsCPU)), ("uncertainty_cpu_ms", Self.median(uncertaintyCPU)),
             ("uncertainty_over_experts_cpu", cpuRatio)]
        }

        /// Uncertainty CPU time over the experts' CPU time: what uncertainty adds to the frame's
        /// compute, measured in CPU time so that other processes on the machine do not bias it.
        var cpuRatio: Double {
            Self.median(zip(uncertaintyCPU, expertsCPU).map { $0 / max($1, 1e-9) })
        }

        func line(_ label: String) -> String {
            let experts = self.experts.map { String(format: "%.2f", Self.median($0)) }.joined(separator: "/")
            return String(format: "%@: median %.2f ms (p90 %.2f, min %.2f) = preprocess %.2f + experts %.2f [%@] + gate %.2f + combine %.2f + uncertainty %.2f (%.1f %% of the frame)",
                          label, Self.median(total), Self.percentile(total, 0.9), total.min() ?? 0, Self.median(preprocess),
                          Self.median(expertStage), experts, Self.median(gate), Self.median(combine), Self.median(uncertainty),
                          100 * Self.median(uncertainty) / max(Self.median(total), 1e-9))
                + String(format: "; CPU time: experts %.2f ms, uncertainty %.2f ms (%.1f %% of the experts')",
                         Self.median(expertsCPU), Self.median(uncertaintyCPU), 100 * cpuRatio)
        }
    }

    /// `--maps`: "daemon" (the daemon's default `[model] maps`), "all", or a comma-separated list
    /// of map names (with the `pe` / `mi` aliases of the model's principal set).
    static func maps(named text: String, for manifest: MixtureManifest) throws -> Set<UncertaintyMap> {
        let names: [String]
        switch text {
        case "all": return Set(UncertaintyMap.allCases)
        case "daemon": names = try DaemonConfig.embeddedDefault().model.maps
        default: names = text.split(separator: ",").map { String($0) }
        }
        for name in names where !UncertaintyMap.configurableNames.contains(name) {
            throw fail("--maps: unknown map `\(name)` (known: all, daemon, \(UncertaintyMap.configurableNames.joined(separator: ", ")))")
        }
        return UncertaintyMap.resolve(names, for: manifest)
    }

    static func run(_ request: Request) throws {
        let model = try MixtureModel.load(directory: request.directory)
        let manifest = model.manifest
        let maps = try Self.maps(named: request.maps, for: manifest)
        var frame = Frame()
        frame.reshape(width: request.frameWidth ?? manifest.input.width, height: request.frameHeight ?? manifest.input.height,
                      format: .rgb8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in frame.pixels.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            frame.pixels[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        // Runs measured side by side: the requested maps with parallel and/or sequential experts,
        // and the prediction alone (no maps) in the first run's mode, so that what the maps add to
        // the frame is a difference measured in the same run.
        struct Mode {
            var parallel: Bool
            var maps: Set<UncertaintyMap>
            var label: String
        }
        var modes = (request.compare ? [true, false] : [!request.sequential]).map {
            Mode(parallel: $0, maps: maps, label: $0 ? "parallel experts" : "sequential experts")
        }
        modes.append(Mode(parallel: modes[0].parallel, maps: [], label: modes[0].label + ", prediction alone"))
        var runners: [MixtureRunner] = []
        for mode in modes {
            runners.append(try MixtureRunner(model: model, options: MixtureRunOptions(
                threads: request.threads, cpus: request.cpus,
                routing: RoutingSampling(samples: mode.maps.isEmpty ? 0 : request.routingSamples, temperature: 1, seed: 1),
                maps: mode.maps, parallelExperts: mode.parallel)))
        }
        var summaries = [Summary](repeating: Summary(), count: modes.count)
        for _ in 0..<request.warmup {
            for runner in runners { _ = try runner.process(frame: frame) }
        }
        // Modes alternate frame by frame so that machine load affects all alike.
        for i in 0..<request.iterations {
            frame.sequence = UInt64(i)
            for (m, runner) in runners.enumerated() { summaries[m].add(try runner.process(frame: frame).timings) }
        }
        let labels = modes.map(\.label)
        // Only the last stage differs between the two runners, so the maps' cost is the difference of
        // its medians; the other stages' medians differ by machine noise alone.
        let withMaps = Summary.median(summaries[0].uncertainty), alone = Summary.median(summaries[modes.count - 1].uncertainty)
        let frameAlone = Summary.median(summaries[modes.count - 1].total)
        let mapsShare = (withMaps - alone) / max(frameAlone, 1e-9)
        let flops = (model.expertFlops.reduce(0, +) + model.gateFlops + model.combineFlops)
        var report: [(String, Any)] = [
            ("model", request.directory), ("id", manifest.id), ("kind", manifest.kind.rawValue),
            ("experts", manifest.experts.count), ("classes", model.classes),
            ("input", "\(manifest.input.width)x\(manifest.input.height)"), ("frame", "\(frame.width)x\(frame.height)"),
            ("threads_per_expert", request.threads), ("routing_samples", request.routingSamples),
            ("maps", maps.map(\.rawValue).sorted() as [Any]),
            ("iterations", request.iterations), ("warmup", request.warmup), ("gflops_per_frame", Double(flops) / 1e9),
            ("peak_rss_mb", ProcessMemory.peakResidentMB),
            ("runs", zip(summaries, labels).map { $0.pairs($1) } as [Any]),
            ("maps_add_to_frame", mapsShare),
        ]
        var ratio: Double? = nil
        if request.compare {
            ratio = Summary.median(summaries[1].total) / max(Summary.median(summaries[0].total), 1e-9)
            report.append(("sequential_over_parallel", ratio!))
        }
        if request.json {
            print(JSONLine.object(report))
        } else {
            print(String(format: "%@ (%@, %d experts, %d classes, %dx%d, %.2f GFLOP/frame), %d threads per expert, K = %d, %d frames:",
                         manifest.id, manifest.kind.rawValue, manifest.experts.count, model.classes, manifest.input.width,
                         manifest.input.height, Double(flops) / 1e9, request.threads, request.routingSamples, request.iterations))
            print("  maps: " + maps.map(\.rawValue).sorted().joined(separator: ", "))
            for (summary, label) in zip(summaries, labels) { print("  " + summary.line(label)) }
            if let ratio { print(String(format: "  sequential / parallel frame time: %.2f", ratio)) }
            print(String(format: "  the maps add %.2f ms = %.1f %% to the %.2f ms frame of the prediction alone (%@; last stage %.2f ms with them, %.2f ms without)",
                         withMaps - alone, 100 * mapsShare, frameAlone, modes[0].label, withMaps, alone))
            print(String(format: "  peak RSS %.1f MB", ProcessMemory.peakResidentMB))
        }
    }
}
