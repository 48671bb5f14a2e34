/// One rung of the degradation ladder. Each rung keeps the savings of the rungs above it.
public enum BudgetStep: Sendable, Equatable, CustomStringConvertible {
    /// Everything the configuration asks for.
    case full
    /// Routing samples off (K = 0): no routing PE/MI maps or score.
    case noRoutingSamples
    /// Only the maps the configuration marks essential are computed and published.
    case essentialMaps
    /// Additionally, only every k-th frame is processed (k ≥ 2).
    case everyKth(Int)

    /// The name used in status messages and logs.
    public var description: String {
        switch self {
        case .full: "full"
        case .noRoutingSamples: "no_routing"
        case .essentialMaps: "essential_maps"
        case let .everyKth(k): "every_\(k)th_frame"
        }
    }

    /// Whether routing samples are taken in this step.
    public var routingSamples: Bool { self == .full }
    /// Whether all configured maps (not only the essential ones) are computed.
    public var allMaps: Bool { self == .full || self == .noRoutingSamples }
    /// Process one frame in this many (1 = every frame).
    public var frameStride: Int {
        if case let .everyKth(k) = self { return k }
        return 1
    }
}

/// When to step down and back up the ladder.
public struct BudgetPolicy: Sendable, Equatable {
    /// Frame deadline (capture to publish), nanoseconds.
    public var deadlineNanos: UInt64
    /// Consecutive overrunning frames before stepping down one rung.
    public var degradeAfter: Int
    /// Consecutive frames under `recoverFraction` × deadline before stepping up one rung.
    public var recoverAfter: Int
    /// The share of the deadline a frame must stay under to count towards recovery.
    public var recoverFraction: Double
    /// Largest k of the every-k-th-frame rungs (1 disables frame skipping).
    public var maxStride: Int
    /// Whether the model takes routing samples at all (else that rung is left out).
    public var hasRoutingSamples: Bool
    /// Whether some configured maps are not essential (else that rung is left out).
    public var hasOptionalMaps: Bool

    /// A policy; see the field comments for the meaning of each value.
    public init(deadlineNanos: UInt64, degradeAfter: Int = 3, recoverAfter: Int = 30, recoverFraction: Double = 0.8,
                maxStride: Int = 4, hasRoutingSamples: Bool = true, hasOptionalMaps: Bool = true) {
        self.deadlineNanos = deadlineNanos
        self.degradeAfter = max(1, degradeAfter)
        self.recoverAfter = max(1, recoverAfter)
        self.recoverFraction = recoverFraction
        self.maxStride = max(1, maxStride)
        self.hasRoutingSamples = hasRoutingSamples
        self.hasOptionalMaps = hasOptionalMaps
    }
}

/// The CPU-budget state machine: fed every processed frame's latency, it walks a ladder of
/// degradation steps (full → no routing samples → essential maps → every 2nd, 3rd, ... frame)
/// down after `degradeAfter` consecutive deadline overruns and back up one rung at a time after
/// `recoverAfter` consecutive frames under `recoverFraction` of the deadline (hysteresis: a
/// frame between the two levels resets both streaks). Pure: no clocks, no threads.
public struct BudgetController: Sendable {
    public let policy: BudgetPolicy
    /// The rungs in order, from `.full`; rungs without effect for this model are left out.
    public let ladder: [BudgetStep]
    /// Index of the current rung in `ladder`.
    public private(set) var level = 0
    /// Frames that overran the deadline, in total.
    public private(set) var deadlineMisses: UInt64 = 0
    /// Current streak of overruns.
    public private(set) var overrunStreak = 0
    /// Current streak of frames comfortably under the deadline.
    public private(set) var calmStreak = 0
    /// Frames offered to `shouldProcess` since the last rung change.
    private var offered: UInt64 = 0

    /// A controller at `.full`.
    public init(policy: BudgetPolicy) {
        self.policy = policy
        var ladder: [BudgetStep] = [.full]
        if policy.hasRoutingSamples { ladder.append(.noRoutingSamples) }
        if policy.hasOptionalMaps { ladder.append(.essentialMaps) }
        if policy.maxStride >= 2 { for k in 2...policy.maxStride { ladder.append(.everyKth(k)) } }
        self.ladder = ladder
    }

    /// The current step.
    public var step: BudgetStep { ladder[level] }

    /// Whether the next frame taken from the source is processed (the every-k-th rungs skip the rest).
    public mutating func shouldProcess() -> Bool {
        let stride = UInt64(step.frameStride)
        let take = offered % stride == 0
        offered &+= 1
        return take
    }

    /// Feeds one processed frame's latency; returns the new step when it changed.
    @discardableResult
    public mutating func record(latencyNanos: UInt64) -> BudgetStep? {
        if latencyNanos > policy.deadlineNanos {
            deadlineMisses += 1
            overrunStreak += 1
            calmStreak = 0
            if overrunStreak >= policy.degradeAfter, level + 1 < ladder.count {
                return move(to: level + 1)
            }
            return nil
        }
        overrunStreak = 0
        if Double(latencyNanos) <= Double(policy.deadlineNanos) * policy.recoverFraction {
            calmStreak += 1
            if calmStreak >= policy.recoverAfter, level > 0 {
                return move(to: level - 1)
            }
        } else {
            calmStreak = 0
        }
        return nil
    }

    private mutating func move(to newLevel: Int) -> BudgetStep {
        level = newLevel
        overrunStreak = 0
        calmStreak = 0
        offered = 0
        return ladder[level]
    }
}
