import Foundation
import NumPyIO
import Testing

/// The committed demo model's deterministic variants (every models/demo/*/moe.toml without
/// [mc_dropout]) on a real test frame, against the same onnxruntime + numpy reference as the
/// random mixtures (tools/reference/random_mixtures.py --reference).
@Suite("Demo model against the onnxruntime + numpy reference", .serialized)
struct DemoModelReferenceTests {
    static let demo = PythonReference.packageRoot.appendingPathComponent("models/demo")

    static func variants() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: demo.path).sorted()
        return names.map { demo.appendingPathComponent($0) }.filter { directory in
            guard let text = try? String(contentsOf: directory.appendingPathComponent("moe.toml"), encoding: .utf8) else { return false }
            return !text.contains("[mc_dropout]")
        }
    }

    /// Normalises the committed highway test frame with the manifest's scale/mean/std into NCHW float32.
    static func makeInput(for directory: URL, at path: URL) throws {
        let program = """
        import sys, tomllib, numpy as np
        m = tomllib.load(open(sys.argv[1], "rb"))["input"]
        image = np.load(sys.argv[2])["image"].astype(np.float64)
        if m["color"] == "bgr": image = image[..., ::-1]
        x = (image * m["scale"] - np.array(m["mean"])) / np.array(m["std"])
        np.save(sys.argv[3], x.transpose(2, 0, 1)[None].astype(np.float32))
        """
        let (status, _, stderr) = try runProcess(try PythonReference.python(), [
            "-c", program, directory.appendingPathComponent("moe.toml").path,
            demo.appendingPathComponent("testdata/highway.npz").path, path.path,
        ])
        guard status == 0 else { throw ReferenceError(description: "making the demo input failed: \(stderr)") }
    }

    @Test func demoVariantsMatchReference() throws {
        let variants = try Self.variants()
        #expect(variants.count >= 5, "expected the ensemble and four MoE variants, found \(variants.map(\.lastPathComponent))")
        let script = PythonReference.packageRoot.appendingPathComponent("tools/reference/random_mixtures.py").path
        var worst: Float = 0
        for directory in variants {
            let name = directory.lastPathComponent
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-demo-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: work) }
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let input = work.appendingPathComponent("input.npy")
            try Self.makeInput(for: directory, at: input)
            let reference = work.appendingPathComponent("reference"), output = work.appendingPathComponent("out")
            let hasGate = try String(contentsOf: directory.appendingPathComponent("moe.toml"), encoding: .utf8).contains("[gate]")
            let samples = hasGate ? 4 : 0
            let (refStatus, _, refErr) = try runProcess(try PythonReference.python(), [
                script, "--reference", directory.path, input.path, reference.path,
                "--routing-samples", "\(samples)", "--temperature", "0.5", "--seed", "3",
            ])
            #expect(refStatus == 0, "\(name): reference failed: \(refErr)")
            let (status, _, stderr) = try MoesegCLI.run([
                "infer", "--model", directory.path, "--input", input.path, "--output-dir", output.path,
                "--routing-samples", "\(samples)", "--temperature", "0.5", "--seed", "3",
            ])
            #expect(status == 0, "\(name): moeseg infer failed: \(stderr)")
            guard refStatus == 0, status == 0 else { continue }
            worst = max(worst, try expectOutputsMatch(output, reference, case: "demo/\(name)"))
        }
        print("demo model: largest map difference vs numpy \(worst)")
    }

    /// The MC-dropout baseline end to end: `moeseg infer` writes the masks it drew; they keep
    /// about 1 − rate of the units and differ between passes; onnxruntime run with those masks
    /// and numpy's sample-set maps reproduce every pass's logits and every map.
    @Test func mcDropoutMatchesReference() throws {
        let directory = Self.demo.appendingPathComponent("baseline-mc")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-mc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let input = work.appendingPathComponent("input.npy")
        try Self.makeInput(for: directory, at: input)
        let output = work.appendingPathComponent("out"), reference = work.appendingPathComponent("reference")
        let (status, _, stderr) = try MoesegCLI.run(["infer", "--model", directory.path, "--input", input.path,
                                                     "--output-dir", output.path, "--seed", "3"])
        try #require(status == 0, "moeseg infer failed: \(stderr)")
        let manifest = try String(contentsOf: directory.appendingPathComponent("moe.toml"), encoding: .utf8)
        #expect(manifest.contains("passes = 8") && manifest.contains("rate = 0.1"))
        var masks: [[Float]] = []
        for pass in 0..<8 {
            let mask = try NumPyArray(contentsOf: output.appendingPathComponent("dropout_mask_\(pass).npy")).values
            #expect(mask.allSatisfy { $0 == 0 || $0 == 1 })
            let kept = Double(mask.reduce(0, +)) / Double(mask.count)
            #expect(abs(kept - 0.9) < 0.005, "pass \(pass) keeps \(kept)")
            masks.append(mask)
        }
        #expect(Set(masks.map { $0.hashValue }).count == 8, "passes share a mask")
        let (refStatus, _, refErr) = try runProcess(try PythonReference.python(), [
            PythonReference.packageRoot.appendingPathComponent("tools/reference/random_mixtures.py").path,
            "--reference", directory.path, input.path, reference.path, "--masks", output.path,
        ])
        try #require(refStatus == 0, "reference failed: \(refErr)")
        let worst = try expectOutputsMatch(output, reference, case: "demo/baseline-mc")
        print("MC dropout: largest map difference vs numpy \(worst)")
    }
}
