/// Everything `moeseg eval` accumulates, in fixed memory apart from a few numbers per frame
/// (the frame-level OOD scores). Partial states from separate processes merge exactly.
public struct EvaluationState: Codable, Sendable, Equatable {
    /// Label id of pixels showing an object no class covers.
    public static let unknownObject: UInt8 = 254

    /// Per-map accumulators: uncertainty-as-confidence calibration, conditional counts, and
    /// the pixel-level OOD histogram.
    public struct MapState: Codable, Sendable, Equatable {
        public var calibration = CalibrationBins()
        public var conditional = ConditionalCounts()
        public var unknownPixels = ScoreHistogram()
    }

    /// Frame-level scores of in-distribution (`--data`) and OOD (`--ood`) frames.
    public struct FrameScoreLists: Codable, Sendable, Equatable {
        public var id: [Double] = []
        public var ood: [Double] = []
    }

    public let classes: Int
    /// confusion[label * classes + prediction] over valid pixels of in-distribution frames.
    public private(set) var confusion: [UInt64]
    public var topLabel = CalibrationBins()
    public var maps: [String: MapState] = [:]
    public var frameScores: [String: FrameScoreLists] = [:]
    public var idFrames = 0
    public var oodFrames = 0

    public init(classes: Int) {
        self.classes = classes
        confusion = [UInt64](repeating: 0, count: classes * classes)
    }

    struct MergeMismatch: Error, CustomStringConvertible {
        let description: String
    }

    /// Adds another process's state (same model: same number of classes).
    public mutating func merge(_ other: EvaluationState) throws {
        guard other.classes == classes else {
            throw MergeMismatch(description: "cannot merge states of models with \(classes) and \(other.classes) classes")
        }
        for i in confusion.indices { confusion[i] += other.confusion[i] }
        topLabel.merge(other.topLabel)
        for (name, state) in other.maps {
            var mine = maps[name] ?? MapState()
            mine.calibration.merge(state.calibration)
            mine.conditional.merge(state.conditional)
            mine.unknownPixels.merge(state.unknownPixels)
            maps[name] = mine
        }
        for (name, lists) in other.frameScores {
            frameScores[name, default: FrameScoreLists()].id += lists.id
            frameScores[name, default: FrameScoreLists()].ood += lists.ood
        }
        idFrames += other.idFrames
        oodFrames += other.oodFrames
    }

    mutating func addConfusion(label: Int, prediction: Int) {
        confusion[label * classes + prediction] += 1
    }
}
