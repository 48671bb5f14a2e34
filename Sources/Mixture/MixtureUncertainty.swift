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

    /// Pixels per tile: all intermediate planes of a tile (E·C·tile floats of expert
    /// probabilities and the routing planes) stay in L1/L2 instead of streaming megabytes.
    static let tile = 256

    private let arena = Arena()
    private let tile: Int
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
    private let expertPlanes: UnsafeMutablePointer<UnsafePointer<Float>>
    /// Externally mixed logits (after a "+conv"), or nil to mix per tile.
    private var externalMoeLogits: UnsafePointer<Float>? = nil
    private var activeSamples: Int

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
        tile = min(Self.tile, n)
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
        expertPlanes = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: e)
        let placeholder = arena.floats(1)
        expertPlanes.initialize(repeating: UnsafePointer(placeholder.baseAddress!), count: e)

        let routed = k > 0
        workspaces = (0..<parts).map { _ in
            TileWorkspace(arena: Arena(), experts: e, classes: c, tile: min(Self.tile, n),
                          logitsRule: configuration.combine == .logits, routed: routed)
        }

        predictionOut = arena.int32s(n)
        probabilitiesOut = arena.floats(c * n)
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
    /// p_moe as C planes of H×W.
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
        get { Set(MemberSet.allCases.filter { [.stacked: hasStacked, .weighted: hasWeighted, .ensemble: hasEnsemble][$0]! }) }
        set {
            hasStacked = newValue.contains(.stacked) && configuration.memberSets.contains(.stacked)
            hasWeighted = newValue.contains(.weighted) && configuration.memberSets.contains(.weighted)
            hasEnsemble = newValue.contains(.ensemble) && configuration.memberSets.contains(.ensemble)
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
    }

    /// Computes the maps of pixel range `part` of `count` equal, tile-aligned ranges, with
    /// workspace `part` (so distinct parts may run on distinct threads).
    public func computeTiles(part: Int, of count: Int) {
        precondition(part < parts && count <= parts)
        let tiles = (geometry.pixels + tile - 1) / tile
        let first = tiles * part / count, last = tiles * (part + 1) / count
        let workspace = workspaces[part]
        var start = first * tile
        let end = min(geometry.pixels, last * tile)
        while start < end {
            let n = min(tile, end - start)
            processTile(workspace, start: start, count: n)
            start += n
        }
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

    /// Frame scores for the OOD monitor, MI taken from `set` (nil fields when not computed).
    public func frameScores(mutualInformationFrom set: MemberSet, pixelThreshold: Float) -> FrameScores {
        var scores = FrameScores(gateEntropy: gateEntropy)
        if let mi = mutualInformation(set) {
            scores.meanMutualInformation = FrameScores.mean(mi)
            scores.uncertainPixelFraction = FrameScores.fraction(mi, above: pixelThreshold)
        }
        if let routing = routingMutualInformation { scores.routingMutualInformation = FrameScores.mean(routing) }
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

    /// K routing gates per column, G standard Gumbel drawn in the order k, then e, then c
    /// (e-major, as a is stored): g = softmax(a + T·G) (`.scaledNoise`) or softmax((a + G)/T)
    /// (`.tempered`, where T = 0 takes the one-hot argmax).
    private func drawRoutingGates(_ gate: UnsafePointer<Float>, frameIndex: UInt64) {
        let e = geometry.experts, c = geometry.classes
        let routing = configuration.routing
        var generator = Xoshiro256StarStar(seed: routing.seed, frameIndex: frameIndex)
        let w = column.baseAddress!
        let perSample = e * gateColumns
        for k in 0..<activeSamples {
            for j in 0..<perSample { noise[j] = generator.nextGumbel() }
            let out = routingGatesOut.baseAddress! + k * perSample
            for col in 0..<gateColumns {
                switch routing.form {
                case .scaledNoise:
                    for i in 0..<e { w[i] = Double(gate[i * gateColumns + col]) + routing.temperature * noise[i * gateColumns + col] }
                    GateMath.softmax(w, count: e)
                case .tempered:
                    for i in 0..<e { w[i] = Double(gate[i * gateColumns + col]) + noise[i * gateColumns + col] }
                    if routing.temperature == 0 {
                        GateMath.hardMaximum(w, count: e)
                    } else {
                        for i in 0..<e { w[i] /= routing.temperature }
                        GateMath.softmax(w, count: e)
                    }
                }
                for i in 0..<e { out[i * gateColumns + col] = Float(w[i]) }
            }
            expand(out, into: routingTable.baseAddress! + k * e * c)
        }
    }

    /// E×columns weights → E×C (a simple gate's weight repeated for every class).
    private func expand(_ weights: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let e = geometry.experts, c = geometry.classes
        for i in 0..<e {
            for j in 0..<c { table[i * c + j] = weights[i * gateColumns + (gateColumns == 1 ? 0 : j)] }
        }
    }

    private func processTile(_ w: TileWorkspace, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels
        let t = tile
        let scratch = w.softmaxScratch
        let probabilitiesBase = w.expertProbabilities
        let entropyBase = w.expertEntropy
        let moe = probabilitiesOut.baseAddress! + start
        let prediction = predictionOut.baseAddress! + start

        for i in 0..<e {
            PlaneKernels.softmaxEntropy(logits: expertPlanes[i] + start, logitStride: pixels, classes: c, count: n,
                                        probabilities: probabilitiesBase + i * c * t, probabilityStride: t,
                                        entropy: entropyBase + i * t, scratch: scratch)
        }

        let moeH = w.moeEntropy
        switch configuration.combine {
        case .logits:
            let z: UnsafePointer<Float>
            let zStride: Int
            if let external = externalMoeLogits {
                z = external + start
                zStride = pixels
            } else {
                for j in 0..<c {
                    PlaneKernels.weightedSum(planes: expertPlanes, offset: j * pixels + start,
                                             weights: gateTable.baseAddress! + j, weightStride: c, terms: e, count: n,
                                             into: w.moeLogits + j * t)
                }
                z = UnsafePointer(w.moeLogits)
                zStride = t
            }
            if !moeLogitsOut.isEmpty, let kept = moeLogitsOut.baseAddress {
                for j in 0..<c { (kept + j * pixels + start).update(from: z + j * zStride, count: n) }
            }
            PlaneKernels.argmax(planes: z, stride: zStride, classes: c, count: n, index: prediction)
            PlaneKernels.softmaxEntropy(logits: z, logitStride: zStride, classes: c, count: n,
                                        probabilities: moe, probabilityStride: pixels, entropy: moeH, scratch: scratch)
        case .probabilities:
            for j in 0..<c {
                PlaneKernels.weightedSum(planes: probabilitiesBase + j * t, planeStride: c * t,
                                         weights: gateTable.baseAddress! + j, weightStride: c, terms: e, count: n,
                                         into: moe + j * pixels)
            }
            // Classwise weights do not sum to 1 over classes; renormalise so p_moe is a distribution.
            if configuration.gate == .classwise {
                PlaneKernels.normalise(planes: moe, stride: pixels, classes: c, count: n, sum: scratch.sum)
            }
            PlaneKernels.argmax(planes: moe, stride: pixels, classes: c, count: n, index: prediction)
            moeH.update(repeating: 0, count: n)
            for j in 0..<c { PlaneKernels.accumulateXLogX(moe + j * pixels, scale: 1, into: moeH, count: n) }
            PlaneKernels.negate(moeH, count: n)
        }

        memberSetMaps(w, start: start, count: n)
        expertVarianceAndGateMap(w, start: start, count: n)
        if activeSamples > 0 { routingMaps(w, start: start, count: n) }
    }

    /// PE and MI of the stacked, weighted and ensemble member sets.
    private func memberSetMaps(_ w: TileWorkspace, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let probabilitiesBase = w.expertProbabilities
        let moe = probabilitiesOut.baseAddress! + start
        let sum = w.classSum
        if hasStacked { w.sumStacked.update(repeating: 0, count: n) }
        if hasWeighted { w.sumWeighted.update(repeating: 0, count: n) }
        if hasEnsemble { w.sumEnsemble.update(repeating: 0, count: n) }
        for j in 0..<c {
            let plane = probabilitiesBase + j * t
            sum.update(from: plane, count: n)
            for i in 1..<e { PlaneKernels.add(plane + i * c * t, into: sum, count: n) }
            if hasEnsemble {
                PlaneKernels.accumulateXLogX(sum, scale: 1 / Float(e), into: w.sumEnsemble, count: n)
            }
            if hasStacked {
                PlaneKernels.accumulateXLogX(moe + j * pixels, plus: sum, scale: 1 / Float(e + 1),
                                             into: w.sumStacked, count: n)
            }
            if hasWeighted {
                // With the probabilities rule and a simple gate, Σ_e g_e p_e is p_moe itself.
                let mean: UnsafePointer<Float>
                if configuration.combine == .probabilities {
                    mean = UnsafePointer(moe + j * pixels)
                } else {
                    PlaneKernels.weightedSum(planes: plane, planeStride: c * t, weights: gateSimpleWeights.baseAddress!,
                                             weightStride: 1, terms: e, count: n, into: w.classWeighted)
                    mean = UnsafePointer(w.classWeighted)
                }
                PlaneKernels.accumulateXLogX(mean, scale: 1, into: w.sumWeighted, count: n)
            }
        }
        let members = w.memberEntropy
        let entropies = w.expertEntropy
        for set in MemberSet.allCases {
            let accumulator: UnsafeMutablePointer<Float>
            switch set {
            case .stacked:
                guard hasStacked else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: stackedWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                PlaneKernels.addScaled(w.moeEntropy, factor: 1 / Float(e + 1), into: members, count: n)
                accumulator = w.sumStacked
            case .weighted:
                guard hasWeighted else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: gateSimpleWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                accumulator = w.sumWeighted
            case .ensemble:
                guard hasEnsemble else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: ensembleWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                accumulator = w.sumEnsemble
            }
            PlaneKernels.finishEntropyMaps(sumXLogX: accumulator, memberEntropy: members,
                                           inverseLogClasses: inverseLogClasses, count: n,
                                           predictiveEntropy: entropyOut[set]!.baseAddress! + start,
                                           mutualInformation: informationOut[set]!.baseAddress! + start)
        }
    }

    /// EV at the predicted class, and the classwise gate-entropy map; both read one class per
    /// pixel, so a gather of E + 1 values beats a masked pass over all C planes.
    private func expertVarianceAndGateMap(_ w: TileWorkspace, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let probabilitiesBase = w.expertProbabilities
        let moe = probabilitiesOut.baseAddress! + start
        let prediction = predictionOut.baseAddress! + start
        let variance = expertVarianceOut.baseAddress! + start
        let inverseExperts = 1 / Float(e)
        for i in 0..<(hasExpertVariance ? n : 0) {
            let label = Int(prediction[i])
            let centre = moe[label * pixels + i]
            var squares: Float = 0
            for k in 0..<e {
                let d = probabilitiesBase[(k * c + label) * t + i] - centre
                squares += d * d
            }
            variance[i] = (squares * inverseExperts).squareRoot()
        }
        if configuration.gate == .classwise {
            let map = gateEntropyMapOut.baseAddress! + start
            for i in 0..<n { map[i] = gateEntropyColumns[Int(prediction[i])] }
        }
    }

    /// Routing PE and MI: each sample recombines the expert logits (logits rule, per class
    /// for classwise gates); only the recombination and its softmax repeat.
    private func routingMaps(_ w: TileWorkspace, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let samples = activeSamples
        let scratch = w.softmaxScratch
        let z = w.sampleLogits, p = w.sampleExponentials, sum = w.routingSum
        let members = w.routingMemberEntropy
        sum.update(repeating: 0, count: c * t)
        members.update(repeating: 0, count: n)
        for k in 0..<samples {
            let table = routingTable.baseAddress! + k * e * c
            for j in 0..<c {
                PlaneKernels.weightedSum(planes: expertPlanes, offset: j * pixels + start,
                                         weights: table + j, weightStride: c, terms: e, count: n, into: z + j * t)
            }
            PlaneKernels.accumulateSoftmaxEntropy(logits: z, logitStride: t, classes: c, count: n, exponentials: p,
                                                  probabilitySum: sum, sumStride: t, entropySum: members, scratch: scratch)
        }
        let inverseSamples = 1 / Float(samples)
        let xlogx = w.routingSumXLogX
        xlogx.update(repeating: 0, count: n)
        for j in 0..<c { PlaneKernels.accumulateXLogX(sum + j * t, scale: inverseSamples, into: xlogx, count: n) }
        PlaneKernels.scale(members, by: inverseSamples, count: n)
        PlaneKernels.finishEntropyMaps(sumXLogX: xlogx, memberEntropy: members, inverseLogClasses: inverseLogClasses,
                                       count: n, predictiveEntropy: routingEntropyOut.baseAddress! + start,
                                       mutualInformation: routingInformationOut.baseAddress! + start)
    }
}

/// One thread's per-tile scratch planes.
final class TileWorkspace {
    let arena: Arena
    let expertProbabilities, expertEntropy, moeLogits, moeEntropy, classSum, classWeighted, memberEntropy: UnsafeMutablePointer<Float>
    let sumStacked, sumWeighted, sumEnsemble: UnsafeMutablePointer<Float>
    let sampleLogits, sampleExponentials, routingSum, routingMemberEntropy, routingSumXLogX: UnsafeMutablePointer<Float>
    let softmaxScratch: PlaneKernels.SoftmaxScratch

    init(arena: Arena, experts e: Int, classes c: Int, tile t: Int, logitsRule: Bool, routed: Bool) {
        self.arena = arena
        expertProbabilities = arena.floats(e * c * t).baseAddress!
        expertEntropy = arena.floats(e * t).baseAddress!
        moeLogits = arena.floats(logitsRule ? c * t : 1).baseAddress!
        moeEntropy = arena.floats(t).baseAddress!
        classSum = arena.floats(t).baseAddress!
        classWeighted = arena.floats(t).baseAddress!
        memberEntropy = arena.floats(t).baseAddress!
        sumStacked = arena.floats(t).baseAddress!
        sumWeighted = arena.floats(t).baseAddress!
        sumEnsemble = arena.floats(t).baseAddress!
        sampleLogits = arena.floats(routed ? c * t : 1).baseAddress!
        sampleExponentials = arena.floats(routed ? c * t : 1).baseAddress!
        routingSum = arena.floats(routed ? c * t : 1).baseAddress!
        routingMemberEntropy = arena.floats(routed ? t : 1).baseAddress!
        routingSumXLogX = arena.floats(routed ? t : 1).baseAddress!
        softmaxScratch = PlaneKernels.SoftmaxScratch(maximum: arena.floats(t).baseAddress!, sum: arena.floats(t).baseAddress!,
                                                     dot: arena.floats(t).baseAddress!)
    }
}
