import Foundation

/// Deterministic test data (SplitMix64 with Box–Muller normals), so a failing case reproduces.
struct TestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func unit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// Normal with the given standard deviation.
    mutating func normal(_ sigma: Double = 1) -> Float {
        let u = unit(), v = unit()
        return Float(sigma * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    mutating func normals(_ count: Int, sigma: Double = 1) -> [Float] {
        (0..<count).map { _ in normal(sigma) }
    }
}
