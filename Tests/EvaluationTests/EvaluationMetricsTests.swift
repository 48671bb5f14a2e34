import Foundation
import Testing
@testable import Evaluation

/// The metric building blocks on cases small enough to check by hand.
@Suite("Evaluation metrics")
struct EvaluationMetricsTests {
    @Test func binsAreHalfOpenFromBelowWithZeroInTheFirst() {
        #expect(CalibrationBins.bin(0) == 0)
        #expect(CalibrationBins.bin(1.0 / 15) == 0)
        #expect(CalibrationBins.bin(1.0 / 15 + 1e-9) == 1)
        #expect(CalibrationBins.bin(0.5) == 7)
        #expect(CalibrationBins.bin(1) == 14)
        var bins = CalibrationBins()
        bins.add(confidence: 0.9, correct: true, brier: 0.01, nll: 0.1)
        bins.add(confidence: 0.9, correct: false, brier: 0.81, nll: 2.3)
        // One bin holding both: accuracy 0.5 against confidence 0.9.
        #expect(abs(bins.expectedCalibrationError! - 0.4) < 1e-12)
        #expect(abs(bins.maximumCalibrationError! - 0.4) < 1e-12)
        #expect(abs(bins.brier! - 0.41) < 1e-12 && abs(bins.nll! - 1.2) < 1e-12)
        #expect(CalibrationBins().expectedCalibrationError == nil)
    }

    @Test func detectionCountsTiesHalf() throws {
        let perfect = try #require(DetectionMetrics.of(positives: [0.9, 0.8], negatives: [0.1, 0.2, 0.3]))
        #expect(perfect.auroc == 1 && perfect.aupr == 1 && perfect.fprAt95TPR == 0)
        let tied = try #require(DetectionMetrics.of(positives: [0.5, 0.5], negatives: [0.5, 0.5]))
        #expect(tied.auroc == 0.5 && tied.fprAt95TPR == 1)
        let mixed = try #require(DetectionMetrics.of(positives: [0.9, 0.4], negatives: [0.5, 0.1]))
        #expect(abs(mixed.auroc - 0.75) < 1e-12)
        // AP: threshold 0.9 gives recall 1/2 at precision 1, 0.4 recall 1 at precision 2/3.
        #expect(abs(mixed.aupr - (0.5 + 0.5 * 2 / 3)) < 1e-12)
        #expect(DetectionMetrics.of(positives: [], negatives: [1]) == nil)
        var histogram = ScoreHistogram()
        for v: Float in [0.9, 0.4] { histogram.add(v, positive: true) }
        for v: Float in [0.5, 0.1] { histogram.add(v, positive: false) }
        #expect(histogram.metrics == mixed)
    }

    @Test func conditionalMetricsAreUndefinedWithoutPatches() {
        var counts = ConditionalCounts()
        #expect(counts.pavpu.allSatisfy { $0 == nil } && counts.areaUnderPAvPU == nil)
        counts.add(accurate: true, meanUncertainty: 0.2)
        counts.add(accurate: false, meanUncertainty: 0.6)
        // τ ≤ 0.2: both uncertain; 0.2 < τ ≤ 0.6: the accurate one certain; above: both certain.
        #expect(counts.pavpu[0] == 0.5 && counts.pavpu[10] == 1 && counts.pavpu[49] == 0.5)
        #expect(counts.accurateGivenCertain[0] == nil && counts.accurateGivenCertain[49] == 0.5)
        #expect(counts.uncertainGivenInaccurate[0] == 1 && counts.uncertainGivenInaccurate[49] == 0)
    }

    /// Frames evaluated in one state or split over two and merged give the same report.
    @Test func partialStatesMerge() throws {
        let (w, h, c) = (16, 8, 3)
        var rng = SystemRandomNumberGenerator()
        var frames: [([Float], [UInt8], [Float], Bool)] = []
        for f in 0..<6 {
            var probs = [Float](repeating: 0, count: c * w * h)
            for i in 0..<(w * h) {
                let raw = (0..<c).map { _ in Float.random(in: 0.01...1, using: &rng) }
                let sum = raw.reduce(0, +)
                for k in 0..<c { probs[k * w * h + i] = raw[k] / sum }
            }
            let labels = (0..<(w * h)).map { _ in [0, 1, 2, 254, 255].randomElement(using: &rng)! }.map(UInt8.init)
            let map = (0..<(w * h)).map { _ in Float.random(in: 0...1, using: &rng) }
            frames.append((probs, labels, map, f >= 4))
        }
        func evaluate(_ range: Range<Int>) -> EvaluationState {
            var state = EvaluationState(classes: c)
            var evaluator = FrameEvaluator(width: w, height: h, classes: c)
            for f in range {
                let (probs, labels, map, ood) = frames[f]
                probs.withUnsafeBufferPointer { p in
                    map.withUnsafeBufferPointer { m in
                        evaluator.add(to: &state, probabilities: p, labels: labels, maps: [("pe", m)],
                                      scores: ["mean_mi": Double(f)], isOOD: ood)
                    }
                }
            }
            return state
        }
        let whole = evaluate(0..<6)
        var parts = evaluate(0..<3)
        try parts.merge(evaluate(3..<6))
        #expect(parts.confusion == whole.confusion && parts.idFrames == 4 && parts.oodFrames == 2)
        #expect(parts.maps["pe"]?.conditional == whole.maps["pe"]?.conditional)
        #expect(parts.maps["pe"]?.unknownPixels == whole.maps["pe"]?.unknownPixels)
        let a = try JSONSerialization.jsonObject(with: EvaluationReport.json(whole)) as! [String: Any]
        let b = try JSONSerialization.jsonObject(with: EvaluationReport.json(parts)) as! [String: Any]
        #expect(abs((a["miou"] as! Double) - (b["miou"] as! Double)) < 1e-12)
        let ta = a["top_label"] as! [String: Double], tb = b["top_label"] as! [String: Double]
        for key in ["ece", "mce", "brier", "nll"] { #expect(abs(ta[key]! - tb[key]!) < 1e-12, "\(key)") }
        var wrong = EvaluationState(classes: c + 1)
        #expect(throws: (any Error).self) { try wrong.merge(whole) }
    }
}

@Suite("Threshold fit")
struct ThresholdFitTests {
    @Test func thresholdLetsAtMostTheTargetShareAbove() throws {
        let scores = (1...200).map(Double.init)
        for rate in [0.0, 0.01, 0.05, 0.5] {
            let t = try #require(ThresholdFit.threshold(inDistribution: scores, falsePositiveRate: rate))
            #expect(ThresholdFit.rate(of: scores, above: t) <= rate)
            #expect(ThresholdFit.rate(of: scores, above: t) > rate - 1.0 / 200 - 1e-12)
        }
        // Ties: the flagged share may fall below the target, never above it.
        let tied = [Double](repeating: 1, count: 50) + [2, 3]
        let t = try #require(ThresholdFit.threshold(inDistribution: tied, falsePositiveRate: 0.1))
        #expect(ThresholdFit.rate(of: tied, above: t) <= 0.1)
        #expect(ThresholdFit.threshold(inDistribution: [], falsePositiveRate: 0.1) == nil)
    }
}
