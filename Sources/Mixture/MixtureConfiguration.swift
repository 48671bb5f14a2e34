/// How the gate weights experts: one weight per expert, or one per expert and class.
public enum GateKind: String, Sendable, CaseIterable {
    /// g ∈ R^E per image.
    case simple
    /// g ∈ R^{E×C} per image, stored e-major (g[e·C + c]).
    case classwise

    /// Gate logits per frame for E experts and C classes.
    public func gateCount(experts: Int, classes: Int) -> Int {
        self == .simple ? experts : experts * classes
    }
}

/// What the gate mixes (UNCERTAINTY.md §1).
public enum CombineRule: String, Sendable, CaseIterable {
    /// z_moe = Σ_e g_e z_e, p_moe = softmax(z_moe): the paper's code, the default.
    case logits
    /// p_moe = Σ_e g_e softmax(z_e): the paper's Eq. 1 (classwise: renormalised over classes).
    case probabilities
}

/// A set of member distributions whose PE and MI are mapped (UNCERTAINTY.md §2).
public enum MemberSet: String, Sendable, CaseIterable {
    /// {p_moe, p_1, …, p_E} with weights 1/(E+1).
    case stacked
    /// {p_1, …, p_E} with the gate weights g_e (simple gate only).
    case weighted
    /// {p_1, …, p_E} with weights 1/E.
    case ensemble
}

/// Gumbel routing samples for routing PE and MI (UNCERTAINTY.md §3).
public struct RoutingSampling: Sendable, Equatable {
    /// How the temperature enters a routing sample (see docs/uncertainty.md §3).
    public enum Form: String, Sendable, CaseIterable {
        /// g = softmax(a + T·G): T scales the noise; T → 0 gives g = softmax(a), routing MI → 0.
        case scaledNoise = "scaled_noise"
        /// g = softmax((a + G)/T), the design card's formula; T → 0 is Gumbel-max (hard) routing.
        case tempered
    }

    /// K, the number of routing samples per frame; 0 disables routing maps.
    public var samples: Int
    /// T ≥ 0 (for `.tempered`, T = 0 is the hard limit: one-hot at the argmax of a + G).
    public var temperature: Double
    /// Seed of the sample stream; with the frame index it fixes every sample.
    public var seed: UInt64
    /// Where T enters; the forms agree at T = 1.
    public var form: Form

    public init(samples: Int, temperature: Double, seed: UInt64, form: Form = .scaledNoise) {
        self.samples = samples
        self.temperature = temperature
        self.seed = seed
        self.form = form
    }

    /// Routing off.
    public static let disabled = RoutingSampling(samples: 0, temperature: 1, seed: 0)
}

/// Which mixture and which maps one `MixtureUncertainty` computes.
public struct MixtureConfiguration: Sendable, Equatable {
    public var gate: GateKind
    public var combine: CombineRule
    public var memberSets: Set<MemberSet>
    public var routing: RoutingSampling
    /// Keep z_moe (C×H×W) as an output (logits rule only); off by default as it costs a C-plane write.
    public var keepsMixedLogits: Bool
    /// Keep p_moe (C×H×W) as an output; the daemon turns it off, as it costs a C-plane write.
    public var keepsProbabilities: Bool

    public init(gate: GateKind, combine: CombineRule = .logits,
                memberSets: Set<MemberSet> = [.stacked, .ensemble], routing: RoutingSampling = .disabled,
                keepsMixedLogits: Bool = false, keepsProbabilities: Bool = true) {
        self.gate = gate
        self.combine = combine
        self.memberSets = memberSets
        self.routing = routing
        self.keepsMixedLogits = keepsMixedLogits
        self.keepsProbabilities = keepsProbabilities
    }

    /// Most routing samples accepted; each costs one recombination of the expert logits.
    public static let maximumRoutingSamples = 1024

    func validate() throws {
        if gate == .classwise && memberSets.contains(.weighted) { throw MixtureError.weightedNeedsSimpleGate }
        guard routing.samples >= 0, routing.samples <= Self.maximumRoutingSamples else {
            throw MixtureError.invalidConfiguration("routing samples must be in 0...\(Self.maximumRoutingSamples), got \(routing.samples)")
        }
        guard routing.temperature.isFinite, routing.temperature >= 0 else {
            throw MixtureError.invalidConfiguration("routing temperature must be finite and ≥ 0, got \(routing.temperature)")
        }
    }
}
