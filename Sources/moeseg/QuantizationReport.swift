import Engine
import Foundation

extension MixtureQuantization {
    /// What `moeseg quantize` prints: the files, the layers kept float and why, fp32 vs int8.
    struct Report {
        let request: Request
        let calibrationFrames: Int, heldOutFrames: Int, oodFrames: Int
        let summaries: [QuantizedModelSummary]
        let decisions: [String]
        let comparison: Comparison
        let seconds: Double

        private func fmt(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }

        var text: String {
            let c = comparison
            var lines = ["quantized \(request.directory) -> \(request.out) (\(request.method.rawValue), \(request.signedActivations ? "s8" : "u8") activations, per-channel s8 weights; \(calibrationFrames) calibration frames, \(heldOutFrames) held out\(oodFrames > 0 ? ", \(oodFrames) OOD" : ""); \(String(format: "%.1f", seconds)) s)"]
            for s in summaries {
                lines.append("  \(URL(fileURLWithPath: s.path).lastPathComponent): \(s.quantizedConvolutions) int8 convolutions, \(s.quantizedTensors) quantized tensors, \(s.bytes / 1024) KiB" + (s.keptFloat.isEmpty ? "" : "; float: \(s.keptFloat.joined(separator: ", "))"))
            }
            lines.append(decisions.isEmpty ? "  layers kept float: none needed (prediction agreement above \(fmt(request.minAgreement * 100, 1)) %)" : "  layers kept float:")
            lines += decisions.map { "    \($0)" }
            lines.append("fp32 vs int8 on the held-out frames:")
            lines.append("  prediction agreement  \(fmt(c.agreement * 100, 2)) %")
            lines.append("  mIoU                  fp32 \(fmt(c.miouFloat))  int8 \(fmt(c.miouInt8))" + (c.miouFloat == nil ? " (the recordings have no labels)" : ""))
            lines.append("  mean |delta MI|       \(String(format: "%.5f", c.meanAbsDeltaMI)) (principal MI map, normalised to [0, 1])")
            lines.append("  MI frame AUROC        fp32 \(fmt(c.aurocFloat, 3))  int8 \(fmt(c.aurocInt8, 3))" + (c.aurocFloat == nil ? " (give --ood recordings)" : ""))
            lines.append("  frame time (median)   fp32 \(fmt(c.msFloat, 2)) ms  int8 \(fmt(c.msInt8, 2)) ms  ratio \(fmt(c.msInt8 / max(c.msFloat, 1e-9), 2)) (same run, frames alternating)")
            return lines.joined(separator: "\n")
        }

        var json: String {
            let c = comparison
            let object: [String: Any] = [
                "model": request.directory, "out": request.out, "method": request.method.rawValue,
                "activations": request.signedActivations ? "s8" : "u8",
                "frames": ["calibration": calibrationFrames, "held_out": heldOutFrames, "ood": oodFrames],
                "files": summaries.map { ["file": $0.path, "int8_convolutions": $0.quantizedConvolutions, "quantized_tensors": $0.quantizedTensors,
                                          "kept_float": $0.keptFloat, "bytes": $0.bytes] as [String: Any] },
                "kept_float": decisions,
                "agreement": c.agreement, "miou_fp32": c.miouFloat as Any, "miou_int8": c.miouInt8 as Any,
                "mean_abs_delta_mi": c.meanAbsDeltaMI, "mi_auroc_fp32": c.aurocFloat as Any, "mi_auroc_int8": c.aurocInt8 as Any,
                "frame_ms_fp32": c.msFloat, "frame_ms_int8": c.msInt8, "seconds": seconds,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
