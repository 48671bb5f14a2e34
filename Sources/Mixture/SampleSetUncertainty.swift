import CKernels
import Foundation

/// PE and MI over S equally weighted member distributions (UNCERTAINTY.md §2): the S passes
/// of MC dropout, or the E members of an ensemble (whose prediction is argmax of the mean
/// p̄ = (1/S) Σ_s softmax(z_s), §1). Buffers are allocated once; not thread-safe.
///
/// It is the mixture's fused pass (CKMixtureTile.h) with uniform weights under the
/// probabilities rule: p_moe is then p̄, and the "ensemble" member set is the S samples.
public final class SampleSetUncertainty {
    public let samples: Int
    public let classes: Int
    public let pixels: Int

    /// Independent workspaces: `computeTiles(part:of:)` may run on this many threads at once.
    public let parts: Int
    /// The pixel threshold of `frameScores`' uncertain-pixel fraction, counted during the pass.
    public var scoreThreshold: Float = 0.1

    private let arena = Arena()
    private let inverseLogClasses: Float
    private let uniformWeights: UnsafeMutableBufferPointer<Float>
    private let workspaces: [TileWorkspace]
    private var predictionBytes: UnsafeMutablePointer<UInt8>? = nil
    /// How many parts the last frame was split into (their workspaces hold its score sums).
    private var lastPartCount = 1
    private let meanOut: UnsafeMutableBufferPointer<Float>
    private let predictionOut: UnsafeMutableBufferPointer<Int32>
    private let entropyOut, informationOut: UnsafeMutableBufferPointer<Float>
    private let samplePlanes: UnsafeMutablePointer<UnsafePointer<Float>?>

    /// Sets up for S ≥ 1 members of C ≥ 2 classes over an H×W frame, with `parts` workspaces.
    public init(samples: Int, classes: Int, height: Int, width: Int, parts: Int = 1) throws {
        guard samples >= 1 else { throw MixtureError.invalidConfiguration("needs at least 1 sample, got \(samples)") }
        guard parts >= 1, parts <= 64 else { throw MixtureError.invalidConfiguration("parts must be in 1...64, got \(parts)") }
        // The geometry check is the mixture's with "experts" = samples (≥ 2 is not needed here).
        let geometry = try MixtureGeometry(experts: max(samples, 2), classes: classes, height: height, width: width)
        self.samples = samples
        self.classes = classes
        self.parts = parts
        pixels = geometry.pixels
        inverseLogClasses = Float(1 / Foundation.log(Double(classes)))
        uniformWeights = arena.floats(samples * classes)
        uniformWeights.update(repeating: 1 / Float(samples))
        workspaces = (0..<parts).map { _ in TileWorkspace(experts: samples, classes: classes) }
        meanOut = arena.floats(classes * pixels)
        predictionOut = arena.int32s(pixels)
        entropyOut = arena.floats(pixels)
        informationOut = arena.floats(pixels)
        samplePlanes = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: samples)
        samplePlanes.initialize(repeating: UnsafePointer(meanOut.baseAddress!), count: samples)
    }

    deinit { samplePlanes.deallocate() }

    /// p̄ as C planes of H×W.
    public var mean: UnsafeBufferPointer<Float> { UnsafeBufferPointer(meanOut) }
    /// argmax p̄; ties go to the lowest class.
    public var prediction: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(predictionOut) }
    /// PE = H(p̄)/ln C.
    public var predictiveEntropy: UnsafeBufferPointer<Float> { UnsafeBufferPointer(entropyOut) }
    /// MI = [H(p̄) − (1/S) Σ_s H(p_s)]/ln C, clamped at 0.
    public var mutualInformation: UnsafeBufferPointer<Float> { UnsafeBufferPointer(informationOut) }

    /// Computes the maps from S planes of C×H×W logits (sample-major).
    public func compute(sampleLogits: UnsafeBufferPointer<Float>) throws {
        let expected = samples * classes * pixels
        guard sampleLogits.count == expected, let logits = sampleLogits.baseAddress else {
            throw MixtureError.bufferSize(name: "sample logits", expected: expected, actual: sampleLogits.count)
        }
        for i in 0..<samples { samplePlanes[i] = logits + i * classes * pixels }
        compute()
    }

    /// Sets member `sample`'s C×H×W logits for the next `compute()`; members may live anywhere.
    public func setSampleLogits(_ sample: Int, _ planes: UnsafePointer<Float>) {
        samplePlanes[sample] = planes
    }

    /// Also writes argmax p̄ as bytes into `buffer` (H·W), or stops (nil).
    public func setPredictionBytes(_ buffer: UnsafeMutablePointer<UInt8>?) {
        predictionBytes = buffer
    }

    /// Computes the maps from the member logits given with `setSampleLogits`.
    public func compute() {
        computeTiles(part: 0, of: 1)
    }

    /// Computes pixel range `part` of `count` equal, tile-aligned ranges with workspace `part`
    /// (distinct parts may run on distinct threads); call it for every part of a frame.
    public func computeTiles(part: Int, of count: Int) {
        precondition(part < parts && count <= parts)
        let range = MixtureUncertainty.partRange(part, of: count, pixels: pixels)
        let w = workspaces[part]
        w.resetScores()
        // One writer: the parts run on several threads at once, and all pass the same count.
        if part == 0 { lastPartCount = count }
        guard !range.isEmpty else { return }
        var args = ck_mix_tile_args()
        args.experts = Int32(samples)
        args.classes = Int32(classes)
        args.plane = pixels
        args.expert_logits = UnsafePointer(samplePlanes)
        args.probabilities_rule = 1
        args.mix = UnsafePointer(uniformWeights.baseAddress)
        args.inverse_log_classes = inverseLogClasses
        args.prediction = predictionOut.baseAddress
        args.prediction_bytes = predictionBytes
        args.probabilities = meanOut.baseAddress
        args.pe_ensemble = entropyOut.baseAddress
        args.mi_ensemble = informationOut.baseAddress
        args.mi_sum = w.miSum
        args.mi_above = w.miAbove
        args.score_threshold = scoreThreshold
        args.scratch = w.scratch
        ck_mix_tile(&args, range.lowerBound, range.count)
    }

    /// Mean MI and the fraction of pixels with MI above `pixelThreshold` of the last frame whose
    /// every part was computed (from the pass's sums when the thresholds match).
    public func frameScores(pixelThreshold: Float) -> (meanMutualInformation: Float, uncertainPixelFraction: Float) {
        guard pixelThreshold == scoreThreshold else {
            return (FrameScores.mean(mutualInformation), FrameScores.fraction(mutualInformation, above: pixelThreshold))
        }
        let n = Double(pixels), used = workspaces.prefix(lastPartCount)
        return (Float(used.reduce(0) { $0 + $1.miSum[2] } / n), Float(Double(used.reduce(0) { $0 + $1.miAbove[2] }) / n))
    }
}
