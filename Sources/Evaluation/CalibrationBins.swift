/// Reliability statistics of (confidence, correct) pairs, streamed: 15 equal-width bins
/// (lo, hi] with the first closed at 0, plus Brier and NLL sums (docs/evaluation.md).
public struct CalibrationBins: Codable, Sendable, Equatable {
    public static let binCount = 15
    /// Pixels per bin.
    public private(set) var counts = [UInt64](repeating: 0, count: binCount)
    /// Sum of the confidences in each bin.
    public private(set) var confidenceSums = [Double](repeating: 0, count: binCount)
    /// Correct pixels in each bin.
    public private(set) var correctCounts = [UInt64](repeating: 0, count: binCount)
    public private(set) var brierSum = 0.0
    public private(set) var nllSum = 0.0
    public private(set) var total: UInt64 = 0

    public init() {}

    /// The bin of a confidence in [0, 1]: b with conf in (b/15, (b+1)/15], 0 for conf = 0.
    @inline(__always)
    public static func bin(_ confidence: Double) -> Int {
        let b = Int((confidence * Double(binCount)).rounded(.up)) - 1
        return min(max(b, 0), binCount - 1)
    }

    /// Adds one pixel with its own Brier and NLL terms.
    @inline(__always)
    public mutating func add(confidence: Double, correct: Bool, brier: Double, nll: Double) {
        let b = Self.bin(confidence)
        counts[b] += 1
        confidenceSums[b] += confidence
        if correct { correctCounts[b] += 1 }
        brierSum += brier
        nllSum += nll
        total += 1
    }

    /// Adds another accumulator's pixels (partial states of separate processes).
    public mutating func merge(_ other: CalibrationBins) {
        for b in 0..<Self.binCount {
            counts[b] += other.counts[b]
            confidenceSums[b] += other.confidenceSums[b]
            correctCounts[b] += other.correctCounts[b]
        }
        brierSum += other.brierSum
        nllSum += other.nllSum
        total += other.total
    }

    /// ECE = Σ_b (n_b/N)|acc_b − conf_b|; nil without pixels.
    public var expectedCalibrationError: Double? {
        guard total > 0 else { return nil }
        var sum = 0.0
        for b in 0..<Self.binCount where counts[b] > 0 {
            let n = Double(counts[b])
            sum += n / Double(total) * abs(Double(correctCounts[b]) / n - confidenceSums[b] / n)
        }
        return sum
    }

    /// MCE = max over non-empty bins of |acc_b − conf_b|; nil without pixels.
    public var maximumCalibrationError: Double? {
        guard total > 0 else { return nil }
        var worst = 0.0
        for b in 0..<Self.binCount where counts[b] > 0 {
            let n = Double(counts[b])
            worst = max(worst, abs(Double(correctCounts[b]) / n - confidenceSums[b] / n))
        }
        return worst
    }

    public var brier: Double? { total > 0 ? brierSum / Double(total) : nil }
    public var nll: Double? { total > 0 ? nllSum / Double(total) : nil }
}
