import Foundation
import Mixture
import Sensors
import Wire

/// The production stage: the mixture runner feeding the ZeroMQ publisher (and, for
/// `moeseg record --with-results`, a results recorder that sees the same messages).
public final class MixtureStage: FrameStage {
    /// The maps each budget step computes.
    public struct MapSelection: Sendable {
        public var all: Set<UncertaintyMap>
        public var essential: Set<UncertaintyMap>
    }

    private let runner: MixtureRunner
    private let publisher: Publisher
    private let maps: MapSelection
    private let routingSamples: Int
    private let modelID: String
    private var meta: Moeseg_V1_Meta
    private let enterFrames: Int
    private let exitFrames: Int
    private var last: MixtureFrameResult?
    /// Published maps in a fixed order (no set iteration per frame).
    private var publishedMaps: [UncertaintyMap] = []
    private var header = Moeseg_V1_Header()
    private var verdictMessage = Moeseg_V1_OodVerdict()
    /// The verdict's scores, updated in place (lent to `verdictMessage` only while it is sent).
    private var scores: [Moeseg_V1_OodScore] = []
    /// Also writes every published message to a recording (`moeseg record --with-results`).
    public var recorder: ResultRecorder? {
        didSet { recordMeta() }
    }

    /// Writes the current meta message to the recorder (each file of a split recording starts with one).
    public func recordMeta() {
        recorder?.record(.meta, publisher.currentMeta, logTime: realtimeNow())
    }

    /// Told (peer address, cap) when a subscriber's connections were cut for holding too many subscriptions.
    public var onPeerCutOff: ((String, Int) -> Void)?
    private var reportedCutOffs: UInt64 = 0

    /// A stage over a loaded runner and a bound publisher; sends meta with `thresholds`.
    public init(runner: MixtureRunner, publisher: Publisher, maps: MapSelection, routingSamples: Int,
                thresholds: OODThresholds, enterFrames: Int, exitFrames: Int) {
        self.runner = runner
        self.publisher = publisher
        self.maps = maps
        self.routingSamples = routingSamples
        self.modelID = runner.model.manifest.id
        self.enterFrames = enterFrames
        self.exitFrames = exitFrames
        self.meta = Self.meta(model: runner.model, thresholds: thresholds, enterFrames: enterFrames, exitFrames: exitFrames)
        header.modelID = modelID
        header.stream = publisher.options.stream
        scores = oodScoreNames.map { name, _ in
            var score = Moeseg_V1_OodScore()
            score.name = name
            return score
        }
        publisher.updateMeta(meta)
    }

    /// The meta message for a model and thresholds.
    public static func meta(model: MixtureModel, thresholds: OODThresholds, enterFrames: Int, exitFrames: Int) -> Moeseg_V1_Meta {
        var meta = Moeseg_V1_Meta()
        let manifest = model.manifest
        meta.modelID = manifest.id
        meta.modelVersion = manifest.version
        meta.inputWidth = UInt32(manifest.input.width)
        meta.inputHeight = UInt32(manifest.input.height)
        meta.numExperts = UInt32(manifest.experts.count)
        meta.segmentation = true
        meta.classes = manifest.classNames.enumerated().map { index, name in
            var info = Moeseg_V1_ClassInfo()
            info.id = UInt32(index)
            info.name = name
            if index < manifest.classColors.count, manifest.classColors[index].count >= 3 {
                let c = manifest.classColors[index]
                info.rgb = UInt32(c[0]) << 16 | UInt32(c[1]) << 8 | UInt32(c[2])
            }
            return info
        }
        meta.thresholds = oodScoreNames.compactMap { name, score in
            guard let value = thresholds[score] else { return nil }
            var threshold = Moeseg_V1_Threshold()
            threshold.name = name
            threshold.value = value
            return threshold
        }
        var pixel = Moeseg_V1_Threshold()
        pixel.name = "mi_pixel"
        pixel.value = thresholds.pixelMutualInformation
        meta.thresholds.append(pixel)
        meta.oodEnterFrames = UInt32(enterFrames)
        meta.oodExitFrames = UInt32(exitFrames)
        meta.header.modelID = manifest.id
        return meta
    }

    public func apply(step: BudgetStep) {
        runner.routingSamples = step.routingSamples ? routingSamples : 0
        let wanted = step.allMaps ? maps.all : maps.essential
        runner.enabledMaps = wanted
        publishedMaps = UncertaintyMap.allCases.filter { wanted.contains($0) }
        if !step.routingSamples { publishedMaps.removeAll { $0 == .routingPE || $0 == .routingMI } }
    }

    public func infer(_ frame: Frame) throws -> FrameScores {
        last = nil
        let result = try runner.process(frame: frame)
        last = result
        return result.scores
    }

    public func publish(frame: Frame, timing: FrameTiming, verdict: OODVerdict, step: BudgetStep) {
        guard let result = last else { return }
        let logTime = recorder == nil ? 0 : timing.captureRealtime(of: frame)
        header.sequence = timing.sequence
        header.sourceSequence = frame.sequence
        header.captureMonotonicNs = Int64(bitPattern: frame.isReplayed ? timing.receivedNanos : frame.monotonicNanos)
        header.captureRealtimeNs = Int64(bitPattern: frame.realtimeNanos)
        let t = result.timings
        header.latency.preprocessUs = Self.micros(t.preprocess)
        header.latency.expertsUs = Self.micros(t.expertStage)
        header.latency.gateUs = Self.micros(t.gate)
        header.latency.combineUs = Self.micros(t.combine)
        header.latency.uncertaintyUs = Self.micros(t.uncertainty)
        header.latency.totalUs = UInt32(clamping: (monotonicNow() &- timing.receivedNanos) / 1000)
        publisher.publishSegmentation(header: header, classIds: result.prediction, width: result.width, height: result.height)
        recorder?.segmentation(header: header, classIds: result.prediction, width: result.width, height: result.height,
                               logTime: logTime)
        for map in publishedMaps {
            guard let values = result.map(map) else { continue }
            publisher.publishMap(header: header, name: map.rawValue, values: values, width: result.width, height: result.height)
            if let recorder, let quantization = publisher.quantization(of: map.rawValue) {
                recorder.map(header: header, name: map.rawValue, values: values, width: result.width, height: result.height,
                             quantization: quantization, logTime: logTime)
            }
        }
        verdictMessage.header = header
        for (index, (_, score)) in oodScoreNames.enumerated() {
            let value = verdict.scores[score]
            let threshold = verdict.thresholds[score]
            scores[index].present = value != nil
            scores[index].value = value ?? 0
            scores[index].enabled = threshold != nil
            scores[index].threshold = threshold ?? 0
            scores[index].fired = verdict.fired.contains(score)
        }
        verdictMessage.scores = scores
        verdictMessage.rawOod = verdict.frameIsOOD
        verdictMessage.ood = verdict.isOOD
        verdictMessage.changed = verdict.changed
        publisher.publishVerdict(verdictMessage)
        // Drop the result before the next frame: it shares the runner's StageTimings storage, which
        // the expert workers write concurrently during `process`; a second reference there would make
        // each worker copy the array at once (a data race that corrupted the heap, seen here).
        last = nil
        recorder?.record(.verdict, verdictMessage, logTime: logTime)
        // Give the array back so the next frame updates it in place instead of copying it.
        verdictMessage.scores = []
    }

    public func publish(status: PipelineStatus) {
        var message = Moeseg_V1_Status()
        message.header.modelID = modelID
        message.header.sequence = status.framesPublished
        message.fps = Float(status.framesPerSecond)
        message.latencyP50Us = UInt32(clamping: Int((status.latencyP50Ms * 1000).rounded()))
        message.latencyP90Us = UInt32(clamping: Int((status.latencyP90Ms * 1000).rounded()))
        message.latencyP99Us = UInt32(clamping: Int((status.latencyP99Ms * 1000).rounded()))
        message.sourceDrops = status.framesDropped
        message.publishDrops = publisher.statistics.dropped
        message.deadlineMisses = status.deadlineMisses
        message.framesProcessed = status.framesPublished
        message.budgetLevel = UInt32(status.budgetLevel)
        message.budgetMode = status.mode
        switch status.sourceState {
        case .streaming: message.sourceState = .streaming
        case .stalled, .unavailable: message.sourceState = .unavailable
        case .ended: message.sourceState = .ended
        case .starting: message.sourceState = .unspecified
        }
        message.sourceDetail = status.sourceDetail.isEmpty ? status.sourceState.description : status.sourceDetail
        message.uptimeS = status.uptimeSeconds
        publisher.publishStatus(message)
        recorder?.record(.status, message, logTime: realtimeNow())
    }

    public func thresholdsChanged(_ thresholds: OODThresholds) {
        meta = Self.meta(model: runner.model, thresholds: thresholds, enterFrames: enterFrames, exitFrames: exitFrames)
        publisher.updateMeta(meta)
        recordMeta()
    }

    public func service() {
        publisher.pollSubscriptions()
        let cut = publisher.peersCutOff
        if cut != reportedCutOffs {
            reportedCutOffs = cut
            onPeerCutOff?(publisher.lastCutOffPeer ?? "?", publisher.options.maxSubscriptionsPerPeer)
        }
    }

    public func close() {
        publisher.close()
    }

    private static func micros(_ seconds: Double) -> UInt32 {
        UInt32(clamping: Int((seconds * 1e6).rounded()))
    }
}
