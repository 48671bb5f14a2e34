/// Segmentation and OOD metrics shared by `moeseg quantize`'s report and the tests: a confusion
/// matrix over classes and the frame AUROC of a score.
public struct ConfusionMatrix: Sendable {
    public let classes: Int
    /// counts[label * classes + prediction]
    public private(set) var counts: [Int]

    public init(classes: Int) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Adds one frame; label ids ≥ classes (unknown, ignore) are skipped.
    public mutating func add<P: Collection, L: Collection>(predictions: P, labels: L) where P.Element == UInt8, L.Element == UInt8 {
        for (p, l) in zip(predictions, labels) where Int(l) < classes && Int(p) < classes {
            counts[Int(l) * classes + Int(p)] += 1
        }
    }

    /// Mean over the classes present in labels or predictions of TP / (TP + FP + FN).
    public var meanIoU: Double {
        var total = 0.0, counted = 0
        for c in 0..<classes {
            let tp = counts[c * classes + c]
            let fn = (0..<classes).reduce(0) { $0 + counts[c * classes + $1] } - tp
            let fp = (0..<classes).reduce(0) { $0 + counts[$1 * classes + c] } - tp
            guard tp + fp + fn > 0 else { continue }
            total += Double(tp) / Double(tp + fp + fn)
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }
}

/// Probability that a positive's score exceeds a negative's (ties count half); nil without both.
public func frameAUROC(positives: [Double], negatives: [Double]) -> Double? {
    guard !positives.isEmpty, !negatives.isEmpty else { return nil }
    var wins = 0.0
    for p in positives { for n in negatives { wins += p > n ? 1 : (p == n ? 0.5 : 0) } }
    return wins / Double(positives.count * negatives.count)
}
