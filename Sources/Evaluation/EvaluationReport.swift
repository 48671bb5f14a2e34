import Foundation

/// The JSON object `moeseg eval` writes (docs/evaluation.md lists every key), from a state.
public enum EvaluationReport {
    /// The report as JSON-serialisable values; undefined quantities are NSNull.
    public static func object(_ state: EvaluationState) -> [String: Any] {
        func value(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        func list(_ xs: [Double?]) -> [Any] { xs.map(value) }
        func calibration(_ bins: CalibrationBins) -> [String: Any] {
            ["ece": value(bins.expectedCalibrationError), "mce": value(bins.maximumCalibrationError),
             "brier": value(bins.brier), "nll": value(bins.nll)]
        }
        func detection(_ m: DetectionMetrics?) -> Any {
            guard let m else { return NSNull() }
            return ["auroc": m.auroc, "aupr": m.aupr, "fpr_at_95_tpr": m.fprAt95TPR]
        }

        var object: [String: Any] = [:]
        let (iou, miou) = intersectionOverUnion(state)
        object["miou"] = value(miou)
        object["iou"] = list(iou)
        object["frames"] = ["id": state.idFrames, "ood": state.oodFrames]
        object["top_label"] = calibration(state.topLabel)

        var maps: [String: Any] = [:]
        var pixel: [String: Any] = [:]
        for (name, map) in state.maps {
            var entry = calibration(map.calibration)
            let c = map.conditional
            let (ac, ui, pv) = (c.accurateGivenCertain, c.uncertainGivenInaccurate, c.pavpu)
            entry["tau"] = ConditionalCounts.thresholds
            entry["p_accurate_certain"] = list(ac)
            entry["p_uncertain_inaccurate"] = list(ui)
            entry["pavpu"] = list(pv)
            entry["peak"] = ["p_accurate_certain": value(ac.compactMap { $0 }.max()),
                             "p_uncertain_inaccurate": value(ui.compactMap { $0 }.max()),
                             "pavpu": value(pv.compactMap { $0 }.max())]
            entry["au_pavpu"] = value(c.areaUnderPAvPU)
            maps[name] = entry
            if map.unknownPixels.hasBothClasses { pixel[name] = detection(map.unknownPixels.metrics) }
        }
        object["maps"] = maps
        var frame: [String: Any] = [:]
        for (name, lists) in state.frameScores where !lists.id.isEmpty && !lists.ood.isEmpty {
            frame[name] = detection(DetectionMetrics.of(positives: lists.ood, negatives: lists.id))
        }
        object["ood_frame"] = frame
        object["ood_pixel"] = pixel
        return object
    }

    /// IoU per class (nil when a class is in neither labels nor predictions) and their mean.
    public static func intersectionOverUnion(_ state: EvaluationState) -> ([Double?], Double?) {
        let n = state.classes
        var iou: [Double?] = []
        for c in 0..<n {
            let tp = state.confusion[c * n + c]
            var fp: UInt64 = 0, fn: UInt64 = 0
            for k in 0..<n where k != c {
                fp += state.confusion[k * n + c]
                fn += state.confusion[c * n + k]
            }
            let union = tp + fp + fn
            iou.append(union > 0 ? Double(tp) / Double(union) : nil)
        }
        let present = iou.compactMap { $0 }
        return (iou, present.isEmpty ? nil : present.reduce(0, +) / Double(present.count))
    }

    /// Pretty, key-sorted JSON text.
    public static func json(_ state: EvaluationState) throws -> Data {
        try JSONSerialization.data(withJSONObject: object(state), options: [.prettyPrinted, .sortedKeys])
    }
}
