import Foundation

/// Adds one evaluated frame to an `EvaluationState`: the mixture's class probabilities
/// (C×H×W), the labels at the same size (ids ≥ classes are ignored, 254 marks unknown
/// objects), the uncertainty maps in [0, 1] and the frame's OOD scores.
public struct FrameEvaluator {
    public let width: Int
    public let height: Int
    public let classes: Int
    private var predictions: [Int32]

    public init(width: Int, height: Int, classes: Int) {
        self.width = width
        self.height = height
        self.classes = classes
        predictions = [Int32](repeating: 0, count: width * height)
    }

    /// Accumulates one frame; `isOOD` frames only feed the OOD metrics.
    public mutating func add(to state: inout EvaluationState, probabilities: UnsafeBufferPointer<Float>,
                             labels: [UInt8], maps: [(name: String, values: UnsafeBufferPointer<Float>)],
                             scores: [String: Double], isOOD: Bool) {
        let pixels = width * height
        precondition(probabilities.count >= classes * pixels && labels.count == pixels, "frame sizes disagree")
        for (name, score) in scores {
            if isOOD { state.frameScores[name, default: .init()].ood.append(score) }
            else { state.frameScores[name, default: .init()].id.append(score) }
        }
        if isOOD { state.oodFrames += 1 } else { state.idFrames += 1 }

        // Argmax (first maximum) and the top-label statistics.
        for i in 0..<pixels {
            var best = 0
            var bestP = probabilities[i]
            for c in 1..<classes where probabilities[c * pixels + i] > bestP {
                best = c
                bestP = probabilities[c * pixels + i]
            }
            predictions[i] = Int32(best)
            let label = Int(labels[i])
            guard !isOOD, label < classes else { continue }
            state.addConfusion(label: label, prediction: best)
            var brier = 0.0
            for c in 0..<classes {
                let p = Double(probabilities[c * pixels + i])
                let d = c == label ? p - 1 : p
                brier += d * d
            }
            let pLabel = Double(probabilities[label * pixels + i])
            let nll = -log(max(pLabel, Double(Float.leastNonzeroMagnitude)))
            state.topLabel.add(confidence: Double(bestP), correct: best == label, brier: brier, nll: nll)
        }

        for (name, values) in maps {
            precondition(values.count == pixels, "map \(name) has \(values.count) values for \(pixels) pixels")
            var mapState = state.maps[name] ?? EvaluationState.MapState()
            for i in 0..<pixels {
                let label = labels[i]
                if label == EvaluationState.unknownObject { mapState.unknownPixels.add(values[i], positive: true); continue }
                guard Int(label) < classes else { continue }
                mapState.unknownPixels.add(values[i], positive: false)
                guard !isOOD else { continue }
                let correct = Int(predictions[i]) == Int(label)
                let confidence = 1 - Double(values[i])
                let a = correct ? 1.0 : 0.0
                let clipped = min(max(confidence, 1e-7), 1 - 1e-7)
                let nll = -(a * log(clipped) + (1 - a) * log(1 - clipped))
                mapState.calibration.add(confidence: min(max(confidence, 0), 1), correct: correct,
                                         brier: (confidence - a) * (confidence - a), nll: nll)
            }
            if !isOOD { addPatches(values: values, labels: labels, into: &mapState.conditional) }
            state.maps[name] = mapState
        }
    }

    /// 4×4 patches tiling the frame from the top-left; partial edge patches are dropped, and
    /// only valid pixels count (a patch without any is skipped).
    private func addPatches(values: UnsafeBufferPointer<Float>, labels: [UInt8], into counts: inout ConditionalCounts) {
        let w = ConditionalCounts.patch
        for py in 0..<(height / w) {
            for px in 0..<(width / w) {
                var valid = 0, correct = 0
                var sum = 0.0
                for y in py * w..<(py + 1) * w {
                    for x in px * w..<(px + 1) * w {
                        let i = y * width + x
                        let label = Int(labels[i])
                        guard label < classes else { continue }
                        valid += 1
                        if Int(predictions[i]) == label { correct += 1 }
                        sum += Double(values[i])
                    }
                }
                guard valid > 0 else { continue }
                counts.add(accurate: Double(correct) / Double(valid) >= ConditionalCounts.accurateShare,
                           meanUncertainty: sum / Double(valid))
            }
        }
    }
}
