/// Detection quality of a score (higher = more likely positive): AUROC with ties counted
/// half, AUPR as average precision over distinct thresholds, and the FPR at the first
/// threshold reaching 95 % TPR (docs/evaluation.md).
public struct DetectionMetrics: Codable, Sendable, Equatable {
    public var auroc: Double
    public var aupr: Double
    public var fprAt95TPR: Double

    /// From score counts grouped by distinct value, in descending score order: (positives, negatives).
    static func fromDescendingGroups(_ groups: [(positives: UInt64, negatives: UInt64)]) -> DetectionMetrics? {
        let p = groups.reduce(0) { $0 + $1.positives }, n = groups.reduce(0) { $0 + $1.negatives }
        guard p > 0, n > 0 else { return nil }
        var tp: UInt64 = 0, fp: UInt64 = 0
        var auc = 0.0, ap = 0.0
        var fpr95: Double?
        for group in groups {
            // Negatives below this group rank under its positives; ties count half.
            let negativesBelow = n - fp - group.negatives
            auc += Double(group.positives) * (Double(negativesBelow) + 0.5 * Double(group.negatives))
            let recallBefore = Double(tp) / Double(p)
            tp += group.positives
            fp += group.negatives
            let recall = Double(tp) / Double(p)
            if tp + fp > 0 { ap += (recall - recallBefore) * Double(tp) / Double(tp + fp) }
            if fpr95 == nil, recall >= 0.95 { fpr95 = Double(fp) / Double(n) }
        }
        return DetectionMetrics(auroc: auc / (Double(p) * Double(n)), aupr: ap, fprAt95TPR: fpr95 ?? 1)
    }

    /// Exact metrics of two score lists (frame-level scores: a few per frame).
    public static func of(positives: [Double], negatives: [Double]) -> DetectionMetrics? {
        var all = positives.map { ($0, true) } + negatives.map { ($0, false) }
        all.sort { $0.0 > $1.0 }
        var groups: [(positives: UInt64, negatives: UInt64)] = []
        var i = 0
        while i < all.count {
            var j = i
            var group: (positives: UInt64, negatives: UInt64) = (0, 0)
            while j < all.count, all[j].0 == all[i].0 {
                if all[j].1 { group.positives += 1 } else { group.negatives += 1 }
                j += 1
            }
            groups.append(group)
            i = j
        }
        return fromDescendingGroups(groups)
    }
}

/// Pixel scores in [0, 1] quantised to 65536 levels (v → min(65535, ⌊v·65536⌋)), positives and
/// negatives counted per level, so pixel-level OOD metrics stream in fixed memory.
public struct ScoreHistogram: Codable, Sendable, Equatable {
    public static let levels = 65536
    public private(set) var positives: [UInt64]
    public private(set) var negatives: [UInt64]

    public init() {
        positives = [UInt64](repeating: 0, count: Self.levels)
        negatives = [UInt64](repeating: 0, count: Self.levels)
    }

    @inline(__always)
    public static func level(_ value: Float) -> Int {
        guard value.isFinite else { return value > 0 ? levels - 1 : 0 }
        return min(levels - 1, max(0, Int((Double(value) * Double(levels)).rounded(.down))))
    }

    @inline(__always)
    public mutating func add(_ value: Float, positive: Bool) {
        let l = Self.level(value)
        if positive { positives[l] += 1 } else { negatives[l] += 1 }
    }

    public mutating func merge(_ other: ScoreHistogram) {
        for l in 0..<Self.levels {
            positives[l] += other.positives[l]
            negatives[l] += other.negatives[l]
        }
    }

    public var hasBothClasses: Bool { positives.contains { $0 > 0 } && negatives.contains { $0 > 0 } }

    /// The metrics with each quantisation level as one tied score.
    public var metrics: DetectionMetrics? {
        var groups: [(positives: UInt64, negatives: UInt64)] = []
        for l in stride(from: Self.levels - 1, through: 0, by: -1) where positives[l] + negatives[l] > 0 {
            groups.append((positives[l], negatives[l]))
        }
        return DetectionMetrics.fromDescendingGroups(groups)
    }
}
