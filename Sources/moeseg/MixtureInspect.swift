import Foundation
import Mixture

/// `moeseg inspect MODEL_DIR`: what the mixture is made of, once validated.
enum MixtureInspect {
    static func describe(directory: String) throws -> String {
        let model = try MixtureModel.load(directory: directory)
        let m = model.manifest
        func gflop(_ flops: Int) -> String { String(format: "%.3f GFLOP", Double(flops) / 1e9) }
        var lines = ["model directory: \(directory)",
                     "id: \(m.id) \(m.version)\(m.description.map { " — \($0)" } ?? "")",
                     "kind: \(m.kind.rawValue)",
                     "input: \(m.input.width)x\(m.input.height) \(m.input.color.rawValue), x = (pixel × \(m.input.scale) − mean)/std, mean \(m.input.mean), std \(m.input.std)",
                     "classes (\(model.classes)): " + zip(m.classNames, m.classColors).map { "\($0) \($1)" }.joined(separator: ", ")]
        for (e, expert) in m.experts.enumerated() {
            let features = e < model.featureShapes.count ? ", features \(expert.features!) \(model.featureShapes[e])" : ""
            lines.append("expert \(e) \(expert.name): \(expert.file), logits \(expert.logits)\(features), \(gflop(model.expertFlops[e]))")
        }
        if let gate = m.gate {
            lines.append("gate: \(gate.kind.rawValue), \(gate.file), inputs \(gate.inputs) -> \(gate.output), \(gflop(model.gateFlops))")
        } else {
            lines.append("gate: none")
        }
        lines.append("combine: \(m.combineRule.rawValue)" + (m.combineConv.map { " + conv \($0) (\(gflop(model.combineFlops)))" } ?? ""))
        if let mc = m.mcDropout { lines.append("mc dropout: \(mc.passes) passes, rate \(mc.rate)") }
        let total = model.expertFlops.reduce(0, +) * (m.mcDropout?.passes ?? 1) + model.gateFlops + model.combineFlops
        lines.append(String(format: "parameters: %d (%.2f MB as float32); FLOPs per frame: %.3f G", model.parameterCount,
                            Double(model.parameterCount * 4) / 1_048_576, Double(total) / 1e9))
        lines.append("validation: OK")
        return lines.joined(separator: "\n")
    }
}
