import Foundation
import Testing
import ProcessSupport

/// `moeseg calibrate`: thresholds at the target rate on the in-distribution drives, written
/// into the base config without touching its other sections.
@Suite("moeseg calibrate", .serialized)
struct CalibrateCommandTests {
    @Test func fitsAtTheTargetAndReplacesOnlyTheOODSection() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-cal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let moeseg = try MoesegTools.moeseg()
        var drives: [String] = []
        for (domain, seed) in [("highway", 41), ("urban", 42), ("ambiguous", 43)] {
            let path = dir.appendingPathComponent("\(domain).mcap").path
            #expect(try ChildProcess.run(moeseg, ["synth", "--domain", domain, "--frames", "20", "--seed", "\(seed)",
                                                      "--size", "256x128", "--out", path]).status == 0)
            drives.append(path)
        }
        let out = dir.appendingPathComponent("fitted.toml").path
        let model = MoesegTools.packageRoot.appendingPathComponent("models/demo/moe-simple-int8").path
        let run = try ChildProcess.run(moeseg, ["calibrate", "--model", model, "--data", "\(drives[0]),\(drives[1])",
                                                    "--ood", drives[2], "--target-fpr", "0.1", "--temperature-frames", "6", "--out", out])
        #expect(run.status == 0, "\(run.err)")
        // "mean_mi: threshold T, ID frames flagged X %, OOD frames flagged Y %" per enabled score.
        let lines = run.out.split(separator: "\n").filter { $0.contains("ID frames flagged") }
        #expect(lines.count == 3, "\(run.out)")
        for line in lines.dropLast() {
            let flagged = line.components(separatedBy: "ID frames flagged ")[1].split(separator: " ")[0]
            #expect((Double(flagged) ?? 100) <= 10.0, "\(line)")
        }

        let written = try String(contentsOfFile: out, encoding: .utf8)
        let base = try String(contentsOf: MoesegTools.packageRoot.appendingPathComponent("config/moeseg.toml"), encoding: .utf8)
        // Everything but [ood] and [model] temperature stays as it was.
        func withoutOOD(_ text: String) -> [Substring] {
            var keep: [Substring] = [], inOOD = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("[") { inOOD = line.hasPrefix("[ood]") }
                if !inOOD, !line.hasPrefix("temperature = "), !line.hasPrefix("routing_temperature = ") { keep.append(line) }
            }
            return keep
        }
        // "temperature: T (NLL a at T = t0 → b, ...)": the fit never makes NLL worse.
        let fit = try #require(run.out.split(separator: "\n").first { $0.hasPrefix("temperature: ") })
        let nll = fit.components(separatedBy: "NLL ")[1].components(separatedBy: " → ")
        let before = Double(nll[0].split(separator: " ")[0]) ?? 0, after = Double(nll[1].split(separator: ",")[0]) ?? 1
        #expect(after <= before, "\(fit)")
        let temperatureLine = try #require(written.split(separator: "\n").first { $0.hasPrefix("temperature = ") })
        let t = Double(temperatureLine.dropFirst("temperature = ".count)) ?? 0
        #expect((0.25...4).contains(t), "\(temperatureLine)")
        // "routing temperature: T (NLL of the 8-sample routing predictive a at T = 1 → b; c without routing noise; ...)"
        let routing = try #require(run.out.split(separator: "\n").first { $0.hasPrefix("routing temperature: ") })
        let routingNLL = routing.components(separatedBy: "predictive ")[1].components(separatedBy: " → ")
        #expect((Double(routingNLL[1].split(separator: ";")[0]) ?? 9) <= (Double(routingNLL[0].split(separator: " ")[0]) ?? 0), "\(routing)")
        #expect(routing.contains("routing samples stay off"), "\(routing)")
        let routingLine = try #require(written.split(separator: "\n").first { $0.hasPrefix("routing_temperature = ") })
        let fittedRouting = try #require(Double(routingLine.dropFirst("routing_temperature = ".count)))
        #expect(routing.hasPrefix("routing temperature: \(routingLine.dropFirst("routing_temperature = ".count)) "), "\(routing)")
        #expect((0.02...20).contains(fittedRouting), "\(routingLine)")
        #expect(withoutOOD(written) == withoutOOD(base))
        #expect(written.components(separatedBy: "[ood]").count == 2)
        #expect(written.contains("# Fitted by `moeseg calibrate --target-fpr 0.1` on 40 in-distribution frames of highway.mcap, urban.mcap"))
        // The daemon loads it (validation runs before anything starts).
        let check = try ChildProcess.run(moeseg, ["run", "--config", out, "--max-frames", "1", "--source", "synthetic:urban?fps=max",
                                                      "--model", model, "--endpoint", "ipc://\(dir.path)/cal.sock"])
        #expect(check.status == 0, "\(check.err)")

        // With routing samples on, routing_mi is fitted too (written, left as enabled as the base had it).
        let routed = dir.appendingPathComponent("routed.toml").path
        let withSamples = try ChildProcess.run(moeseg, ["calibrate", "--model", model, "--data", "\(drives[0]),\(drives[1])",
                                                            "--ood", drives[2], "--target-fpr", "0.1", "--temperature-frames", "4",
                                                            "--routing-samples", "4", "--out", routed])
        #expect(withSamples.status == 0, "\(withSamples.err)")
        #expect(withSamples.out.contains("NLL of the 4-sample routing predictive"), "\(withSamples.out)")
        let routedMI = try #require(withSamples.out.split(separator: "\n").first { $0.hasPrefix("routing_mi: threshold ") })
        #expect(routedMI.hasSuffix("(not enabled in [ood])"), "\(routedMI)")
        let routedText = try String(contentsOfFile: routed, encoding: .utf8)
        #expect(routedText.contains("\nrouting_samples = 4\n"))
        let miThreshold = routedMI.dropFirst("routing_mi: threshold ".count).split(separator: ",")[0]
        #expect(routedText.contains("\nrouting_mi = \(miThreshold)\n"), "\(routedText)")
        let check2 = try ChildProcess.run(moeseg, ["run", "--config", routed, "--max-frames", "1", "--source", "synthetic:urban?fps=max",
                                                       "--model", model, "--endpoint", "ipc://\(dir.path)/cal2.sock"])
        #expect(check2.status == 0, "\(check2.err)")

        let bad = try ChildProcess.run(moeseg, ["calibrate", "--data", drives[0], "--target-fpr", "1.5", "--out", out])
        #expect(bad.status == 1 && bad.err.contains("--target-fpr must be in [0, 1)") && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
    }
}
