/// Frame-score thresholds at a target false-positive rate on in-distribution frames.
public enum ThresholdFit {
    /// The smallest observed score t with at most ⌊rate·N⌋ of `inDistribution` strictly above
    /// it (the daemon flags a frame when score > threshold); nil without scores.
    public static func threshold(inDistribution scores: [Double], falsePositiveRate rate: Double) -> Double? {
        guard !scores.isEmpty else { return nil }
        let sorted = scores.sorted(by: >)
        let allowed = min(sorted.count - 1, max(0, Int((rate * Double(sorted.count)).rounded(.down))))
        return sorted[allowed]
    }

    /// Share of `scores` strictly above `threshold`.
    public static func rate(of scores: [Double], above threshold: Double) -> Double {
        guard !scores.isEmpty else { return 0 }
        return Double(scores.filter { $0 > threshold }.count) / Double(scores.count)
    }
}
