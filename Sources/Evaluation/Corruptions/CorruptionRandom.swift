import Foundation

/// The seeded generator behind every random corruption: xoshiro256** seeded by SplitMix64,
/// with the distributions numpy's legacy `np.random` functions draw from.
///
/// Only the distributions match numpy, not the streams: the corruptions are compared with
/// the package statistically.
struct CorruptionRandom {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high), as `np.random.uniform(low, high)`.
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// Uniform integer in low..<high, as `np.random.randint(low, high)`.
    mutating func integer(_ low: Int, _ high: Int) -> Int {
        let span = UInt64(high - low)
        // Lemire's multiply-shift: unbiased enough for spans this small (< 2^16).
        return low + Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* span) >> 32)
    }

    /// Standard normal (Marsaglia's polar method, the one numpy's legacy generator uses).
    mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * unit() - 1
            let v = 2 * unit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * Foundation.log(s) / s).squareRoot()
                spareNormal = v * f
                return u * f
            }
        }
    }

    /// Poisson with mean `lambda` (0...~100), by inversion of the cumulative distribution.
    mutating func poisson(_ lambda: Double) -> Int {
        guard lambda > 0 else { return 0 }
        let u = unit()
        var p = Foundation.exp(-lambda)
        var cumulative = p
        var k = 0
        // The cap only guards rounding in the far tail, where p underflows; it is ~20 sigma out.
        let cap = Int(lambda + 20 * lambda.squareRoot() + 20)
        while u > cumulative && k < cap {
            k += 1
            p *= lambda / Double(k)
            cumulative += p
        }
        return k
    }
}
