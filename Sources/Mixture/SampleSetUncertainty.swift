import Foundation

/// PE and MI over S equally weighted member distributions (UNCERTAINTY.md §2): the S passes
/// of MC dropout, or the E members of an ensemble (whose prediction is argmax of the mean
/// p̄ = (1/S) Σ_s softmax(z_s), §1). Buffers are allocated once; not thread-safe.
public final class SampleSetUncertainty {
    public let samples: Int
    public let classes: Int
    public let pixels: Int

    private let arena = Arena()
    private let tile: Int
    private let inverseLogClasses: Float
    private let sampleProbabilities: UnsafeMutablePointer<Float>
    private let sampleEntropy, xlogx, rowMaximum, rowSum, rowDot: UnsafeMutablePointer<Float>
    private let meanOut: UnsafeMutableBufferPointer<Float>
    private let predictionOut: UnsafeMutableBufferPointer<Int32>
    private let entropyOut, informationOut: UnsafeMutableBufferPointer<Float>
    private let samplePlanes: UnsafeMutablePointer<UnsafePointer<Float>>

    /// Sets up for S ≥ 1 members of C ≥ 2 classes over an H×W frame.
    public init(samples: Int, classes: Int, height: Int, width: Int) throws {
        guard samples >= 1 else { throw MixtureError.invalidConfiguration("needs at least 1 sample, got \(samples)") }
        // The geometry check is the mixture's with "experts" = samples (≥ 2 is not needed here).
        let geometry = try MixtureGeometry(experts: max(samples, 2), classes: classes, height: height, width: width)
        self.samples = samples
        self.classes = classes
        pixels = geometry.pixels
        tile = min(MixtureUncertainty.tile, pixels)
        inverseLogClasses = Float(1 / Foundation.log(Double(classes)))
        sampleProbabilities = arena.floats(classes * tile).baseAddress!
        sampleEntropy = arena.floats(tile).baseAddress!
        xlogx = arena.floats(tile).baseAddress!
        rowMaximum = arena.floats(tile).baseAddress!
        rowSum = arena.floats(tile).baseAddress!
        rowDot = arena.floats(tile).baseAddress!
        meanOut = arena.floats(classes * pixels)
        predictionOut = arena.int32s(pixels)
        entropyOut = arena.floats(pixels)
        informationOut = arena.floats(pixels)
        samplePlanes = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: samples)
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

    /// Computes the maps from the member logits given with `setSampleLogits`.
    public func compute() {
        var start = 0
        while start < pixels {
            let count = min(tile, pixels - start)
            processTile(start: start, count: count)
            start += count
        }
    }

    private func processTile(start: Int, count n: Int) {
        let c = classes, t = tile
        let scratch = PlaneKernels.SoftmaxScratch(maximum: rowMaximum, sum: rowSum, dot: rowDot)
        let mean = meanOut.baseAddress! + start
        let members = entropyOut.baseAddress! + start
        for j in 0..<c { (mean + j * pixels).update(repeating: 0, count: n) }
        members.update(repeating: 0, count: n)
        for s in 0..<samples {
            PlaneKernels.softmaxEntropy(logits: samplePlanes[s] + start, logitStride: pixels, classes: c, count: n,
                                        probabilities: sampleProbabilities, probabilityStride: t,
                                        entropy: sampleEntropy, scratch: scratch)
            for j in 0..<c { PlaneKernels.add(sampleProbabilities + j * t, into: mean + j * pixels, count: n) }
            PlaneKernels.add(sampleEntropy, into: members, count: n)
        }
        let inverseSamples = 1 / Float(samples)
        for j in 0..<c { PlaneKernels.scale(mean + j * pixels, by: inverseSamples, count: n) }
        PlaneKernels.scale(members, by: inverseSamples, count: n)
        PlaneKernels.argmax(planes: mean, stride: pixels, classes: c, count: n,
                            index: predictionOut.baseAddress! + start)
        xlogx.update(repeating: 0, count: n)
        for j in 0..<c { PlaneKernels.accumulateXLogX(mean + j * pixels, scale: 1, into: xlogx, count: n) }
        // The member entropy row doubles as the PE output; finish reads it before writing.
        PlaneKernels.finishEntropyMaps(sumXLogX: xlogx, memberEntropy: members, inverseLogClasses: inverseLogClasses,
                                       count: n, predictiveEntropy: members,
                                       mutualInformation: informationOut.baseAddress! + start)
    }
}
