import CKernels

/// The per-pixel loops (FastMath lives in this file too: incremental builds optimise file by
/// file, and exp/log must inline into these loops to vectorise). Every loop runs over `count` contiguous pixels of one class plane,
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
        // The C kernel is the same loops and polynomials, built for AVX2+FMA when the CPU has it.
        ck_mix_softmax_entropy(logits, logitStride, Int32(classes), Int32(n), probabilities, probabilityStride, entropy,
                               scratch.maximum, scratch.sum, scratch.dot)
    }

    /// A softmax added into running sums instead of stored: `probabilitySum += softmax(logits)`
    /// and `entropySum += H(softmax(logits))`; `exponentials` (C planes of `count`) is scratch.
    static func accumulateSoftmaxEntropy(logits: UnsafePointer<Float>, logitStride: Int, classes: Int, count n: Int,
                                         exponentials scratchPlanes: UnsafeMutablePointer<Float>,
                                         probabilitySum: UnsafeMutablePointer<Float>, sumStride: Int,
                                         entropySum: UnsafeMutablePointer<Float>, scratch: SoftmaxScratch) {
        ck_mix_accumulate_softmax_entropy(logits, logitStride, Int32(classes), Int32(n), scratchPlanes, probabilitySum,
                                          sumStride, entropySum, scratch.maximum, scratch.sum, scratch.dot)
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
        ck_mix_accumulate_xlogx(p, scale, acc, Int32(n))
    }

    /// acc += q ln q with q = scale·(p + r).
    static func accumulateXLogX(_ p: UnsafePointer<Float>, plus r: UnsafePointer<Float>, scale: Float,
                                into acc: UnsafeMutablePointer<Float>, count n: Int) {
        ck_mix_accumulate_xlogx_sum(p, r, scale, acc, Int32(n))
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

/// fp32 exp and log built only from add, multiply, divide, compare/select and integer bit
/// operations, so loops that call them auto-vectorise (a libm call would keep every loop
/// scalar). Both are within a few ulp of the correctly rounded result over the ranges used.
enum FastMath {
    // ln 2 split so that n·ln2Hi is exact for |n| < 2^9 (Cody–Waite reduction).
    static let ln2Hi: Float = 0.693145751953125
    static let ln2Lo: Float = 1.428606765330187e-06
    /// Smallest normal float: log's argument floor, so p·ln p stays finite and is 0 at p = 0.
    static let smallestNormal: Float = .leastNormalMagnitude

    /// e^x; exactly 0 below −87 (true values there are < 1.7e-38 and only ever summed), e^88 above 88.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = x < -87 ? -87 : (x > 88 ? 88 : x)
        // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits; no float→int
        // conversion (which would trap on range checks and not vectorise) is needed.
        let shifter: Float = 12_582_912
        let shifted = clamped * 1.44269502 + shifter
        let n = shifted - shifter
        let r = (clamped - n * ln2Hi) - n * ln2Lo
        // Taylor series of e^r to degree 7: truncation < 5e-9 relative for |r| ≤ ln2/2.
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return x < -87 ? 0 : p * scale
    }

    /// ln x for positive normal x (callers clamp to `smallestNormal`).
    @inline(__always)
    static func log(_ x: Float) -> Float {
        let bits = x.bitPattern
        var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000)
        var e = Float(Int32(bitPattern: bits >> 23)) - 127
        let high = m > 1.41421354
        m = high ? m * 0.5 : m
        e = high ? e + 1 : e
        // ln(1+f) = 2 atanh(s), s = f/(2+f), |s| ≤ 0.172: the odd series to s^9 is below 3e-9.
        let f = m - 1
        let s = f / (2 + f)
        let s2 = s * s
        var q: Float = 1.0 / 9
        q = q * s2 + 1.0 / 7
        q = q * s2 + 1.0 / 5
        q = q * s2 + 1.0 / 3
        q = q * s2 + 1
        return e * ln2Hi + (e * ln2Lo + 2 * s * q)
    }

    /// p·ln p with 0·ln 0 = 0 (exactly 0 at p = 0, as the floor keeps ln finite).
    @inline(__always)
    static func xlogx(_ p: Float) -> Float {
        p * log(p > smallestNormal ? p : smallestNormal)
    }
}
