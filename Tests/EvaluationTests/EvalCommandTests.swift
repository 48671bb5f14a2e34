import Foundation
import Testing
import ProcessSupport

/// `moeseg eval` end to end against tools/eval/eval_reference.py (numpy, written from
/// docs/evaluation.md), and `--state` / `--merge` against a single run.
@Suite("moeseg eval", .serialized)
struct EvalCommandTests {
    @Test func reportAgreesWithTheNumpyReferenceAndStatesMerge() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-eval-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let moeseg = try MoesegTools.moeseg()
        let model = MoesegTools.packageRoot.appendingPathComponent("models/demo/moe-simple").path
        var drives: [String] = []
        for (domain, seed) in [("urban", 31), ("highway", 32), ("ambiguous", 33)] {
            let path = dir.appendingPathComponent("\(domain).mcap").path
            let synth = try ChildProcess.run(moeseg, ["synth", "--domain", domain, "--frames", "6", "--seed", "\(seed)",
                                              "--size", "256x128", "--out", path])
            #expect(synth.status == 0, "\(synth.err)")
            drives.append(path)
        }
        let dump = dir.appendingPathComponent("dump").path
        let report = dir.appendingPathComponent("report.json").path
        let eval = try ChildProcess.run(moeseg, ["eval", "--model", model, "--data", "\(drives[0]),\(drives[1])", "--ood", drives[2],
                                         "--routing-samples", "3", "--dump", dump, "--json", report,
                                         "--report", dir.appendingPathComponent("page").path])
        #expect(eval.status == 0, "\(eval.err)")
        let page = try String(contentsOf: dir.appendingPathComponent("page/index.html"), encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("mi_weighted") && page.contains("frames.png"))
        let sheet = try Data(contentsOf: dir.appendingPathComponent("page/frames.png"))
        #expect(sheet.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        for key in ["miou", "iou", "frames", "top_label", "maps", "ood_frame", "ood_pixel"] { #expect(object[key] != nil, "\(key)") }
        let frameScores = try #require(object["ood_frame"] as? [String: Any])
        #expect(Set(frameScores.keys).isSuperset(of: ["gate_entropy", "mean_mi", "uncertain_fraction", "routing_mi"]), "\(frameScores.keys)")
        let maps = try #require(object["maps"] as? [String: Any])
        #expect(Set(maps.keys).isSuperset(of: ["pe_weighted", "mi_weighted", "ev", "gate_entropy", "routing_mi"]), "\(maps.keys)")

        let reference = try ChildProcess.run(try MoesegTools.python(), [MoesegTools.packageRoot.appendingPathComponent("tools/eval/eval_reference.py").path,
                                                       dump, report, "--tolerance", "1e-4"])
        #expect(reference.status == 0, "\(reference.out)\(reference.err)")
        #expect(reference.out.contains("\"problems\": []"), "\(reference.out)")

        // One process per recording, then merged: the same report.
        var states: [String] = []
        for (i, drive) in drives.enumerated() where i < 2 {
            let state = dir.appendingPathComponent("s\(i).json").path
            let part = try ChildProcess.run(moeseg, ["eval", "--model", model, "--data", drive, "--routing-samples", "3",
                                             "--state", state, "--json", dir.appendingPathComponent("r\(i).json").path])
            #expect(part.status == 0, "\(part.err)")
            states.append(state)
        }
        let merged = try ChildProcess.run(moeseg, ["eval", "--merge"] + states + ["--json", "-"])
        #expect(merged.status == 0, "\(merged.err)")
        let mergedObject = try #require(try JSONSerialization.jsonObject(with: Data(merged.out.utf8)) as? [String: Any])
        #expect(abs((mergedObject["miou"] as? Double ?? -1) - (object["miou"] as? Double ?? -2)) < 1e-12)
        let a = try #require(object["top_label"] as? [String: Double]), b = try #require(mergedObject["top_label"] as? [String: Double])
        for key in ["ece", "mce", "brier", "nll"] { #expect(abs(a[key]! - b[key]!) < 1e-12, "\(key)") }

        for (arguments, message) in [(["eval", "--data", drives[0]], "--model is required"),
                                     (["eval", "--model", model], "--data needs"),
                                     (["eval", "--merge", drives[0]], "is not a moeseg eval state"),
                                     (["eval", "--model", model, "--data", dir.appendingPathComponent("none.mcap").path], "none.mcap")] {
            let bad = try ChildProcess.run(moeseg, arguments)
            #expect(bad.status != 0 && bad.err.contains(message) && bad.err.split(separator: "\n").count == 1, "\(arguments): \(bad.err)")
        }
    }
}

/// `eval --corruption`: the data shift reaches the model (severity 5 noise costs mIoU) and bad names are one line.
@Suite("moeseg eval --corruption", .serialized)
struct EvalCorruptionTests {
    @Test func severeNoiseLowersTheScoreAndBadKindsAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-evc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let moeseg = try MoesegTools.moeseg()
        let drive = dir.appendingPathComponent("urban.mcap").path
        #expect(try ChildProcess.run(moeseg, ["synth", "--domain", "urban", "--frames", "4", "--seed", "51",
                                                  "--size", "256x128", "--out", drive]).status == 0)
        let model = MoesegTools.packageRoot.appendingPathComponent("models/demo/moe-simple-int8").path
        func miou(_ extra: [String]) throws -> Double {
            let out = dir.appendingPathComponent("r\(extra.count).json").path
            let run = try ChildProcess.run(moeseg, ["eval", "--model", model, "--data", drive, "--json", out] + extra)
            #expect(run.status == 0, "\(run.err)")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
            return object?["miou"] as? Double ?? -1
        }
        let clean = try miou([])
        let noisy = try miou(["--corruption", "gaussian_noise", "--severity", "5"])
        #expect(noisy < clean - 0.05, "clean \(clean), gaussian_noise 5 \(noisy)")
        for (arguments, message) in [(["--corruption", "smog"], "unknown corruption 'smog'"),
                                     (["--corruption", "fog", "--severity", "6"], "--severity must be 1-5")] {
            let bad = try ChildProcess.run(moeseg, ["eval", "--model", model, "--data", drive] + arguments)
            #expect(bad.status == 1 && bad.err.contains(message) && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
        }
    }
}
