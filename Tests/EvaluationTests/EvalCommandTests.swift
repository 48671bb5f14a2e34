import Foundation
import Testing

/// `moeseg eval` end to end against tools/eval/eval_reference.py (numpy, written from
/// docs/evaluation.md), and `--state` / `--merge` against a single run.
@Suite("moeseg eval", .serialized)
struct EvalCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func moeseg() throws -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["MOESEG_BIN"] { candidates.append(configured) }
        candidates.append(bundle.appendingPathComponent("moeseg").path)
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("moeseg").path)
        candidates.append(root.appendingPathComponent(".build/debug/moeseg").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "no moeseg binary (looked at \(candidates))")
        }
        return found
    }

    static func python() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], FileManager.default.isExecutableFile(atPath: env) { return env }
        let venv = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else { throw Failure(description: "no Python: set MOESEG_PYTHON") }
        return venv
    }

    /// Runs a program; output through files (Foundation pipes can fill up and block).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-eval-\(UUID().uuidString)")
        let out = base.appendingPathExtension("out"), err = base.appendingPathExtension("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func reportAgreesWithTheNumpyReferenceAndStatesMerge() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-eval-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let moeseg = try Self.moeseg()
        let model = Self.root.appendingPathComponent("models/demo/moe-simple").path
        var drives: [String] = []
        for (domain, seed) in [("urban", 31), ("highway", 32), ("ambiguous", 33)] {
            let path = dir.appendingPathComponent("\(domain).mcap").path
            let synth = try Self.run(moeseg, ["synth", "--domain", domain, "--frames", "6", "--seed", "\(seed)",
                                              "--size", "256x128", "--out", path])
            #expect(synth.status == 0, "\(synth.err)")
            drives.append(path)
        }
        let dump = dir.appendingPathComponent("dump").path
        let report = dir.appendingPathComponent("report.json").path
        let eval = try Self.run(moeseg, ["eval", "--model", model, "--data", "\(drives[0]),\(drives[1])", "--ood", drives[2],
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

        let reference = try Self.run(try Self.python(), [Self.root.appendingPathComponent("tools/eval/eval_reference.py").path,
                                                       dump, report, "--tolerance", "1e-4"])
        #expect(reference.status == 0, "\(reference.out)\(reference.err)")
        #expect(reference.out.contains("\"problems\": []"), "\(reference.out)")

        // One process per recording, then merged: the same report.
        var states: [String] = []
        for (i, drive) in drives.enumerated() where i < 2 {
            let state = dir.appendingPathComponent("s\(i).json").path
            let part = try Self.run(moeseg, ["eval", "--model", model, "--data", drive, "--routing-samples", "3",
                                             "--state", state, "--json", dir.appendingPathComponent("r\(i).json").path])
            #expect(part.status == 0, "\(part.err)")
            states.append(state)
        }
        let merged = try Self.run(moeseg, ["eval", "--merge"] + states + ["--json", "-"])
        #expect(merged.status == 0, "\(merged.err)")
        let mergedObject = try #require(try JSONSerialization.jsonObject(with: Data(merged.out.utf8)) as? [String: Any])
        #expect(abs((mergedObject["miou"] as? Double ?? -1) - (object["miou"] as? Double ?? -2)) < 1e-12)
        let a = try #require(object["top_label"] as? [String: Double]), b = try #require(mergedObject["top_label"] as? [String: Double])
        for key in ["ece", "mce", "brier", "nll"] { #expect(abs(a[key]! - b[key]!) < 1e-12, "\(key)") }

        for (arguments, message) in [(["eval", "--data", drives[0]], "--model is required"),
                                     (["eval", "--model", model], "--data needs"),
                                     (["eval", "--merge", drives[0]], "is not a moeseg eval state"),
                                     (["eval", "--model", model, "--data", dir.appendingPathComponent("none.mcap").path], "none.mcap")] {
            let bad = try Self.run(moeseg, arguments)
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
        let moeseg = try EvalCommandTests.moeseg()
        let drive = dir.appendingPathComponent("urban.mcap").path
        #expect(try EvalCommandTests.run(moeseg, ["synth", "--domain", "urban", "--frames", "4", "--seed", "51",
                                                  "--size", "256x128", "--out", drive]).status == 0)
        let model = EvalCommandTests.root.appendingPathComponent("models/demo/moe-simple-int8").path
        func miou(_ extra: [String]) throws -> Double {
            let out = dir.appendingPathComponent("r\(extra.count).json").path
            let run = try EvalCommandTests.run(moeseg, ["eval", "--model", model, "--data", drive, "--json", out] + extra)
            #expect(run.status == 0, "\(run.err)")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
            return object?["miou"] as? Double ?? -1
        }
        let clean = try miou([])
        let noisy = try miou(["--corruption", "gaussian_noise", "--severity", "5"])
        #expect(noisy < clean - 0.05, "clean \(clean), gaussian_noise 5 \(noisy)")
        for (arguments, message) in [(["--corruption", "smog"], "unknown corruption 'smog'"),
                                     (["--corruption", "fog", "--severity", "6"], "--severity must be 1-5")] {
            let bad = try EvalCommandTests.run(moeseg, ["eval", "--model", model, "--data", drive] + arguments)
            #expect(bad.status == 1 && bad.err.contains(message) && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
        }
    }
}
