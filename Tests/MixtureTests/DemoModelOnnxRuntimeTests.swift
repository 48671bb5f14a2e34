import Foundation
import Testing

/// Issue 4, acceptance 1: the committed models/demo/ loads in onnxruntime, and one frame's
/// mixture output, computed from its ONNX files as docs/model-format.md defines it, is sane
/// (tools/check_demo_model.py does the numpy work; no torch needed).
@Suite struct DemoModelOnnxRuntimeTests {
    /// Runs tools/<script> with the project's Python; (exit status, stdout, stderr).
    private func runTool(_ script: String, _ arguments: [String]) throws -> (Int32, Data, String) {
        let python = try PythonReference.python()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [PythonReference.packageRoot.appendingPathComponent("tools/\(script)").path] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    @Test func committedDemoModelGivesSaneOutputsInOnnxRuntime() throws {
        let models = PythonReference.packageRoot.appendingPathComponent("models/demo").path
        let (status, stdout, stderr) = try runTool("check_demo_model.py", [models])
        #expect(status == 0, "check_demo_model.py failed:\n\(stderr)")

        let report = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any],
                                  "no JSON report: \(stderr)")
        let failures = report["failures"] as? [String] ?? ["missing failures list"]
        #expect(failures.isEmpty, "\(failures)")
        // Ensemble, MC-dropout baseline and four gate variants, each on a highway and an urban frame.
        #expect((report["variants"] as? Int ?? 0) >= 6)
        let frames = try #require(report["frames"] as? [String: [String: Any]])
        #expect(frames.count >= 12)
        let mixtures = frames.filter { ($0.value["kind"] as? String) == "mixture" }
        #expect(mixtures.count >= 8)
        for (tag, entry) in mixtures {
            let gate = try #require(entry["gate_mean"] as? [Double], "\(tag): no gate weights")
            #expect(abs(gate.reduce(0, +) - 1) < 1e-4, "\(tag): mean gate weights \(gate)")
        }
    }

    /// The manifest validator (docs/model-format.md "Validation") rejects each hand-broken manifest.
    @Test func manifestValidatorRejectsBrokenManifests() throws {
        let (status, stdout, stderr) = try runTool("test_validate_moe.py", [])
        #expect(status == 0, "test_validate_moe.py failed:\n\(String(decoding: stdout, as: UTF8.self))\(stderr)")
        #expect(String(decoding: stdout, as: UTF8.self).contains("all validate_moe checks passed"))
    }
}
