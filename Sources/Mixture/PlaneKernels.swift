import CKernels

/// The per-pixel loops of the sample-set maps (ensembles, MC dropout; a mixture's maps come from
/// the fused C pass, CKMixtureTile.h). Every loop runs over `count` contiguous pixels of one class
/// plane, with no calls, allocations or traps inside, so LLVM vectorises it; class planes of one
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
        // The C kernel is the same loops and polynomials, built for AVX2+FMA when the CPU has it.
        ck_mix_softmax_entropy(logits, logitStride, Int32(classes), Int32(n), probabilities, probabilityStride, entropy,
                               scratch.maximum, scratch.sum, scratch.dot)
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

    /// acc += row.
    static func add(_ row: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { acc[i] += row[i] }
    }

    /// acc += q ln q with q = scale·p (0·ln 0 = 0).
    static func accumulateXLogX(_ p: UnsafePointer<Float>, scale: Float, into acc: UnsafeMutablePointer<Float>, count n: Int) {
        ck_mix_accumulate_xlogx(p, scale, acc, Int32(n))
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
    /// row *= factor.
    static func scale(_ row: UnsafeMutablePointer<Float>, by factor: Float, count n: Int) {
        for i in 0..<n { row[i] *= factor }
    }
}
