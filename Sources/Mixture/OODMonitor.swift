/// Thresholds of the per-frame OOD verdict; nil disables a score.
public struct OODThresholds: Sendable, Equatable {
    public var gateEntropy: Float?
    public var meanMutualInformation: Float?
    public var uncertainPixelFraction: Float?
    public var routingMutualInformation: Float?
    /// The per-pixel MI level behind `uncertainPixelFraction` (carried for the message).
    public var pixelMutualInformation: Float

    public init(gateEntropy: Float? = nil, meanMutualInformation: Float? = nil,
                uncertainPixelFraction: Float? = nil, routingMutualInformation: Float? = nil,
                pixelMutualInformation: Float = 0.5) {
        self.gateEntropy = gateEntropy
        self.meanMutualInformation = meanMutualInformation
        self.uncertainPixelFraction = uncertainPixelFraction
        self.routingMutualInformation = routingMutualInformation
        self.pixelMutualInformation = pixelMutualInformation
    }

    /// The threshold of one kind of score.
    public subscript(score: OODScore) -> Float? {
        switch score {
        case .gateEntropy: return gateEntropy
        case .meanMutualInformation: return meanMutualInformation
        case .uncertainPixelFraction: return uncertainPixelFraction
        case .routingMutualInformation: return routingMutualInformation
        }
    }
}

/// One frame's verdict: the raw scores, the thresholds used, which fired, and the debounced state.
public struct OODVerdict: Sendable, Equatable {
    public let scores: FrameScores
    public let thresholds: OODThresholds
    /// Enabled scores that exceeded their threshold this frame.
    public let fired: Set<OODScore>
    /// Enabled scores with no value this frame (not computed); they cannot fire.
    public let missing: Set<OODScore>
    /// This frame alone: any score fired.
    public let frameIsOOD: Bool
    /// The debounced state planners should act on.
    public let isOOD: Bool
    /// The debounced state changed with this frame.
    public let changed: Bool
}

/// Per-frame OOD verdicts with hysteresis (UNCERTAINTY.md §4): the debounced state turns OOD
/// after `enterFrames` consecutive OOD frames and back after `exitFrames` consecutive
/// in-distribution frames, so planners do not see flicker. Starts in-distribution.
public struct OODMonitor: Sendable {
    public let thresholds: OODThresholds
    public let enterFrames: Int
    public let exitFrames: Int
    /// The debounced state.
    public private(set) var isOOD = false
    /// Consecutive frames disagreeing with the debounced state.
    public private(set) var streak = 0

    /// Checks the configuration: enter/exit counts ≥ 1 and finite thresholds.
    public init(thresholds: OODThresholds, enterFrames: Int, exitFrames: Int) throws {
        guard enterFrames >= 1, exitFrames >= 1 else {
            throw MixtureError.invalidConfiguration("enter_frames and exit_frames must be ≥ 1, got \(enterFrames) and \(exitFrames)")
        }
        for score in OODScore.allCases {
            if let value = thresholds[score], !value.isFinite {
                throw MixtureError.invalidConfiguration("threshold of \(score.rawValue) must be finite, got \(value)")
            }
        }
        guard thresholds.pixelMutualInformation.isFinite else {
            throw MixtureError.invalidConfiguration("pixel MI threshold must be finite")
        }
        self.thresholds = thresholds
        self.enterFrames = enterFrames
        self.exitFrames = exitFrames
    }

    /// Scores one frame and advances the debounce. A NaN score fires: a broken map must not read as in-distribution.
    public mutating func update(_ scores: FrameScores) -> OODVerdict {
        var fired: Set<OODScore> = []
        var missing: Set<OODScore> = []
        for score in OODScore.allCases {
            guard let threshold = thresholds[score] else { continue }
            guard let value = scores[score] else {
                missing.insert(score)
                continue
            }
            if value > threshold || value.isNaN { fired.insert(score) }
        }
        let frameIsOOD = !fired.isEmpty
        var changed = false
        if frameIsOOD == isOOD {
            streak = 0
        } else {
            streak += 1
            if streak >= (isOOD ? exitFrames : enterFrames) {
                isOOD = frameIsOOD
                streak = 0
                changed = true
            }
        }
        return OODVerdict(scores: scores, thresholds: thresholds, fired: fired, missing: missing,
                          frameIsOOD: frameIsOOD, isOOD: isOOD, changed: changed)
    }
}
