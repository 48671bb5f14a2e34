/// One frame's OOD scores (UNCERTAINTY.md §4); nil when the score was not computed.
public struct FrameScores: Sendable, Equatable {
    /// Gate entropy H(g)/ln E (classwise gates: the frame mean of the map).
    public var gateEntropy: Float?
    /// Mean of the MI map.
    public var meanMutualInformation: Float?
    /// Fraction of pixels whose MI exceeds the pixel threshold.
    public var uncertainPixelFraction: Float?
    /// Mean of the routing MI map.
    public var routingMutualInformation: Float?

    public init(gateEntropy: Float? = nil, meanMutualInformation: Float? = nil,
                uncertainPixelFraction: Float? = nil, routingMutualInformation: Float? = nil) {
        self.gateEntropy = gateEntropy
        self.meanMutualInformation = meanMutualInformation
        self.uncertainPixelFraction = uncertainPixelFraction
        self.routingMutualInformation = routingMutualInformation
    }

    /// The score of one kind.
    public subscript(score: OODScore) -> Float? {
        switch score {
        case .gateEntropy: return gateEntropy
        case .meanMutualInformation: return meanMutualInformation
        case .uncertainPixelFraction: return uncertainPixelFraction
        case .routingMutualInformation: return routingMutualInformation
        }
    }

    /// Mean of a map, accumulated in float64.
    public static func mean(_ map: UnsafeBufferPointer<Float>) -> Float {
        guard !map.isEmpty else { return 0 }
        var total = 0.0
        for value in map { total += Double(value) }
        return Float(total / Double(map.count))
    }

    /// Fraction of values strictly above `threshold`.
    public static func fraction(_ map: UnsafeBufferPointer<Float>, above threshold: Float) -> Float {
        guard !map.isEmpty else { return 0 }
        var count = 0
        for value in map where value > threshold { count += 1 }
        return Float(Double(count) / Double(map.count))
    }
}

/// The kinds of frame score the OOD monitor can threshold.
public enum OODScore: String, Sendable, CaseIterable {
    case gateEntropy
    case meanMutualInformation
    case uncertainPixelFraction
    case routingMutualInformation
}
