import CKernels
import Foundation

/// The mixture's prediction and uncertainty maps for one frame (UNCERTAINTY.md §1–3),
/// computed from E planes of expert logits and the gate logits into buffers allocated once
/// for a geometry and configuration. Not thread-safe: one instance per pipeline stage.
///
/// Output buffers stay valid while the instance lives and are overwritten by each `compute`.
public final class MixtureUncertainty {
    public let geometry: MixtureGeometry
    public let configuration: MixtureConfiguration
    /// Independent workspaces: `computeTiles(part:of:)` may run on this many threads at once.
    public let parts: Int

    /// Pixels per tile: parts (threads) split the frame on tile boundaries.
    static let tile = 256

    /// Pixel range `part` of `count` equal ranges of whole tiles (the frame's last tile may be partial).
    static func partRange(_ part: Int, of count: Int, pixels: Int) -> Range<Int> {
        let tiles = (pixels + tile - 1) / tile
        return min(pixels, tiles * part / count * tile)..<min(pixels, tiles * (part + 1) / count * tile)
    }

    private let arena = Arena()
    private let gateColumns: Int
    private let inverseLogClasses: Float
    private var hasStacked, hasWeighted, hasEnsemble: Bool
    private var hasExpertVariance = true

    // Per frame: gate weights (E·columns, and expanded to E×C for the loops), routing samples.
    private let gateWeightsOut: UnsafeMutableBufferPointer<Float>
    private let gateTable: UnsafeMutableBufferPointer<Float>
    private let gateEntropyColumns: UnsafeMutableBufferPointer<Float>
    private let gateSimpleWeights: UnsafeMutableBufferPointer<Float>
    private let ensembleWeights: UnsafeMutableBufferPointer<Float>
    private let stackedWeights: UnsafeMutableBufferPointer<Float>
    private let routingGatesOut: UnsafeMutableBufferPointer<Float>
    private let routingTable: UnsafeMutableBufferPointer<Float>
    private let column: UnsafeMutableBufferPointer<Double>
    private let noise: UnsafeMutableBufferPointer<Double>
    /// The E expert logit planes (C×H×W each) of the current frame.
    private let expertPlanes: UnsafeMutablePointer<UnsafePointer<Float>?>
    /// Externally mixed logits (after a "+conv"), or nil to mix in the fused pass.
    private var externalMoeLogits: UnsafePointer<Float>? = nil
    private var activeSamples: Int
    private var predictionBytes: UnsafeMutablePointer<UInt8>? = nil
    private var gateEntropyPlane: UnsafeMutablePointer<Float>? = nil

    private let workspaces: [TileWorkspace]

    // Outputs.
    private let predictionOut: UnsafeMutableBufferPointer<Int32>
    private let probabilitiesOut: UnsafeMutableBufferPointer<Float>
    private let moeLogitsOut: UnsafeMutableBufferPointer<Float>
    private let expertVarianceOut: UnsafeMutableBufferPointer<Float>
    private let gateEntropyMapOut: UnsafeMutableBufferPointer<Float>
    private let entropyOut: [MemberSet: UnsafeMutableBufferPointer<Float>]
    private let informationOut: [MemberSet: UnsafeMutableBufferPointer<Float>]
    private let routingEntropyOut, routingInformationOut: UnsafeMutableBufferPointer<Float>

    /// Frame gate entropy H(g)/ln E (classwise: the mean of `gateEntropyMap`).
    public private(set) var gateEntropy: Float = 0
    /// Frame index of the last `compute`.
    public private(set) var frameIndex: UInt64 = 0

    /// Allocates every buffer for the geometry (and `parts` independent tile workspaces);
    /// throws for a configuration that cannot be computed (e.g. "weighted" with a classwise gate).
    public init(geometry: MixtureGeometry, configuration: MixtureConfiguration, parts: Int = 1) throws {
        try configuration.validate()
        guard parts >= 1, parts <= 64 else { throw MixtureError.invalidConfiguration("parts must be in 1...64, got \(parts)") }
        self.geometry = geometry
        self.configuration = configuration
        self.parts = parts
        let e = geometry.experts, c = geometry.classes, n = geometry.pixels
        let k = configuration.routing.samples
        activeSamples = k
        gateColumns = configuration.gate == .simple ? 1 : c
        inverseLogClasses = Float(1 / Foundation.log(Double(c)))
        hasStacked = configuration.memberSets.contains(.stacked)
        hasWeighted = configuration.memberSets.contains(.weighted)
        hasEnsemble = configuration.memberSets.contains(.ensemble)

        gateWeightsOut = arena.floats(e * gateColumns)
        gateTable = arena.floats(e * c)
        gateEntropyColumns = arena.floats(gateColumns)
        gateSimpleWeights = arena.floats(e)
        ensembleWeights = arena.floats(e)
        stackedWeights = arena.floats(e)
        for i in 0..<e {
            ensembleWeights[i] = 1 / Float(e)
            stackedWeights[i] = 1 / Float(e + 1)
        }
        routingGatesOut = arena.floats(k * e * gateColumns)
        routingTable = arena.floats(k * e * c)
        column = arena.doubles(e)
        noise = arena.doubles(e * gateColumns)
        expertPlanes = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: e)
        let placeholder = arena.floats(1)
        expertPlanes.initialize(repeating: UnsafePointer(placeholder.baseAddress!), count: e)

        let routed = k > 0
        workspaces = (0..<parts).map { _ in TileWorkspace(experts: e, classes: c) }

        predictionOut = arena.int32s(n)
        probabilitiesOut = arena.floats(configuration.keepsProbabilities ? c * n : 0)
        moeLogitsOut = arena.floats(configuration.keepsMixedLogits && configuration.combine == .logits ? c * n : 0)
        expertVarianceOut = arena.floats(n)
        gateEntropyMapOut = arena.floats(configuration.gate == .classwise ? n : 0)
        var entropy: [MemberSet: UnsafeMutableBufferPointer<Float>] = [:]
        var information: [MemberSet: UnsafeMutableBufferPointer<Float>] = [:]
        for set in MemberSet.allCases where configuration.memberSets.contains(set) {
            entropy[set] = arena.floats(n)
            information[set] = arena.floats(n)
        }
        entropyOut = entropy
        informationOut = information
        routingEntropyOut = arena.floats(routed ? n : 0)
        routingInformationOut = arena.floats(routed ? n : 0)
    }

    deinit { expertPlanes.deallocate() }

    // MARK: Outputs

    /// ĉ(x) = argmax z_moe (probabilities rule: argmax p_moe); ties go to the lowest class.
    public var prediction: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(predictionOut) }
    /// p_moe as C planes of H×W; empty when the configuration does not keep it.
    public var probabilities: UnsafeBufferPointer<Float> { UnsafeBufferPointer(probabilitiesOut) }
    /// z_moe as C planes of H×W (the external logits when given), when the configuration keeps
    /// them and the rule is `logits`; nil otherwise.
    public var mixedLogits: UnsafeBufferPointer<Float>? {
        moeLogitsOut.isEmpty ? nil : UnsafeBufferPointer(moeLogitsOut)
    }
    /// EV (Eq. 3) around p_moe at ĉ(x), per frame (no batch normalisation).
    public var expertVariance: UnsafeBufferPointer<Float> { UnsafeBufferPointer(expertVarianceOut) }
    /// The gate weights g: E values (simple) or E×C, e-major (classwise).
    public var gateWeights: UnsafeBufferPointer<Float> { UnsafeBufferPointer(gateWeightsOut) }
    /// Classwise gates: H(g_{·,ĉ(x)})/ln E per pixel; nil for a simple gate (one value per frame).
    public var gateEntropyMap: UnsafeBufferPointer<Float>? {
        configuration.gate == .classwise ? UnsafeBufferPointer(gateEntropyMapOut) : nil
    }
    /// PE map of a member set, nil if the set is not configured.
    public func predictiveEntropy(_ set: MemberSet) -> UnsafeBufferPointer<Float>? {
        entropyOut[set].map { UnsafeBufferPointer($0) }
    }
    /// MI map of a member set, nil if the set is not configured.
    public func mutualInformation(_ set: MemberSet) -> UnsafeBufferPointer<Float>? {
        informationOut[set].map { UnsafeBufferPointer($0) }
    }
    /// Routing PE map, nil when routing samples are off (configured or active K = 0).
    public var routingEntropy: UnsafeBufferPointer<Float>? {
        activeSamples > 0 ? UnsafeBufferPointer(routingEntropyOut) : nil
    }
    /// Routing MI map, nil when routing samples are off (configured or active K = 0).
    public var routingMutualInformation: UnsafeBufferPointer<Float>? {
        activeSamples > 0 ? UnsafeBufferPointer(routingInformationOut) : nil
    }
    /// The K routing gate samples g^(k) of the last frame: K×E (simple) or K×E×C.
    public var routingGateSamples: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: routingGatesOut[0..<(activeSamples * geometry.experts * gateColumns)])
    }

    /// The member sets computed per frame, a subset of the configured ones (maps of the others
    /// keep their last values); changeable between frames.
    public var activeMemberSets: Set<MemberSet> {
        get { Set(MemberSet.allCases.filter(isActive)) }
        set {
            hasStacked = newValue.contains(.stacked) && configuration.memberSets.contains(.stacked)
            hasWeighted = newValue.contains(.weighted) && configuration.memberSets.contains(.weighted)
            hasEnsemble = newValue.contains(.ensemble) && configuration.memberSets.contains(.ensemble)
        }
    }

    /// The pixel threshold of `frameScores`' uncertain-pixel fraction: the pass counts MI values
    /// above it as it writes them, so frame scores need no second pass when the thresholds match.
    public var scoreThreshold: Float = 0.1

    /// Also writes ĉ as bytes into `buffer` (H·W, valid while this instance computes), or stops (nil).
    public func setPredictionBytes(_ buffer: UnsafeMutablePointer<UInt8>?) {
        predictionBytes = buffer
    }

    /// A simple gate's frame gate entropy is also written to every pixel of `plane` (H·W), for
    /// publishing it as a map; nil stops.
    public func setGateEntropyPlane(_ plane: UnsafeMutablePointer<Float>?) {
        gateEntropyPlane = plane
    }

    /// Which build of the fused per-pixel pass runs: the widest the CPU has, or a narrower one
    /// (tests check every build against the reference on one machine).
    public var kernel: MixtureKernel = .automatic

    /// Member sets whose PE map is written when the set is computed (all by default); a PE map
    /// nobody reads costs a plane write per frame. The MI map of a computed set is always written.
    public var writtenEntropies: Set<MemberSet> = Set(MemberSet.allCases)
    /// Whether the routing PE map is written when routing samples are on (the MI map always is).
    public var writesRoutingEntropy = true

    /// Whether `set` is computed this frame (`activeMemberSets` without building a Set per frame).
    private func isActive(_ set: MemberSet) -> Bool {
        switch set {
        case .stacked: hasStacked
        case .weighted: hasWeighted
        case .ensemble: hasEnsemble
        }
    }

    /// Whether EV is computed per frame (on by default).
    public var computesExpertVariance: Bool {
        get { hasExpertVariance }
        set { hasExpertVariance = newValue }
    }

    /// Routing samples used per frame, 0...configured K (fewer samples = less work; budget degradation).
    public var routingSamples: Int {
        get { activeSamples }
        set { activeSamples = max(0, min(newValue, configuration.routing.samples)) }
    }

    // MARK: Computation

    /// Computes every configured map. `expertLogits` holds E planes of C×H×W (expert-major),
    /// `gateLogits` E (simple) or E×C (classwise, a[e·C + c]) values; `frameIndex` selects
    /// the routing sample stream together with the configured seed.
    public func compute(expertLogits: UnsafeBufferPointer<Float>, gateLogits: UnsafeBufferPointer<Float>,
                        frameIndex: UInt64 = 0) throws {
        guard expertLogits.count == geometry.expertLogitCount, let logits = expertLogits.baseAddress else {
            throw MixtureError.bufferSize(name: "expert logits", expected: geometry.expertLogitCount, actual: expertLogits.count)
        }
        for i in 0..<geometry.experts { expertPlanes[i] = logits + i * geometry.classes * geometry.pixels }
        try prepare(gateLogits: gateLogits, moeLogits: nil, frameIndex: frameIndex)
        computeTiles(part: 0, of: 1)
        finish()
    }

    /// Sets the expert logits of the next frame: one C×H×W plane set per expert, anywhere in memory.
    public func setExpertLogits(_ expert: Int, _ planes: UnsafePointer<Float>) {
        expertPlanes[expert] = planes
    }

    /// First step of a frame split over threads: gate weights and routing samples. `moeLogits`
    /// (C×H×W, logits rule only) replaces Σ_e g_e z_e, e.g. after the "+conv". Then call
    /// `computeTiles(part:of:)` for every part (concurrently if you like), then `finish()`.
    public func prepare(gateLogits: UnsafeBufferPointer<Float>, moeLogits: UnsafePointer<Float>?,
                        frameIndex: UInt64) throws {
        let gateCount = geometry.experts * gateColumns
        guard gateLogits.count == gateCount, let gate = gateLogits.baseAddress else {
            throw MixtureError.bufferSize(name: "gate logits", expected: gateCount, actual: gateLogits.count)
        }
        guard moeLogits == nil || configuration.combine == .logits else {
            throw MixtureError.invalidConfiguration("mixed logits can only be given with the logits rule")
        }
        externalMoeLogits = moeLogits
        self.frameIndex = frameIndex
        computeGate(gate)
        if activeSamples > 0 { drawRoutingGates(gate, frameIndex: frameIndex) }
        // The pass fills the gate-entropy plane with this frame's value.
        if configuration.gate == .simple { gateEntropy = gateEntropyColumns[0] }
        for w in workspaces { w.resetScores() }
    }

    /// Computes the maps of pixel range `part` of `count` equal, tile-aligned ranges, with
    /// workspace `part` (so distinct parts may run on distinct threads).
    public func computeTiles(part: Int, of count: Int) {
        precondition(part < parts && count <= parts)
        let range = Self.partRange(part, of: count, pixels: geometry.pixels)
        if !range.isEmpty { processTile(workspaces[part], start: range.lowerBound, count: range.count) }
    }

    /// Last step of a frame: the frame gate entropy.
    public func finish() {
        if configuration.gate == .classwise {
            var total = 0.0
            for value in gateEntropyMapOut { total += Double(value) }
            gateEntropy = Float(total / Double(geometry.pixels))
        } else {
            gateEntropy = gateEntropyColumns[0]
        }
    }

    /// Frame scores for the OOD monitor, MI taken from `set` (nil fields when not computed this frame).
    public func frameScores(mutualInformationFrom set: MemberSet, pixelThreshold: Float) -> FrameScores {
        var scores = FrameScores(gateEntropy: gateEntropy)
        let n = Double(geometry.pixels)
        // A set not computed this frame (budget degradation) has no score, not last frame's.
        if isActive(set), let mi = mutualInformation(set) {
            let index = set == .stacked ? 0 : (set == .weighted ? 1 : 2)
            if pixelThreshold == scoreThreshold {
                scores.meanMutualInformation = Float(workspaces.reduce(0) { $0 + $1.miSum[index] } / n)
                scores.uncertainPixelFraction = Float(Double(workspaces.reduce(0) { $0 + $1.miAbove[index] }) / n)
            } else {
                scores.meanMutualInformation = FrameScores.mean(mi)
                scores.uncertainPixelFraction = FrameScores.fraction(mi, above: pixelThreshold)
            }
        }
        if routingMutualInformation != nil {
            scores.routingMutualInformation = Float(workspaces.reduce(0) { $0 + $1.miSum[3] } / n)
        }
        return scores
    }

    /// g = softmax over experts of each gate column, its entropy, and the E×C table the loops use.
    private func computeGate(_ gate: UnsafePointer<Float>) {
        let e = geometry.experts
        let inverseLogExperts = 1 / Foundation.log(Double(e))
        let w = column.baseAddress!
        for col in 0..<gateColumns {
            for i in 0..<e { w[i] = Double(gate[i * gateColumns + col]) }
            GateMath.softmax(w, count: e)
            gateEntropyColumns[col] = Float(GateMath.entropy(w, count: e) * inverseLogExperts)
            for i in 0..<e { gateWeightsOut[i * gateColumns + col] = Float(w[i]) }
        }
        expand(gateWeightsOut.baseAddress!, into: gateTable.baseAddress!)
        if configuration.gate == .simple {
            for i in 0..<e { gateSimpleWeights[i] = gateWeightsOut[i] }
        }
    }

    /// K routing gates per column (RoutingGateSampler), each expanded to the E×C table of the pass.
    private func drawRoutingGates(_ gate: UnsafePointer<Float>, frameIndex: UInt64) {
        let e = geometry.experts, c = geometry.classes
        RoutingGateSampler(experts: e, columns: gateColumns)
            .draw(gate: gate, routing: configuration.routing, samples: activeSamples, frameIndex: frameIndex,
                  into: routingGatesOut.baseAddress!, noise: noise.baseAddress!, column: column.baseAddress!)
        for k in 0..<activeSamples {
            expand(routingGatesOut.baseAddress! + k * e * gateColumns, into: routingTable.baseAddress! + k * e * c)
        }
    }

    /// E×columns weights → E×C (a simple gate's weight repeated for every class).
    private func expand(_ weights: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let e = geometry.experts, c = geometry.classes
        for i in 0..<e {
            for j in 0..<c { table[i * c + j] = weights[i * gateColumns + (gateColumns == 1 ? 0 : j)] }
        }
    }

    /// One pixel range through the fused C pass (CKMixtureTile.h): the prediction, p_moe, every
    /// active member set, EV and the routing maps; then the classwise gate-entropy map.
    private func processTile(_ w: TileWorkspace, start: Int, count n: Int) {
        let pixels = geometry.pixels
        func out(_ buffer: UnsafeMutableBufferPointer<Float>?, _ on: Bool = true) -> UnsafeMutablePointer<Float>? {
            on ? buffer?.baseAddress : nil
        }
        var args = ck_mix_tile_args()
        args.experts = Int32(geometry.experts)
        args.classes = Int32(geometry.classes)
        args.plane = pixels
        args.expert_logits = UnsafePointer(expertPlanes)
        args.moe_logits = externalMoeLogits
        args.probabilities_rule = configuration.combine == .probabilities ? 1 : 0
        args.classwise = configuration.gate == .classwise ? 1 : 0
        args.mix = UnsafePointer(gateTable.baseAddress)
        args.weighted = UnsafePointer(gateSimpleWeights.baseAddress)
        args.samples = Int32(activeSamples)
        args.routing = UnsafePointer(routingTable.baseAddress)
        args.inverse_log_classes = inverseLogClasses
        args.prediction = predictionOut.baseAddress
        args.probabilities = out(probabilitiesOut, configuration.keepsProbabilities)
        args.moe_logits_out = out(moeLogitsOut, !moeLogitsOut.isEmpty)
        args.pe_stacked = out(entropyOut[.stacked], hasStacked && writtenEntropies.contains(.stacked))
        args.mi_stacked = out(informationOut[.stacked], hasStacked)
        args.pe_weighted = out(entropyOut[.weighted], hasWeighted && writtenEntropies.contains(.weighted))
        args.mi_weighted = out(informationOut[.weighted], hasWeighted)
        args.pe_ensemble = out(entropyOut[.ensemble], hasEnsemble && writtenEntropies.contains(.ensemble))
        args.mi_ensemble = out(informationOut[.ensemble], hasEnsemble)
        args.expert_variance = out(expertVarianceOut, hasExpertVariance)
        args.routing_pe = out(routingEntropyOut, activeSamples > 0 && writesRoutingEntropy)
        args.routing_mi = out(routingInformationOut, activeSamples > 0)
        args.prediction_bytes = predictionBytes
        if configuration.gate == .simple, let plane = gateEntropyPlane {
            args.fill = plane
            args.fill_value = gateEntropy
        }
        args.mi_sum = w.miSum
        args.mi_above = w.miAbove
        args.score_threshold = scoreThreshold
        args.scratch = w.scratch
        args.instruction_set = kernel.rawValue
        ck_mix_tile(&args, start, n)

        if configuration.gate == .classwise {
            let map = gateEntropyMapOut.baseAddress! + start
            let prediction = predictionOut.baseAddress! + start
            for i in 0..<n { map[i] = gateEntropyColumns[Int(prediction[i])] }
        }
    }
}

/// A build of the fused per-pixel pass (the C kernel is compiled once per instruction set).
public enum MixtureKernel: Int32, CaseIterable, Sendable {
    /// AVX-512 where the CPU has it, else AVX2+FMA, else the baseline.
    case automatic = 0
    /// The baseline build (SSE2 on x86-64).
    case baseline = 1
    /// AVX2+FMA at most.
    case avx2 = 2
}

/// One thread's scratch for the fused pass, and its share of the frame-score sums (stacked,
/// weighted, ensemble and routing MI).
final class TileWorkspace {
    let arena = Arena()
    let scratch: UnsafeMutablePointer<Float>
    let miSum: UnsafeMutablePointer<Double>
    let miAbove: UnsafeMutablePointer<Int64>

    init(experts e: Int, classes c: Int) {
        scratch = arena.floats(ck_mix_tile_scratch_floats(Int32(e), Int32(c))).baseAddress!
        miSum = arena.doubles(4).baseAddress!
        miAbove = arena.int64s(4).baseAddress!
    }

    func resetScores() {
        miSum.update(repeating: 0, count: 4)
        miAbove.update(repeating: 0, count: 4)
    }
}
