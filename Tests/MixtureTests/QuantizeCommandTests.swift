import Foundation
import Testing

/// `moeseg quantize` end to end on the demo mixture: calibration from real MCAP recordings, QDQ
/// files that onnxruntime runs (and moeseg matches), a report, --keep-float, and one clear line
/// for each kind of bad input.
@Suite(.serialized) struct QuantizeCommandTests {
    static let demo = PythonReference.packageRoot.appendingPathComponent("models/demo").path

    /// Short synthetic drives (with labels) in a fresh folder.
    static func recordings() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-quant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (domain, seed, frames) in [("highway", 31, 6), ("urban", 32, 6), ("ambiguous", 33, 4)] {
            let (status, _, stderr) = try MoesegCLI.run(["synth", "--domain", domain, "--frames", "\(frames)", "--seed", "\(seed)",
                                                         "--size", "512x256", "--out", dir.appendingPathComponent("\(domain).mcap").path])
            try #require(status == 0, "synth: \(stderr)")
        }
        return dir
    }

    @Test func quantizesTheDemoMixture() throws {
        let dir = try Self.recordings()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("int8").path
        let (status, stdout, stderr) = try MoesegCLI.run([
            "quantize", "--model", "\(Self.demo)/moe-simple",
            "--calibration", "\(dir.path)/highway.mcap,\(dir.path)/urban.mcap", "--frames", "6", "--holdout", "4",
            "--ood", "\(dir.path)/ambiguous.mcap", "--keep-float", "/classifier/Conv", "--out", out, "--json"])
        try #require(status == 0, "quantize: \(stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        let agreement = try #require(report["agreement"] as? Double)
        #expect(agreement >= 0.97, "prediction agreement \(agreement)")
        let miou = (report["miou_fp32"] as? Double, report["miou_int8"] as? Double)
        #expect(miou.0 != nil && abs((miou.0 ?? 0) - (miou.1 ?? 1)) <= 0.03, "mIoU \(miou)")
        #expect((report["mi_auroc_int8"] as? Double) != nil)
        #expect((report["kept_float"] as? [String])?.contains { $0.hasPrefix("/classifier/Conv") } == true)
        for file in ["highway.onnx", "urban.onnx", "gate_simple.onnx", "moe.toml"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file) missing")
        }
        // The kept layer is a float Conv among int8 ones.
        let (_, inspect, _) = try MoesegCLI.run(["inspect", "\(out)/highway.onnx"])
        let fused = try #require(inspect.split(separator: "\n").first { $0.hasPrefix("after folding and fusion") })
        #expect(fused.contains("QLinearConv 54") && fused.contains("Conv 1"), "\(fused)")
        // onnxruntime runs the written file, and moeseg agrees with it.
        let (check, checkOut, checkErr) = try runProcess(try PythonReference.python(), [
            PythonReference.packageRoot.appendingPathComponent("tools/check_quant.py").path,
            "\(Self.demo)/experts/urban.onnx", "\(out)/urban.onnx", "--moeseg", try MoesegCLI.path()])
        #expect(check == 0, "check_quant.py: \(checkOut) \(checkErr)")
        // The directory is a model moeseg runs.
        let (inspectDir, _, dirErr) = try MoesegCLI.run(["inspect", out])
        #expect(inspectDir == 0, "\(dirErr)")
    }

    @Test func badInputIsOneLine() throws {
        let dir = try Self.recordings()
        defer { try? FileManager.default.removeItem(at: dir) }
        let garbage = dir.appendingPathComponent("garbage.mcap")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131) }).write(to: garbage)
        let out = dir.appendingPathComponent("out").path
        let cases: [([String], String)] = [
            (["--model", "\(Self.demo)/moe-simple", "--calibration", "\(dir.path)/missing.mcap"], "missing.mcap"),
            (["--model", "\(Self.demo)/moe-simple", "--calibration", garbage.path], "garbage.mcap"),
            (["--model", "\(Self.demo)/moe-simple", "--calibration", "\(dir.path)/urban.mcap", "--frames", "2", "--holdout", "1",
              "--keep-float", "no/such/node"], "no/such/node"),
            (["--model", "\(Self.demo)/baseline-mc", "--calibration", "\(dir.path)/urban.mcap"], "MC-dropout"),
            (["--model", "\(dir.path)/nowhere", "--calibration", "\(dir.path)/urban.mcap"], "nowhere"),
            (["--model", "\(Self.demo)/moe-simple", "--calibration", "\(dir.path)/urban.mcap", "--method", "fancy"], "method"),
        ]
        // --out over the float model's own files is refused before anything is written.
        let (status, _, stderr) = try MoesegCLI.run(["quantize", "--model", "\(Self.demo)/moe-simple", "--calibration",
                                                     "\(dir.path)/urban.mcap", "--out", "\(Self.demo)/moe-simple"])
        #expect(status != 0 && stderr.split(separator: "\n").count == 1 && stderr.contains("holds the float model"), "\(stderr)")
        for (arguments, mention) in cases {
            let (status, _, stderr) = try MoesegCLI.run(["quantize"] + arguments + ["--out", out])
            let lines = stderr.split(separator: "\n")
            #expect(status != 0, "\(arguments) exited 0")
            #expect(lines.count == 1 && stderr.contains(mention), "\(arguments): \(stderr)")
        }
    }
}
