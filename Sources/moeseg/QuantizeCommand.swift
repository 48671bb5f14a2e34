import ArgumentParser
import Engine
import Foundation

/// `moeseg quantize`: an int8 copy of a mixture (every expert and the gate) calibrated on frames of
/// real recordings, written as standard QDQ ONNX files with a moe.toml, and a report fp32 vs int8.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a mixture's experts and gate to int8 (QDQ ONNX) from recorded frames, and compare it with the float mixture.")

    @Option(name: .long, help: "The float model directory (moe.toml).")
    var model: String

    @Option(name: .long, help: "Recordings (MCAP, comma-separated) whose frames calibrate the ranges; later frames are held out for the report.")
    var calibration: String

    @Option(name: .long, help: "Output directory for the int8 model (created; files in it are replaced).")
    var out: String

    @Option(name: .long, help: "Calibration frames (spread over the recordings).")
    var frames: Int = 32

    @Option(name: .long, help: "Held-out frames for the report (taken between calibration frames, never used to calibrate).")
    var holdout: Int = 16

    @Option(name: .customLong("holdout-data"), help: "Recordings (comma-separated) to take the held-out frames from instead (e.g. fresh drives).")
    var holdoutData: String = ""

    @Option(name: .long, help: "Range from the calibration values: minmax, percentile (99.999 % of |x|) or entropy (KL).")
    var method: String = "minmax"

    @Option(name: .customLong("keep-float"), help: "Nodes to keep in float (comma-separated ONNX node names, e.g. /classifier/Conv).")
    var keepFloat: String = ""

    @Option(name: .long, help: "Out-of-distribution recordings (comma-separated): the report adds the frame AUROC of the MI score, fp32 vs int8.")
    var ood: String = ""

    @Option(name: .long, help: "Activation type: u8 (onnxruntime's default) or s8.")
    var activations: String = "u8"

    @Option(name: .customLong("min-agreement"), help: "Below this per-pixel agreement with the float mixture on held-out frames, the most damaged layers are kept float, one at a time.")
    var minAgreement: Double = 0.98

    @Option(name: .customLong("max-float-layers"), help: "Most layers the automatic step keeps in float.")
    var maxFloatLayers: Int = 4

    @Option(name: .long, help: "Threads per model while calibrating and evaluating.")
    var threads: Int = 2

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        try reportingErrors {
            // Checked here rather than in validate(), so a bad option is one line like any other bad input.
            guard frames >= 1, holdout >= 1 else { throw fail("--frames and --holdout must be at least 1") }
            guard let method = CalibrationMethod(rawValue: method) else { throw fail("--method must be minmax, percentile or entropy, not \(self.method)") }
            guard ["u8", "s8"].contains(activations) else { throw fail("--activations must be u8 or s8") }
            guard (0...1).contains(minAgreement) else { throw fail("--min-agreement must be in 0...1") }
            guard threads >= 1, maxFloatLayers >= 0 else { throw fail("--threads must be at least 1 and --max-float-layers not negative") }
            let request = MixtureQuantization.Request(
                directory: model, calibration: list(calibration), holdoutData: list(holdoutData), out: out, frames: frames, holdout: holdout,
                method: method, keepFloat: Set(list(keepFloat)), ood: list(ood),
                signedActivations: activations == "s8", minAgreement: minAgreement, maxFloatLayers: maxFloatLayers,
                threads: threads, json: json)
            try MixtureQuantization.run(request)
        }
    }
}
