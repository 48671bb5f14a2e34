import Engine
import Foundation
import Sensors

/// The per-pixel maps a runner can produce (published under these names).
public enum UncertaintyMap: String, CaseIterable, Sendable {
    case peStacked = "pe_stacked", miStacked = "mi_stacked"
    case peWeighted = "pe_weighted", miWeighted = "mi_weighted"
    /// PE/MI of the uniformly weighted experts (a mixture's experts, an ensemble, MC-dropout passes).
    case peEnsemble = "pe_ensemble", miEnsemble = "mi_ensemble"
    case ev
    case gateEntropy = "gate_entropy"
    case routingPE = "routing_pe", routingMI = "routing_mi"
}

extension UncertaintyMap {
    /// Names a configuration may use for maps: each map's own, and `pe` / `mi` for the PE and MI
    /// of the model's principal member set (`principal(for:)`).
    public static let configurableNames = ["pe", "mi"] + allCases.map(\.rawValue)

    /// PE and MI of the member set that summarises a model best: the gate-weighted experts for a
    /// simple gate (its MI tells routing doubt from the experts' routine disagreement, docs/demo-model.md),
    /// the stacked set for a classwise gate (which has no weighted set), the members for an
    /// ensemble or MC dropout; nil for a single network.
    public static func principal(for manifest: MixtureManifest) -> (pe: UncertaintyMap, mi: UncertaintyMap)? {
        switch manifest.kind {
        case .mixture: manifest.gate?.kind == .simple ? (.peWeighted, .miWeighted) : (.peStacked, .miStacked)
        case .ensemble, .mcDropout: (.peEnsemble, .miEnsemble)
        case .single: nil
        }
    }

    /// The maps `names` stand for with `manifest`'s model (`pe`/`mi` resolved; names that are
    /// neither a map nor an alias are dropped, as configurations are validated by name first).
    public static func resolve(_ names: [String], for manifest: MixtureManifest) -> Set<UncertaintyMap> {
        let principal = principal(for: manifest)
        return Set(names.compactMap { name in
            switch name {
            case "pe": principal?.pe
            case "mi": principal?.mi
            default: UncertaintyMap(rawValue: name)
            }
        })
    }
}

/// How a runner runs a model.
public struct MixtureRunOptions: Sendable {
    /// Threads each expert session uses for its layers.
    public var threads: Int
    /// CPUs to pin the expert workers to (worker i → cpus[i % count]); empty: no pinning.
    public var cpus: [Int]
    /// Routing samples (K, T, seed, form); the seed also seeds MC-dropout masks.
    public var routing: RoutingSampling
    /// Maps computed per frame (changeable later through `enabledMaps`).
    public var maps: Set<UncertaintyMap>
    /// Pixel MI threshold for the uncertain-pixel fraction score.
    public var mutualInformationPixelThreshold: Float
    /// Run the experts concurrently (one worker each); false runs them one after another on the
    /// caller's thread (for comparison).
    public var parallelExperts: Bool
    /// Keep z_moe for `MixtureFrameResult.moeLogits` (costs one C-plane write per frame).
    public var keepsMixedLogits: Bool
    /// Keep p_moe for `MixtureFrameResult.probabilities` (costs one C-plane write per frame).
    public var keepsProbabilities: Bool
    /// Temperature T of the members' logits (z/T before every softmax), as temperature
    /// scaling fits it (`moeseg calibrate`); 1 leaves the model as trained and costs nothing.
    public var temperature: Double = 1

    public init(threads: Int = 1, cpus: [Int] = [], routing: RoutingSampling = .disabled,
                maps: Set<UncertaintyMap> = Set(UncertaintyMap.allCases), mutualInformationPixelThreshold: Float = 0.1,
                parallelExperts: Bool = true, keepsMixedLogits: Bool = false, keepsProbabilities: Bool = false) {
        self.threads = threads
        self.cpus = cpus
        self.routing = routing
        self.maps = maps
        self.mutualInformationPixelThreshold = mutualInformationPixelThreshold
        self.parallelExperts = parallelExperts
        self.keepsMixedLogits = keepsMixedLogits
        self.keepsProbabilities = keepsProbabilities
    }
}

/// Wall-clock seconds of each stage of one frame.
public struct StageTimings: Sendable {
    public var preprocess: Double = 0
    /// Per expert (MC dropout: per pass); in parallel runs these overlap.
    public var experts: [Double] = []
    /// Wall time of the whole expert stage.
    public var expertStage: Double = 0
    public var gate: Double = 0
    /// Mixing, "+conv" and the prediction (mixtures mix inside the uncertainty pass; see docs/mixture.md).
    public var combine: Double = 0
    public var uncertainty: Double = 0
    public var total: Double = 0
    /// CPU seconds the expert runs took on their threads, summed (independent of machine load).
    public var expertsCPU: Double = 0
    /// CPU seconds of the uncertainty stage, summed over the threads that computed it.
    public var uncertaintyCPU: Double = 0
}

/// CPU time of the calling thread, nanoseconds.
@inline(__always)
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// One frame's results: views into the runner's reused buffers, valid until its next `process`.
public struct MixtureFrameResult {
    /// Model resolution.
    public let width: Int, height: Int
    /// H×W class ids.
    public let prediction: UnsafeBufferPointer<UInt8>
    public let scores: FrameScores
    public let timings: StageTimings
    /// Frame index used for the routing samples and dropout masks.
    public let frameIndex: UInt64
    private let runner: MixtureRunner

    init(runner: MixtureRunner, scores: FrameScores, timings: StageTimings, frameIndex: UInt64) {
        self.runner = runner
        width = runner.model.manifest.input.width
        height = runner.model.manifest.input.height
        prediction = UnsafeBufferPointer(runner.predictionOut)
        self.scores = scores
        self.timings = timings
        self.frameIndex = frameIndex
    }

    /// An H×W map, nil if not computed this frame or not applicable to the model.
    public func map(_ m: UncertaintyMap) -> UnsafeBufferPointer<Float>? { runner.mapBuffer(m) }
    /// Expert e's C×H×W logits (MC dropout: pass e).
    public func expertLogits(_ e: Int) -> UnsafeBufferPointer<Float> { runner.expertLogits(e) }
    /// MC dropout: the 0/1 mask pass `pass` of this frame used, and the mask input's shape (made
    /// again from the seed and frame index, so it allocates); nil for other models.
    public func dropoutMask(pass: Int) -> (shape: [Int], values: [Float])? { runner.dropoutMask(pass: pass, frameIndex: frameIndex) }
    /// Gate logits (E or E×C, e-major), nil without a gate.
    public var gateLogits: UnsafeBufferPointer<Float>? { runner.gateLogits }
    /// Gate weights g (E or E×C, e-major), nil without a gate.
    public var gateWeights: UnsafeBufferPointer<Float>? { runner.uncertainty?.gateWeights }
    /// z_moe (C×H×W, after "+conv") when the runner keeps it and the rule is `logits`.
    public var moeLogits: UnsafeBufferPointer<Float>? { runner.moeLogits }
    /// The mixture's class probabilities (C×H×W): p_moe (empty unless the options keep it), or
    /// p̄ for ensembles and MC dropout.
    public var probabilities: UnsafeBufferPointer<Float> { runner.probabilities }
}

/// Runs a loaded model frame after frame: preprocessing, experts in parallel (one pinned
/// worker each), gate, combination and uncertainty. Buffers are allocated at init; `process`
/// allocates nothing in steady state. Not thread-safe: one caller at a time.
public final class MixtureRunner {
    public let model: MixtureModel
    public let options: MixtureRunOptions

    private let sessions: [InferenceSession]
    private let gateSession: InferenceSession?
    private let convSession: InferenceSession?
    private let preprocessor: Preprocessor
    private let arena = Arena()
    private let input: UnsafeMutableBufferPointer<Float>
    let predictionOut: UnsafeMutableBufferPointer<UInt8>
    private let gateEntropyPlane: UnsafeMutableBufferPointer<Float>
    /// MC dropout: the S passes' logits; masks per worker.
    private let passLogits: UnsafeMutableBufferPointer<Float>
    let uncertainty: MixtureUncertainty?
    private let sampleSet: SampleSetUncertainty?
    private var workers: [PinnedWorker] = []
    private let uncertaintyParts: Int
    private var timings = StageTimings()
    private var frameCounter: UInt64 = 0
    private var currentFrame: UInt64 = 0
    private var activeMaps: Set<UncertaintyMap>
    private var activeSamples: Int
    private let pixels: Int
    private let mixWeights: UnsafeMutableBufferPointer<Float>
    private let mixColumn: UnsafeMutableBufferPointer<Double>
    /// Per-thread CPU nanoseconds of the current stage (one slot per worker or part).
    private let cpuSlots: UnsafeMutableBufferPointer<UInt64>
    /// Wall seconds of each expert (or pass), written by the workers; copied into `timings`
    /// on the caller's thread (workers never touch a Swift array another result may share).
    private let expertSeconds: UnsafeMutableBufferPointer<Double>

    private enum Phase: Int { case preprocess, experts, uncertainty }
    private var phase = Phase.experts

    /// Builds sessions (each with `options.threads` threads), workers and every buffer.
    public init(model: MixtureModel, options: MixtureRunOptions) throws {
        guard options.temperature.isFinite, (0.05...20).contains(options.temperature) else {
            throw MixtureError.invalidConfiguration("temperature must be in 0.05...20, got \(options.temperature)")
        }
        guard options.threads >= 1, options.threads <= 64 else {
            throw MixtureError.invalidConfiguration("threads per expert must be in 1...64, got \(options.threads)")
        }
        let manifest = model.manifest
        self.model = model
        self.options = options
        let h = manifest.input.height, w = manifest.input.width, c = model.classes
        pixels = h * w
        let kind = manifest.kind
        let processors = max(1, options.cpus.isEmpty ? ProcessInfo.processInfo.activeProcessorCount : options.cpus.count)
        // MC dropout runs its passes on one copy of the expert per worker.
        let copies = kind == .mcDropout && options.parallelExperts ? min(processors, manifest.mcDropout!.passes) : 1
        let made = try model.makeSessions(threads: options.threads, expertCopies: copies)
        sessions = made.experts
        gateSession = made.gate
        convSession = made.conv
        input = arena.floats(3 * pixels)
        mixWeights = arena.floats(manifest.experts.count * c)
        mixColumn = arena.doubles(manifest.experts.count)
        predictionOut = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: pixels)
        predictionOut.initialize(repeating: 0)
        gateEntropyPlane = arena.floats(manifest.gate?.kind == .simple ? pixels : 0)
        let passes = manifest.mcDropout?.passes ?? 0
        passLogits = arena.floats(passes * c * pixels)
        activeMaps = options.maps
        activeSamples = options.routing.samples
        let workerCount = kind == .mcDropout ? copies : manifest.experts.count
        uncertaintyParts = options.parallelExperts ? max(1, min(workerCount, processors)) : 1
        preprocessor = Preprocessor(input: manifest.input, parts: uncertaintyParts)
        cpuSlots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(workerCount, uncertaintyParts, 1))
        cpuSlots.initialize(repeating: 0)
        expertSeconds = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, kind == .mcDropout ? passes : manifest.experts.count))
        expertSeconds.initialize(repeating: 0)

        switch kind {
        case .mixture:
            let gate = manifest.gate!
            var sets: Set<MemberSet> = [.stacked, .ensemble]
            if gate.kind == .simple { sets.insert(.weighted) }
            let geometry = try MixtureGeometry(experts: manifest.experts.count, classes: c, height: h, width: w)
            let configuration = MixtureConfiguration(gate: gate.kind, combine: manifest.combineRule, memberSets: sets,
                                                     routing: options.routing, keepsMixedLogits: options.keepsMixedLogits,
                                                     keepsProbabilities: options.keepsProbabilities)
            uncertainty = try MixtureUncertainty(geometry: geometry, configuration: configuration, parts: uncertaintyParts)
            sampleSet = nil
        case .ensemble, .mcDropout, .single:
            uncertainty = nil
            let members = kind == .mcDropout ? passes : manifest.experts.count
            sampleSet = try SampleSetUncertainty(samples: members, classes: c, height: h, width: w, parts: uncertaintyParts)
            sampleSet!.setPredictionBytes(predictionOut.baseAddress)
            sampleSet!.scoreThreshold = options.mutualInformationPixelThreshold
        }
        if kind == .mcDropout {
            for s in 0..<passes { sampleSet!.setSampleLogits(s, UnsafePointer(passLogits.baseAddress! + s * c * pixels)) }
        } else if let sampleSet {
            for e in 0..<manifest.experts.count {
                sampleSet.setSampleLogits(e, sessions[e].outputBuffer(model.experts[e].logitsOutput).baseAddress!)
            }
        }
        if let uncertainty {
            for e in 0..<manifest.experts.count {
                uncertainty.setExpertLogits(e, sessions[e].outputBuffer(model.experts[e].logitsOutput).baseAddress!)
            }
            // The parallel pass writes the published prediction bytes and the frame scores itself.
            uncertainty.setPredictionBytes(predictionOut.baseAddress)
            uncertainty.scoreThreshold = options.mutualInformationPixelThreshold
        }
        timings.experts = [Double](repeating: 0, count: kind == .mcDropout ? passes : manifest.experts.count)
        applyEnabledMaps()
        if options.parallelExperts && workerCount > 1 {
            for i in 0..<workerCount {
                let cpu = options.cpus.isEmpty ? nil : options.cpus[i % options.cpus.count]
                workers.append(PinnedWorker(name: "moeseg-expert-\(i)", cpu: cpu) { [unowned self] in self.work(i) })
            }
        }
    }

    deinit {
        for worker in workers { worker.stop() }
        predictionOut.deallocate()
        cpuSlots.deallocate()
        expertSeconds.deallocate()
    }

    /// Routing samples per frame, 0...configured K (fewer when the frame budget is tight).
    public var routingSamples: Int {
        get { activeSamples }
        set {
            activeSamples = max(0, min(newValue, options.routing.samples))
            applyEnabledMaps()
        }
    }

    /// Maps computed per frame; maps not enabled are not computed.
    public var enabledMaps: Set<UncertaintyMap> {
        get { activeMaps }
        set {
            activeMaps = newValue
            applyEnabledMaps()
        }
    }

    private func applyEnabledMaps() {
        guard let uncertainty else { return }
        var sets: Set<MemberSet> = []
        if !activeMaps.isDisjoint(with: [.peStacked, .miStacked]) { sets.insert(.stacked) }
        if !activeMaps.isDisjoint(with: [.peWeighted, .miWeighted]) { sets.insert(.weighted) }
        if !activeMaps.isDisjoint(with: [.peEnsemble, .miEnsemble]) { sets.insert(.ensemble) }
        uncertainty.activeMemberSets = sets
        uncertainty.computesExpertVariance = activeMaps.contains(.ev)
        uncertainty.writtenEntropies = Set([(MemberSet.stacked, UncertaintyMap.peStacked), (.weighted, .peWeighted),
                                            (.ensemble, .peEnsemble)].filter { activeMaps.contains($0.1) }.map(\.0))
        uncertainty.writesRoutingEntropy = activeMaps.contains(.routingPE)
        uncertainty.routingSamples = activeMaps.isDisjoint(with: [.routingPE, .routingMI]) ? 0 : activeSamples
        let fillsGateEntropy = model.manifest.gate?.kind == .simple && activeMaps.contains(.gateEntropy)
        uncertainty.setGateEntropyPlane(fillsGateEntropy ? gateEntropyPlane.baseAddress : nil)
    }

    /// The normalised 3×H×W input the next `process(input:)` may be written into directly.
    public var inputBuffer: UnsafeMutableBufferPointer<Float> { input }

    /// Preprocesses a camera frame and runs the model on it; the frame's sequence number is the
    /// frame index of routing samples and dropout masks (so replays reproduce them).
    public func process(frame: Frame) throws -> MixtureFrameResult {
        let t0 = DispatchTime.now().uptimeNanoseconds
        // The workers wait for the experts anyway: they preprocess a share of the rows each.
        try preprocessor.withFrame(frame, into: input.baseAddress!) {
            if workers.isEmpty || preprocessor.parts == 1 { preprocessor.rows(part: 0, of: 1) } else { dispatch(.preprocess) }
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        return try run(frameIndex: frame.sequence, start: t0, preprocess: Double(t1 - t0) / 1e9)
    }

    /// Runs the model on an already-normalised NCHW input (3×H×W values); frames are numbered
    /// 0, 1, 2… by this runner.
    public func process(input values: UnsafeBufferPointer<Float>) throws -> MixtureFrameResult {
        guard values.count == input.count, let base = values.baseAddress else {
            throw MixtureError.bufferSize(name: "input", expected: input.count, actual: values.count)
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        if base != UnsafePointer(input.baseAddress!) { input.baseAddress!.update(from: base, count: input.count) }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let index = frameCounter
        frameCounter &+= 1
        return try run(frameIndex: index, start: t0, preprocess: Double(t1 - t0) / 1e9)
    }

    private func run(frameIndex: UInt64, start: UInt64, preprocess: Double) throws -> MixtureFrameResult {
        currentFrame = frameIndex
        timings.preprocess = preprocess
        let t0 = DispatchTime.now().uptimeNanoseconds
        cpuSlots.update(repeating: 0)
        if workers.isEmpty {
            for i in 0..<max(1, sessionsWorkerCount) { work(i, of: max(1, sessionsWorkerCount)) }
        } else {
            dispatch(.experts)
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        timings.expertStage = Double(t1 - t0) / 1e9
        timings.expertsCPU = Double(cpuSlots.reduce(0, &+)) / 1e9
        for i in timings.experts.indices { timings.experts[i] = expertSeconds[i] }
        cpuSlots.update(repeating: 0)
        var scores = FrameScores()
        let manifest = model.manifest
        if let uncertainty, let gate = gateSession {
            for (e, index) in model.gateInputs.enumerated() {
                let features = sessions[e].outputBuffer(model.experts[e].featuresOutput!)
                gate.inputBuffer(index).baseAddress!.update(from: features.baseAddress!, count: features.count)
            }
            gate.run()
            let t2 = DispatchTime.now().uptimeNanoseconds
            timings.gate = Double(t2 - t1) / 1e9
            var moe: UnsafePointer<Float>? = nil
            if let conv = convSession {
                mix(into: conv.inputBuffer(0).baseAddress!, gateLogits: gate.outputBuffer(model.gateOutput))
                conv.run()
                moe = conv.outputBuffer(0).baseAddress!
            }
            let t3 = DispatchTime.now().uptimeNanoseconds
            let c3 = threadCPUNanos()
            timings.combine = Double(t3 - t2) / 1e9
            try uncertainty.prepare(gateLogits: gate.outputBuffer(model.gateOutput), moeLogits: moe, frameIndex: frameIndex)
            if workers.isEmpty || uncertaintyParts == 1 {
                for p in 0..<uncertaintyParts { uncertainty.computeTiles(part: p, of: uncertaintyParts) }
            } else {
                cpuSlots.update(repeating: 0)
                dispatch(.uncertainty)
            }
            uncertainty.finish()
            // A simple gate's weighted MI is the one that tells routing doubt from the experts'
            // routine disagreement (docs/demo-model.md: frame AUROC 0.99 vs 0.65 for stacked).
            let mi: MemberSet = manifest.gate!.kind == .simple && activeMaps.contains(.miWeighted) ? .weighted
                : activeMaps.isDisjoint(with: [.peStacked, .miStacked]) ? .ensemble : .stacked
            scores = uncertainty.frameScores(mutualInformationFrom: mi, pixelThreshold: options.mutualInformationPixelThreshold)
            let t4 = DispatchTime.now().uptimeNanoseconds
            timings.uncertainty = Double(t4 - t3) / 1e9
            timings.uncertaintyCPU = Double((threadCPUNanos() - c3) &+ cpuSlots.reduce(0, &+)) / 1e9
        } else if let sampleSet {
            let t2 = DispatchTime.now().uptimeNanoseconds
            let c2 = threadCPUNanos()
            if workers.isEmpty || uncertaintyParts == 1 {
                for p in 0..<uncertaintyParts { sampleSet.computeTiles(part: p, of: uncertaintyParts) }
            } else {
                cpuSlots.update(repeating: 0)
                dispatch(.uncertainty)
            }
            if sampleSet.samples > 1 {
                (scores.meanMutualInformation, scores.uncertainPixelFraction) =
                    sampleSet.frameScores(pixelThreshold: options.mutualInformationPixelThreshold)
            }
            timings.gate = 0
            timings.combine = 0
            timings.uncertainty = Double(DispatchTime.now().uptimeNanoseconds - t2) / 1e9
            timings.uncertaintyCPU = Double((threadCPUNanos() - c2) &+ cpuSlots.reduce(0, &+)) / 1e9
        }
        timings.total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return MixtureFrameResult(runner: self, scores: scores, timings: timings, frameIndex: frameIndex)
    }

    /// z_moe = Σ_e g_e z_e for the "+conv" input (gate softmax in float64, as the uncertainty pass).
    private func mix(into out: UnsafeMutablePointer<Float>, gateLogits: UnsafeBufferPointer<Float>) {
        let e = model.manifest.experts.count, c = model.classes
        let columns = model.manifest.gate!.kind == .simple ? 1 : c
        let weights = mixWeights, column = mixColumn
        for col in 0..<columns {
            for i in 0..<e { column[i] = Double(gateLogits[i * columns + col]) }
            GateMath.softmax(column.baseAddress!, count: e)
            for i in 0..<e {
                if columns == 1 { for j in 0..<c { weights[i * c + j] = Float(column[i]) } } else { weights[i * c + col] = Float(column[i]) }
            }
        }
        for j in 0..<c {
            let dst = out + j * pixels
            let w0 = weights[j]
            let first = sessions[0].outputBuffer(model.experts[0].logitsOutput).baseAddress! + j * pixels
            for i in 0..<pixels { dst[i] = w0 * first[i] }
            for k in 1..<e {
                let w = weights[k * c + j]
                let row = sessions[k].outputBuffer(model.experts[k].logitsOutput).baseAddress! + j * pixels
                for i in 0..<pixels { dst[i] += w * row[i] }
            }
        }
    }

    func dropoutMask(pass: Int, frameIndex: UInt64) -> (shape: [Int], values: [Float])? {
        guard let mc = model.manifest.mcDropout, (0..<mc.passes).contains(pass),
              let port = sessions[0].inputs.first(where: { $0.name == MixtureModel.maskInputName }) else { return nil }
        var values = [Float](repeating: 0, count: port.info.shape.reduce(1, *))
        values.withUnsafeMutableBufferPointer {
            DropoutMask.fill($0, rate: mc.rate, seed: options.routing.seed, frameIndex: frameIndex, pass: pass)
        }
        return (port.info.shape, values)
    }

    private var sessionsWorkerCount: Int { model.manifest.kind == .mcDropout ? sessions.count : model.manifest.experts.count }

    private func dispatch(_ next: Phase) {
        phase = next
        for worker in workers { worker.start() }
        for worker in workers { worker.wait() }
    }

    /// Worker `index`'s share of the current phase.
    private func work(_ index: Int) {
        switch phase {
        case .preprocess:
            if index < preprocessor.parts { preprocessor.rows(part: index, of: preprocessor.parts) }
        case .experts: work(index, of: workers.count)
        case .uncertainty:
            guard index < uncertaintyParts else { return }
            let c0 = threadCPUNanos()
            if let uncertainty {
                uncertainty.computeTiles(part: index, of: uncertaintyParts)
            } else {
                sampleSet!.computeTiles(part: index, of: uncertaintyParts)
            }
            cpuSlots[index] = threadCPUNanos() - c0
        }
    }

    /// Expert `index` (MC dropout: the passes index, index + count, …) on this thread.
    private func work(_ index: Int, of count: Int) {
        let manifest = model.manifest
        if let mc = manifest.mcDropout {
            let session = sessions[index]
            let interface = model.experts[0]
            let imageIndex = session.inputs.firstIndex { $0.name == interface.imageInput }!
            let maskIndex = session.inputs.firstIndex { $0.name == MixtureModel.maskInputName }!
            let c = model.classes
            var pass = index
            while pass < mc.passes {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let c0 = threadCPUNanos()
                session.inputBuffer(imageIndex).baseAddress!.update(from: input.baseAddress!, count: input.count)
                DropoutMask.fill(session.inputBuffer(maskIndex), rate: mc.rate, seed: options.routing.seed,
                                 frameIndex: currentFrame, pass: pass)
                session.run()
                let logits = session.outputBuffer(interface.logitsOutput)
                (passLogits.baseAddress! + pass * c * pixels).update(from: logits.baseAddress!, count: logits.count)
                scaleByTemperature(UnsafeMutableBufferPointer(rebasing: passLogits[(pass * c * pixels)..<((pass + 1) * c * pixels)]))
                expertSeconds[pass] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                cpuSlots[index] &+= threadCPUNanos() - c0
                pass += count
            }
            return
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let c0 = threadCPUNanos()
        let session = sessions[index]
        session.inputBuffer(0).baseAddress!.update(from: input.baseAddress!, count: input.count)
        session.run()
        let logits = session.outputBuffer(model.experts[index].logitsOutput)
        scaleByTemperature(UnsafeMutableBufferPointer(mutating: logits))
        expertSeconds[index] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        cpuSlots[index] &+= threadCPUNanos() - c0
    }

    func mapBuffer(_ m: UncertaintyMap) -> UnsafeBufferPointer<Float>? {
        guard activeMaps.contains(m) else { return nil }
        if let u = uncertainty {
            switch m {
            case .peStacked: return u.predictiveEntropy(.stacked)
            case .miStacked: return u.mutualInformation(.stacked)
            case .peWeighted: return u.predictiveEntropy(.weighted)
            case .miWeighted: return u.mutualInformation(.weighted)
            case .peEnsemble: return u.predictiveEntropy(.ensemble)
            case .miEnsemble: return u.mutualInformation(.ensemble)
            case .ev: return u.expertVariance
            case .gateEntropy: return u.gateEntropyMap ?? UnsafeBufferPointer(gateEntropyPlane)
            case .routingPE: return u.routingEntropy
            case .routingMI: return u.routingMutualInformation
            }
        }
        if let s = sampleSet, s.samples > 1 {
            switch m {
            case .peEnsemble: return s.predictiveEntropy
            case .miEnsemble: return s.mutualInformation
            default: return nil
            }
        }
        return nil
    }

    /// z ← z/T on one member's logits in place (the buffers are rewritten by the next frame), on
    /// the worker that computed them while they are still in its cache.
    private func scaleByTemperature(_ logits: UnsafeMutableBufferPointer<Float>) {
        guard options.temperature != 1, let p = logits.baseAddress else { return }
        let factor = Float(1 / options.temperature)
        for i in 0..<logits.count { p[i] *= factor }
    }

    func expertLogits(_ e: Int) -> UnsafeBufferPointer<Float> {
        if model.manifest.mcDropout != nil {
            let n = model.classes * pixels
            return UnsafeBufferPointer(rebasing: passLogits[(e * n)..<((e + 1) * n)])
        }
        return sessions[e].outputBuffer(model.experts[e].logitsOutput)
    }

    var gateLogits: UnsafeBufferPointer<Float>? { gateSession?.outputBuffer(model.gateOutput) }
    var moeLogits: UnsafeBufferPointer<Float>? { uncertainty?.mixedLogits }
    var probabilities: UnsafeBufferPointer<Float> { uncertainty?.probabilities ?? sampleSet!.mean }
}
