import Foundation
import Mixture
import Scenes
import Sensors
import Testing

/// The committed int8 demo (`models/demo/moe-simple-int8`, made by `moeseg quantize`) against the
/// float mixture on fresh synthetic drives (seeds no calibration used): ≥ 98 % of pixels predicted
/// the same, mIoU within 0.01, frame AUROC of the published MI score within 0.02.
@Suite struct DemoInt8Tests {
    static let demo = PythonReference.packageRoot.appendingPathComponent("models/demo").path

    struct Outcome {
        var predictions: [UInt8] = [], mi: Float = 0
    }

    static func run(_ runner: MixtureRunner, _ frame: Frame) throws -> Outcome {
        let result = try runner.process(frame: frame)
        return Outcome(predictions: Array(result.prediction), mi: result.scores.meanMutualInformation ?? .nan)
    }

    @Test func keepsTheFloatMixturesQuality() throws {
        let float = try MixtureModel.load(directory: "\(Self.demo)/moe-simple")
        let int8 = try MixtureModel.load(directory: "\(Self.demo)/moe-simple-int8")
        #expect(int8.manifest.classNames == float.manifest.classNames)
        let maps: Set<UncertaintyMap> = [.peWeighted, .miWeighted]
        let runners = [try MixtureRunner(model: float, options: .init(threads: 1, maps: maps)),
                       try MixtureRunner(model: int8, options: .init(threads: 1, maps: maps))]
        let classes = float.classes
        var confusion = [ConfusionMatrix(classes: classes), ConfusionMatrix(classes: classes)]
        var same = 0, pixels = 0
        var scores: [[(mi: Float, ood: Bool)]] = [[], []]
        for (domain, seed) in [(SceneDomain.highway, UInt64(9101)), (.urban, 9102), (.ambiguous, 9103)] {
            let source = try SyntheticSource(domain: domain, seed: seed, width: 512, height: 256, rate: nil)
            var frame = Frame()
            for _ in 0..<6 {
                guard try source.nextFrame(into: &frame, timeout: .seconds(5)) == .frame else { break }
                let outcomes = try runners.map { try Self.run($0, frame) }
                for k in 0..<2 { scores[k].append((outcomes[k].mi, domain == .ambiguous)) }
                guard domain != .ambiguous, let labels = frame.labels, labels.count == outcomes[0].predictions.count else { continue }
                same += zip(outcomes[0].predictions, outcomes[1].predictions).filter { $0 == $1 }.count
                for k in 0..<2 { confusion[k].add(predictions: outcomes[k].predictions, labels: labels) }
                pixels += labels.count
            }
        }
        try #require(pixels > 0)
        let agreement = Double(same) / Double(pixels)
        let miou = confusion.map(\.meanIoU)
        let auroc = scores.map { s in
            frameAUROC(positives: s.filter(\.ood).map { Double($0.mi) }, negatives: s.filter { !$0.ood }.map { Double($0.mi) }) ?? 0
        }
        print("int8 demo on fresh drives: agreement \(agreement), mIoU fp32 \(miou[0]) int8 \(miou[1]), MI AUROC fp32 \(auroc[0]) int8 \(auroc[1])")
        #expect(agreement >= 0.98)
        #expect(abs(miou[0] - miou[1]) <= 0.01)
        #expect(abs(auroc[0] - auroc[1]) <= 0.02)
    }
}
