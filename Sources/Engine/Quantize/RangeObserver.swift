import Foundation

/// How `moeseg quantize` turns a tensor's calibration values into a quantization range.
public enum CalibrationMethod: String, Sendable, CaseIterable {
    /// The observed minimum and maximum.
    case minmax
    /// The 99.999th percentile of |x| (outliers clipped).
    case percentile
    /// The |x| threshold whose 8-bit histogram is closest to the full one (KL divergence).
    case entropy
}

/// Accumulates one tensor's values over calibration frames: extremes, and a histogram of |x| whose
/// range doubles (merging bin pairs) whenever a larger value arrives, so memory stays fixed.
struct RangeObserver {
    static let bins = 2048
    private(set) var minimum = Float.infinity
    private(set) var maximum = -Float.infinity
    private(set) var histogram = [Double](repeating: 0, count: RangeObserver.bins)
    /// Upper edge of the histogram's last bin.
    private(set) var top: Float = 0
    /// Values observed.
    private(set) var count = 0

    mutating func observe(_ values: UnsafeBufferPointer<Float>) {
        var lo = minimum, hi = maximum, peak: Float = 0
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
            peak = max(peak, abs(v))
        }
        (minimum, maximum) = (lo, hi)
        if top == 0 { top = max(peak, 1e-12) }
        while peak > top {
            for i in 0..<(Self.bins / 2) { histogram[i] = histogram[2 * i] + histogram[2 * i + 1] }
            for i in (Self.bins / 2)..<Self.bins { histogram[i] = 0 }
            top *= 2
        }
        let perBin = Float(Self.bins) / top
        for v in values where v.isFinite {
            histogram[min(Self.bins - 1, Int(abs(v) * perBin))] += 1
        }
        count += values.count
    }

    /// The real range [lo, hi] (always containing 0) that `method` picks.
    func range(_ method: CalibrationMethod) -> (lo: Float, hi: Float) {
        guard minimum <= maximum else { return (0, 0) }
        let lo = min(minimum, 0), hi = max(maximum, 0)
        let threshold: Float
        switch method {
        case .minmax: return (lo, hi)
        case .percentile: threshold = percentile(0.99999)
        case .entropy: threshold = klThreshold()
        }
        return (max(lo, -threshold), min(hi, threshold))
    }

    private func percentile(_ p: Double) -> Float {
        let total = histogram.reduce(0, +)
        var seen = 0.0
        for (i, n) in histogram.enumerated() {
            seen += n
            if seen >= p * total { return Float(i + 1) * top / Float(Self.bins) }
        }
        return top
    }

    /// TensorRT-style calibration: the threshold whose histogram, folded into 128 levels, loses the
    /// least information (smallest KL divergence) relative to the clipped full histogram.
    private func klThreshold() -> Float {
        let levels = 128
        var best = (divergence: Double.infinity, bin: Self.bins)
        for end in stride(from: levels, through: Self.bins, by: 16) {
            var p = Array(histogram[0..<end])
            p[end - 1] += histogram[end...].reduce(0, +)
            let mass = p.reduce(0, +)
            guard mass > 0 else { continue }
            // Quantize p into `levels` groups, then spread each group's mass over its non-empty bins.
            var q = [Double](repeating: 0, count: end)
            for g in 0..<levels {
                let a = g * end / levels, b = (g + 1) * end / levels
                let sum = histogram[a..<b].reduce(0, +)
                let nonEmpty = histogram[a..<b].filter { $0 > 0 }.count
                guard nonEmpty > 0 else { continue }
                for i in a..<b where histogram[i] > 0 { q[i] = sum / Double(nonEmpty) }
            }
            let qMass = q.reduce(0, +)
            guard qMass > 0 else { continue }
            var divergence = 0.0
            for i in 0..<end where p[i] > 0 {
                let pi = p[i] / mass, qi = max(q[i] / qMass, 1e-12)
                divergence += pi * log(pi / qi)
            }
            if divergence < best.divergence { best = (divergence, end) }
        }
        return (Float(best.bin) + 0.5) * top / Float(Self.bins)
    }
}

/// The uint8 or int8 encoding of a real range, as onnxruntime's quantizer computes it:
/// scale = (hi − lo)/(qmax − qmin), zero point = round(qmin − lo/scale).
func encoding(lo: Float, hi: Float, signed: Bool) -> QuantParams {
    let qmin: Float = signed ? -128 : 0, qmax: Float = signed ? 127 : 255
    let span = hi - lo
    guard span > 0, span.isFinite else { return QuantParams(scale: 1, zeroPoint: 0, isSigned: signed) }
    let scale = span / (qmax - qmin)
    let zero = max(qmin, min(qmax, (qmin - lo / scale).rounded(.toNearestOrEven)))
    return QuantParams(scale: scale, zeroPoint: Int32(zero), isSigned: signed)
}
