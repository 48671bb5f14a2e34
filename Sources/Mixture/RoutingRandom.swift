import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, output = mix(state).
/// Used only to seed the routing stream.
struct SplitMix64 {
    var state: UInt64

    /// The SplitMix64 output function, a bijection of 64-bit words.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }
}

/// xoshiro256** 1.0 (Blackman and Vigna 2018), the generator of routing samples.
struct Xoshiro256StarStar {
    var s0, s1, s2, s3: UInt64

    /// The stream for one frame: a SplitMix64 seeder starting at
    /// `seed ^ mix(frameIndex + 0x9E3779B97F4A7C15)` (i.e. seed XOR the first SplitMix64 output
    /// of state frameIndex) fills s0…s3 with its next four outputs. Distinct frames thus start
    /// at unrelated states rather than at shifted copies of one SplitMix sequence.
    init(seed: UInt64, frameIndex: UInt64) {
        var seeder = SplitMix64(state: seed ^ SplitMix64.mix(frameIndex &+ 0x9E37_79B9_7F4A_7C15))
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform on the open interval (0, 1): the top 53 bits plus one half, times 2^-53.
    mutating func nextOpenUnit() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// A standard Gumbel draw, −ln(−ln u) with u from `nextOpenUnit` (glibc log, float64).
    mutating func nextGumbel() -> Double {
        -Foundation.log(-Foundation.log(nextOpenUnit()))
    }
}
