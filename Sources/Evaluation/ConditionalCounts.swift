/// Mukhoti & Gal's conditional metrics over w×w patches, streamed as four counts per
/// threshold τ = 0.01, 0.03, …, 0.99 (docs/evaluation.md).
public struct ConditionalCounts: Codable, Sendable, Equatable {
    /// The 50 thresholds.
    public static let thresholds: [Double] = (0..<50).map { 0.01 + 0.02 * Double($0) }
    /// Patch side in pixels.
    public static let patch = 4
    /// A patch is accurate when this share of its valid pixels is right.
    public static let accurateShare = 0.5

    /// Per threshold: accurate-certain, accurate-uncertain, inaccurate-certain, inaccurate-uncertain.
    public private(set) var ac = [UInt64](repeating: 0, count: 50)
    public private(set) var au = [UInt64](repeating: 0, count: 50)
    public private(set) var ic = [UInt64](repeating: 0, count: 50)
    public private(set) var iu = [UInt64](repeating: 0, count: 50)

    public init() {}

    /// Adds one patch: whether it is accurate and its mean uncertainty over valid pixels.
    @inline(__always)
    public mutating func add(accurate: Bool, meanUncertainty: Double) {
        for (t, tau) in Self.thresholds.enumerated() {
            let uncertain = meanUncertainty >= tau
            switch (accurate, uncertain) {
            case (true, false): ac[t] += 1
            case (true, true): au[t] += 1
            case (false, false): ic[t] += 1
            case (false, true): iu[t] += 1
            }
        }
    }

    public mutating func merge(_ other: ConditionalCounts) {
        for t in 0..<50 {
            ac[t] += other.ac[t]; au[t] += other.au[t]; ic[t] += other.ic[t]; iu[t] += other.iu[t]
        }
    }

    /// p(accurate | certain) per threshold, nil where no patch is certain.
    public var accurateGivenCertain: [Double?] {
        (0..<50).map { t -> Double? in Self.ratio(ac[t], ac[t] + ic[t]) }
    }

    /// p(uncertain | inaccurate) per threshold, nil where no patch is inaccurate.
    public var uncertainGivenInaccurate: [Double?] {
        (0..<50).map { t -> Double? in Self.ratio(iu[t], ic[t] + iu[t]) }
    }

    /// PAvPU per threshold, nil without patches.
    public var pavpu: [Double?] {
        (0..<50).map { t -> Double? in
            let all: UInt64 = ac[t] + au[t] + ic[t] + iu[t]
            return Self.ratio(ac[t] + iu[t], all)
        }
    }

    private static func ratio(_ part: UInt64, _ whole: UInt64) -> Double? {
        whole > 0 ? Double(part) / Double(whole) : nil
    }

    /// Trapezoid of PAvPU over τ divided by the τ span (0.98); nil if any value is undefined.
    public var areaUnderPAvPU: Double? {
        let values = pavpu
        guard values.allSatisfy({ $0 != nil }) else { return nil }
        var area = 0.0
        for t in 1..<50 {
            area += (values[t]! + values[t - 1]!) / 2 * (Self.thresholds[t] - Self.thresholds[t - 1])
        }
        return area / 0.98
    }
}
