import Foundation

/// Per-frame gate arithmetic over E values (or E per class), in float64: it is O(E·C) per
/// frame, so the extra precision is free and keeps routing samples reproducible across
/// implementations; the per-pixel maps use fp32.
enum GateMath {
    /// Softmax of `values[0..<count]` in place, maximum subtracted first.
    static func softmax(_ values: UnsafeMutablePointer<Double>, count: Int) {
        var maximum = values[0]
        for i in 1..<count where values[i] > maximum { maximum = values[i] }
        var sum = 0.0
        for i in 0..<count {
            values[i] = Foundation.exp(values[i] - maximum)
            sum += values[i]
        }
        for i in 0..<count { values[i] /= sum }
    }

    /// One-hot at the first maximum of `values[0..<count]`, in place (the T → 0 limit of softmax(x/T)).
    static func hardMaximum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        var best = 0
        for i in 1..<count where values[i] > values[best] { best = i }
        for i in 0..<count { values[i] = i == best ? 1 : 0 }
    }

    /// Shannon entropy −Σ w ln w with 0·ln 0 = 0.
    static func entropy(_ weights: UnsafePointer<Double>, count: Int) -> Double {
        var h = 0.0
        for i in 0..<count where weights[i] > 0 { h -= weights[i] * Foundation.log(weights[i]) }
        return h
    }
}
