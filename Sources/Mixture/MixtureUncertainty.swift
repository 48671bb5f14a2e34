import Foundation

/// The mixture's prediction and uncertainty maps for one frame (UNCERTAINTY.md §1–3),
/// computed from E planes of expert logits and the gate logits into buffers allocated once
/// for a geometry and configuration. Not thread-safe: one instance per pipeline stage.
///
/// Output buffers stay valid while the instance lives and are overwritten by each `compute`.
public final class MixtureUncertainty {
    public let geometry: MixtureGeometry
    public let configuration: MixtureConfiguration

    /// Pixels per tile: all intermediate planes of a tile (E·C·tile floats of expert
    /// probabilities and the routing planes) stay in L1/L2 instead of streaming megabytes.
    static let tile = 256

    private let arena = Arena()
    private let tile: Int
    private let gateColumns: Int
    private let inverseLogClasses: Float
    private let hasStacked, hasWeighted, hasEnsemble: Bool

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

    // Per tile scratch.
    private let expertProbabilities: UnsafeMutableBufferPointer<Float>
    private let expertEntropy: UnsafeMutableBufferPointer<Float>
    private let moeLogits: UnsafeMutableBufferPointer<Float>
    private let moeEntropy: UnsafeMutableBufferPointer<Float>
    private let classSum: UnsafeMutableBufferPointer<Float>
    private let classWeighted: UnsafeMutableBufferPointer<Float>
    private let memberEntropy: UnsafeMutableBufferPointer<Float>
    private let sumStacked, sumWeighted, sumEnsemble: UnsafeMutableBufferPointer<Float>
    private let sampleLogits, sampleExponentials, routingSum: UnsafeMutableBufferPointer<Float>
    private let routingMemberEntropy, routingSumXLogX: UnsafeMutableBufferPointer<Float>
    private let rowMaximum, rowSum, rowDot: UnsafeMutableBufferPointer<Float>

    // Outputs.
    private let predictionOut: UnsafeMutableBufferPointer<Int32>
    private let probabilitiesOut: UnsafeMutableBufferPointer<Float>
    private let expertVarianceOut: UnsafeMutableBufferPointer<Float>
    private let gateEntropyMapOut: UnsafeMutableBufferPointer<Float>
    private let entropyOut: [MemberSet: UnsafeMutableBufferPointer<Float>]
    private let informationOut: [MemberSet: UnsafeMutableBufferPointer<Float>]
    private let routingEntropyOut, routingInformationOut: UnsafeMutableBufferPointer<Float>

    /// Frame gate entropy H(g)/ln E (classwise: the mean of `gateEntropyMap`).
    public private(set) var gateEntropy: Float = 0
    /// Frame index of the last `compute`.
    public private(set) var frameIndex: UInt64 = 0

    /// Allocates every buffer for the geometry; throws for a configuration that cannot be
    /// computed (e.g. "weighted" with a classwise gate).
    public init(geometry: MixtureGeometry, configuration: MixtureConfiguration) throws {
        try configuration.validate()
        self.geometry = geometry
        self.configuration = configuration
        let e = geometry.experts, c = geometry.classes, n = geometry.pixels
        let k = configuration.routing.samples
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

        expertProbabilities = arena.floats(e * c * tile)
        expertEntropy = arena.floats(e * tile)
        moeLogits = arena.floats(configuration.combine == .logits ? c * tile : 0)
        moeEntropy = arena.floats(tile)
        classSum = arena.floats(tile)
        classWeighted = arena.floats(tile)
        memberEntropy = arena.floats(tile)
        sumStacked = arena.floats(tile)
        sumWeighted = arena.floats(tile)
        sumEnsemble = arena.floats(tile)
        let routed = k > 0
        sampleLogits = arena.floats(routed ? c * tile : 0)
        sampleExponentials = arena.floats(routed ? c * tile : 0)
        routingSum = arena.floats(routed ? c * tile : 0)
        routingMemberEntropy = arena.floats(routed ? tile : 0)
        routingSumXLogX = arena.floats(routed ? tile : 0)
        rowMaximum = arena.floats(tile)
        rowSum = arena.floats(tile)
        rowDot = arena.floats(tile)

        predictionOut = arena.int32s(n)
        probabilitiesOut = arena.floats(c * n)
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

    // MARK: Outputs

    /// ĉ(x) = argmax z_moe (probabilities rule: argmax p_moe); ties go to the lowest class.
    public var prediction: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(predictionOut) }
    /// p_moe as C planes of H×W.
    public var probabilities: UnsafeBufferPointer<Float> { UnsafeBufferPointer(probabilitiesOut) }
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
    /// Routing PE map, nil when routing samples are off.
    public var routingEntropy: UnsafeBufferPointer<Float>? {
        configuration.routing.samples > 0 ? UnsafeBufferPointer(routingEntropyOut) : nil
    }
    /// Routing MI map, nil when routing samples are off.
    public var routingMutualInformation: UnsafeBufferPointer<Float>? {
        configuration.routing.samples > 0 ? UnsafeBufferPointer(routingInformationOut) : nil
    }
    /// The K routing gate samples g^(k) of the last frame: K×E (simple) or K×E×C.
    public var routingGateSamples: UnsafeBufferPointer<Float> { UnsafeBufferPointer(routingGatesOut) }

    // MARK: Computation

    /// Computes every configured map. `expertLogits` holds E planes of C×H×W (expert-major),
    /// `gateLogits` E (simple) or E×C (classwise, a[e·C + c]) values; `frameIndex` selects
    /// the routing sample stream together with the configured seed.
    public func compute(expertLogits: UnsafeBufferPointer<Float>, gateLogits: UnsafeBufferPointer<Float>,
                        frameIndex: UInt64 = 0) throws {
        let gateCount = geometry.experts * gateColumns
        guard expertLogits.count == geometry.expertLogitCount, let logits = expertLogits.baseAddress else {
            throw MixtureError.bufferSize(name: "expert logits", expected: geometry.expertLogitCount, actual: expertLogits.count)
        }
        guard gateLogits.count == gateCount, let gate = gateLogits.baseAddress else {
            throw MixtureError.bufferSize(name: "gate logits", expected: gateCount, actual: gateLogits.count)
        }
        self.frameIndex = frameIndex
        computeGate(gate)
        if configuration.routing.samples > 0 { drawRoutingGates(gate, frameIndex: frameIndex) }
        var start = 0
        while start < geometry.pixels {
            let count = min(tile, geometry.pixels - start)
            processTile(logits, start: start, count: count)
            start += count
        }
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

    /// K routing gates g^(k) = softmax((a + G)/T) per column, G standard Gumbel drawn in the
    /// order k, then e, then c (e-major, as a is stored); T = 0 takes the one-hot argmax.
    private func drawRoutingGates(_ gate: UnsafePointer<Float>, frameIndex: UInt64) {
        let e = geometry.experts, c = geometry.classes
        let routing = configuration.routing
        var generator = Xoshiro256StarStar(seed: routing.seed, frameIndex: frameIndex)
        let w = column.baseAddress!
        let perSample = e * gateColumns
        for k in 0..<routing.samples {
            for j in 0..<perSample { noise[j] = generator.nextGumbel() }
            let out = routingGatesOut.baseAddress! + k * perSample
            for col in 0..<gateColumns {
                for i in 0..<e { w[i] = Double(gate[i * gateColumns + col]) + noise[i * gateColumns + col] }
                if routing.temperature == 0 {
                    GateMath.hardMaximum(w, count: e)
                } else {
                    for i in 0..<e { w[i] /= routing.temperature }
                    GateMath.softmax(w, count: e)
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

    private func processTile(_ logits: UnsafePointer<Float>, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels
        let t = tile
        let scratch = PlaneKernels.SoftmaxScratch(maximum: rowMaximum.baseAddress!, sum: rowSum.baseAddress!,
                                                  dot: rowDot.baseAddress!)
        let probabilitiesBase = expertProbabilities.baseAddress!
        let entropyBase = expertEntropy.baseAddress!
        let moe = probabilitiesOut.baseAddress! + start
        let prediction = predictionOut.baseAddress! + start
        let tileLogits = logits + start
        let expertStride = c * pixels

        for i in 0..<e {
            PlaneKernels.softmaxEntropy(logits: tileLogits + i * expertStride, logitStride: pixels, classes: c, count: n,
                                        probabilities: probabilitiesBase + i * c * t, probabilityStride: t,
                                        entropy: entropyBase + i * t, scratch: scratch)
        }

        let moeH = moeEntropy.baseAddress!
        switch configuration.combine {
        case .logits:
            let z = moeLogits.baseAddress!
            for j in 0..<c {
                PlaneKernels.weightedSum(planes: tileLogits + j * pixels, planeStride: expertStride,
                                         weights: gateTable.baseAddress! + j, weightStride: c, terms: e, count: n,
                                         into: z + j * t)
            }
            PlaneKernels.argmax(planes: z, stride: t, classes: c, count: n, index: prediction)
            PlaneKernels.softmaxEntropy(logits: z, logitStride: t, classes: c, count: n,
                                        probabilities: moe, probabilityStride: pixels, entropy: moeH, scratch: scratch)
        case .probabilities:
            for j in 0..<c {
                PlaneKernels.weightedSum(planes: probabilitiesBase + j * t, planeStride: c * t,
                                         weights: gateTable.baseAddress! + j, weightStride: c, terms: e, count: n,
                                         into: moe + j * pixels)
            }
            // Classwise weights do not sum to 1 over classes; renormalise so p_moe is a distribution.
            if configuration.gate == .classwise {
                PlaneKernels.normalise(planes: moe, stride: pixels, classes: c, count: n, sum: rowSum.baseAddress!)
            }
            PlaneKernels.argmax(planes: moe, stride: pixels, classes: c, count: n, index: prediction)
            moeH.update(repeating: 0, count: n)
            for j in 0..<c { PlaneKernels.accumulateXLogX(moe + j * pixels, scale: 1, into: moeH, count: n) }
            PlaneKernels.negate(moeH, count: n)
        }

        memberSetMaps(start: start, count: n)
        expertVarianceAndGateMap(start: start, count: n)
        if configuration.routing.samples > 0 { routingMaps(tileLogits, start: start, count: n) }
    }

    /// PE and MI of the stacked, weighted and ensemble member sets.
    private func memberSetMaps(start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let probabilitiesBase = expertProbabilities.baseAddress!
        let moe = probabilitiesOut.baseAddress! + start
        let sum = classSum.baseAddress!
        if hasStacked { sumStacked.baseAddress!.update(repeating: 0, count: n) }
        if hasWeighted { sumWeighted.baseAddress!.update(repeating: 0, count: n) }
        if hasEnsemble { sumEnsemble.baseAddress!.update(repeating: 0, count: n) }
        for j in 0..<c {
            let plane = probabilitiesBase + j * t
            sum.update(from: plane, count: n)
            for i in 1..<e { PlaneKernels.add(plane + i * c * t, into: sum, count: n) }
            if hasEnsemble {
                PlaneKernels.accumulateXLogX(sum, scale: 1 / Float(e), into: sumEnsemble.baseAddress!, count: n)
            }
            if hasStacked {
                PlaneKernels.accumulateXLogX(moe + j * pixels, plus: sum, scale: 1 / Float(e + 1),
                                             into: sumStacked.baseAddress!, count: n)
            }
            if hasWeighted {
                // With the probabilities rule and a simple gate, Σ_e g_e p_e is p_moe itself.
                let mean: UnsafePointer<Float>
                if configuration.combine == .probabilities {
                    mean = UnsafePointer(moe + j * pixels)
                } else {
                    PlaneKernels.weightedSum(planes: plane, planeStride: c * t, weights: gateSimpleWeights.baseAddress!,
                                             weightStride: 1, terms: e, count: n, into: classWeighted.baseAddress!)
                    mean = UnsafePointer(classWeighted.baseAddress!)
                }
                PlaneKernels.accumulateXLogX(mean, scale: 1, into: sumWeighted.baseAddress!, count: n)
            }
        }
        let members = memberEntropy.baseAddress!
        let entropies = expertEntropy.baseAddress!
        for set in MemberSet.allCases {
            let accumulator: UnsafeMutableBufferPointer<Float>
            switch set {
            case .stacked:
                guard hasStacked else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: stackedWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                PlaneKernels.addScaled(moeEntropy.baseAddress!, factor: 1 / Float(e + 1), into: members, count: n)
                accumulator = sumStacked
            case .weighted:
                guard hasWeighted else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: gateSimpleWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                accumulator = sumWeighted
            case .ensemble:
                guard hasEnsemble else { continue }
                PlaneKernels.weightedSum(planes: entropies, planeStride: t, weights: ensembleWeights.baseAddress!,
                                         weightStride: 1, terms: e, count: n, into: members)
                accumulator = sumEnsemble
            }
            PlaneKernels.finishEntropyMaps(sumXLogX: accumulator.baseAddress!, memberEntropy: members,
                                           inverseLogClasses: inverseLogClasses, count: n,
                                           predictiveEntropy: entropyOut[set]!.baseAddress! + start,
                                           mutualInformation: informationOut[set]!.baseAddress! + start)
        }
    }

    /// EV at the predicted class, and the classwise gate-entropy map; both read one class per
    /// pixel, so a gather of E + 1 values beats a masked pass over all C planes.
    private func expertVarianceAndGateMap(start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let probabilitiesBase = expertProbabilities.baseAddress!
        let moe = probabilitiesOut.baseAddress! + start
        let prediction = predictionOut.baseAddress! + start
        let variance = expertVarianceOut.baseAddress! + start
        let inverseExperts = 1 / Float(e)
        for i in 0..<n {
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
    private func routingMaps(_ tileLogits: UnsafePointer<Float>, start: Int, count n: Int) {
        let e = geometry.experts, c = geometry.classes, pixels = geometry.pixels, t = tile
        let samples = configuration.routing.samples
        let scratch = PlaneKernels.SoftmaxScratch(maximum: rowMaximum.baseAddress!, sum: rowSum.baseAddress!,
                                                  dot: rowDot.baseAddress!)
        let z = sampleLogits.baseAddress!, p = sampleExponentials.baseAddress!, sum = routingSum.baseAddress!
        let members = routingMemberEntropy.baseAddress!
        sum.update(repeating: 0, count: c * t)
        members.update(repeating: 0, count: n)
        for k in 0..<samples {
            let table = routingTable.baseAddress! + k * e * c
            for j in 0..<c {
                PlaneKernels.weightedSum(planes: tileLogits + j * pixels, planeStride: c * pixels,
                                         weights: table + j, weightStride: c, terms: e, count: n, into: z + j * t)
            }
            PlaneKernels.accumulateSoftmaxEntropy(logits: z, logitStride: t, classes: c, count: n, exponentials: p,
                                                  probabilitySum: sum, sumStride: t, entropySum: members, scratch: scratch)
        }
        let inverseSamples = 1 / Float(samples)
        let xlogx = routingSumXLogX.baseAddress!
        xlogx.update(repeating: 0, count: n)
        for j in 0..<c { PlaneKernels.accumulateXLogX(sum + j * t, scale: inverseSamples, into: xlogx, count: n) }
        PlaneKernels.scale(members, by: inverseSamples, count: n)
        PlaneKernels.finishEntropyMaps(sumXLogX: xlogx, memberEntropy: members, inverseLogClasses: inverseLogClasses,
                                       count: n, predictiveEntropy: routingEntropyOut.baseAddress! + start,
                                       mutualInformation: routingInformationOut.baseAddress! + start)
    }
}
