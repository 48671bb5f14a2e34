/// The per-pixel loops. Every loop runs over `count` contiguous pixels of one class plane,
/// with no calls, allocations or traps inside, so LLVM vectorises it; class planes of one
/// distribution are `stride` floats apart.
enum PlaneKernels {
    /// Scratch rows (each `count` floats) for `softmaxEntropy`.
    struct SoftmaxScratch {
        let maximum: UnsafeMutablePointer<Float>
        let sum: UnsafeMutablePointer<Float>
        let dot: UnsafeMutablePointer<Float>
    }

    /// p = softmax over the C planes of `logits`, and each pixel's entropy H(p) computed as
    /// ln S − (Σ_c e_c t_c)/S with t_c = z_c − max, e_c = e^{t_c}, S = Σ_c e_c. That equals
    /// −Σ p ln p (a class whose e_c underflows to 0 contributes 0, as 0·ln 0 = 0) but needs one
    /// log per pixel instead of C.
    static func softmaxEntropy(logits: UnsafePointer<Float>, logitStride: Int, classes: Int, count n: Int,
                               probabilities: UnsafeMutablePointer<Float>, probabilityStride: Int,
                               entropy: UnsafeMutablePointer<Float>, scratch: SoftmaxScratch) {
        exponentials(logits: logits, logitStride: logitStride, classes: classes, count: n,
                     into: probabilities, stride: probabilityStride, scratch: scratch)
        let sum = scratch.sum, dot = scratch.dot
        for i in 0..<n {
            let inverse = 1 / sum[i]
            entropy[i] = FastMath.log(sum[i]) - dot[i] * inverse
            sum[i] = inverse
        }
        for c in 0..<classes {
            let out = probabilities + c * probabilityStride
            for i in 0..<n { out[i] *= sum[i] }
        }
    }

    /// A softmax added into running sums instead of stored: `probabilitySum += softmax(logits)`
    /// and `entropySum += H(softmax(logits))`; `exponentials` (C planes of `count`) is scratch.
    static func accumulateSoftmaxEntropy(logits: UnsafePointer<Float>, logitStride: Int, classes: Int, count n: Int,
                                         exponentials scratchPlanes: UnsafeMutablePointer<Float>,
                                         probabilitySum: UnsafeMutablePointer<Float>, sumStride: Int,
                                         entropySum: UnsafeMutablePointer<Float>, scratch: SoftmaxScratch) {
        exponentials(logits: logits, logitStride: logitStride, classes: classes, count: n,
                     into: scratchPlanes, stride: n, scratch: scratch)
        let sum = scratch.sum, dot = scratch.dot
        for i in 0..<n {
            let inverse = 1 / sum[i]
            entropySum[i] += FastMath.log(sum[i]) - dot[i] * inverse
            sum[i] = inverse
        }
        for c in 0..<classes {
            let e = scratchPlanes + c * n, acc = probabilitySum + c * sumStride
            for i in 0..<n { acc[i] += e[i] * sum[i] }
        }
    }

    /// e_c = exp(z_c − max) per class plane, with S = Σ e_c in `scratch.sum` and
    /// Σ e_c (z_c − max) in `scratch.dot`.
    private static func exponentials(logits: UnsafePointer<Float>, logitStride: Int, classes: Int, count n: Int,
                                     into out: UnsafeMutablePointer<Float>, stride: Int, scratch: SoftmaxScratch) {
        let maximum = scratch.maximum, sum = scratch.sum, dot = scratch.dot
        maximum.update(from: logits, count: n)
        for c in 1..<classes {
            let row = logits + c * logitStride
            for i in 0..<n { maximum[i] = row[i] > maximum[i] ? row[i] : maximum[i] }
        }
        sum.update(repeating: 0, count: n)
        dot.update(repeating: 0, count: n)
        for c in 0..<classes {
            let row = logits + c * logitStride
            let plane = out + c * stride
            for i in 0..<n {
                // The floor keeps e·t finite (0·−∞ would be NaN) for −∞ logits; e is 0 there anyway.
                let t = row[i] - maximum[i]
                let tc: Float = t < -100 ? -100 : t
                let e = FastMath.exp(tc)
                plane[i] = e
                sum[i] += e
                dot[i] += e * tc
            }
        }
    }

    /// Index of the largest plane at each pixel; ties go to the lowest class index.
    ///
    /// Written with SIMD8 because the scalar form `index[i] = better ? c : index[i]` is turned
    /// into a conditional store, which does not vectorise and mispredicts on real maps.
    static func argmax(planes: UnsafePointer<Float>, stride: Int, classes: Int, count n: Int,
                       index: UnsafeMutablePointer<Int32>) {
        typealias Lanes = SIMD8<Float>
        var i = 0
        while i + 8 <= n {
            var best = UnsafeRawPointer(planes + i).loadUnaligned(as: Lanes.self)
            var label = SIMD8<Int32>(repeating: 0)
            for c in 1..<classes {
                let value = UnsafeRawPointer(planes + c * stride + i).loadUnaligned(as: Lanes.self)
                let better = value .> best
                best.replace(with: value, where: better)
                label.replace(with: Int32(truncatingIfNeeded: c), where: better)
            }
            UnsafeMutableRawPointer(index + i).storeBytes(of: label, as: SIMD8<Int32>.self)
            i += 8
        }
        while i < n {
            var best = planes[i]
            var label: Int32 = 0
            for c in 1..<classes where planes[c * stride + i] > best {
                best = planes[c * stride + i]
                label = Int32(truncatingIfNeeded: c)
            }
            index[i] = label
            i += 1
        }
    }

    /// out = Σ_e weights[e·weightStride] · planes[e·planeStride + i], one class plane.
    static func weightedSum(planes: UnsafePointer<Float>, planeStride: Int, weights: UnsafePointer<Float>,
                            weightStride: Int, terms: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        let w0 = weights[0]
        for i in 0..<n { out[i] = w0 * planes[i] }
        for e in 1..<terms {
            let w = weights[e * weightStride]
            let row = planes + e * planeStride
            for i in 0..<n { out[i] += w * row[i] }
        }
    }

    /// out = Σ_e weights[e·weightStride] · planes[e][offset + i]: one class plane of E plane sets
    /// that live at unrelated addresses (each expert's own output buffer).
    static func weightedSum(planes: UnsafePointer<UnsafePointer<Float>>, offset: Int, weights: UnsafePointer<Float>,
                            weightStride: Int, terms: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        let w0 = weights[0]
        let first = planes[0] + offset
        for i in 0..<n { out[i] = w0 * first[i] }
        for e in 1..<terms {
            let w = weights[e * weightStride]
            let row = planes[e] + offset
            for i in 0..<n { out[i] += w * row[i] }
        }
    }

    /// acc += row.
    static func add(_ row: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { acc[i] += row[i] }
    }

    /// acc += q ln q with q = scale·p (0·ln 0 = 0).
    static func accumulateXLogX(_ p: UnsafePointer<Float>, scale: Float, into acc: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { acc[i] += FastMath.xlogx(scale * p[i]) }
    }

    /// acc += q ln q with q = scale·(p + r).
    static func accumulateXLogX(_ p: UnsafePointer<Float>, plus r: UnsafePointer<Float>, scale: Float,
                                into acc: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { acc[i] += FastMath.xlogx(scale * (p[i] + r[i])) }
    }

    /// Scales every class plane so each pixel's values sum to 1.
    static func normalise(planes: UnsafeMutablePointer<Float>, stride: Int, classes: Int, count n: Int,
                          sum: UnsafeMutablePointer<Float>) {
        sum.update(from: planes, count: n)
        for c in 1..<classes { add(planes + c * stride, into: sum, count: n) }
        for i in 0..<n { sum[i] = 1 / sum[i] }
        for c in 0..<classes {
            let row = planes + c * stride
            for i in 0..<n { row[i] *= sum[i] }
        }
    }

    /// PE = −Σ p̄ ln p̄ / ln C and MI = (PE·ln C − mean member entropy)/ln C, both clamped to
    /// [0, 1] (MI is ≥ 0 in exact arithmetic; fp32 rounding can push either a hair outside).
    static func finishEntropyMaps(sumXLogX: UnsafePointer<Float>, memberEntropy: UnsafePointer<Float>,
                                  inverseLogClasses: Float, count n: Int,
                                  predictiveEntropy: UnsafeMutablePointer<Float>,
                                  mutualInformation: UnsafeMutablePointer<Float>) {
        for i in 0..<n {
            let h = -sumXLogX[i]
            let pe = h * inverseLogClasses
            let mi = (h - memberEntropy[i]) * inverseLogClasses
            predictiveEntropy[i] = pe < 0 ? 0 : (pe > 1 ? 1 : pe)
            mutualInformation[i] = mi < 0 ? 0 : (mi > 1 ? 1 : mi)
        }
    }
}

extension PlaneKernels {
    /// row = −row.
    static func negate(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { row[i] = -row[i] }
    }

    /// row *= factor.
    static func scale(_ row: UnsafeMutablePointer<Float>, by factor: Float, count n: Int) {
        for i in 0..<n { row[i] *= factor }
    }

    /// acc += factor·row.
    static func addScaled(_ row: UnsafePointer<Float>, factor: Float, into acc: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { acc[i] += factor * row[i] }
    }
}
