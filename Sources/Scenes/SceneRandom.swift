/// Mixes values into a well-distributed 64-bit hash (SplitMix64 finaliser). Everything
/// random in a scene derives from such hashes of (seed, purpose, index), so any part of
/// the world can be regenerated on its own, in any order.
@inline(__always)
func sceneHash(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Hash of several values, order-sensitive.
@inline(__always)
func sceneHash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0) -> UInt64 {
    sceneHash(sceneHash(sceneHash(sceneHash(a) ^ b) ^ c) ^ d)
}

/// Hash of a signed index (segment numbers can be negative).
@inline(__always)
func sceneHash(_ a: UInt64, _ b: UInt64, index: Int) -> UInt64 {
    sceneHash(a, b, UInt64(bitPattern: Int64(index)))
}

/// A small deterministic random stream (SplitMix64).
struct SceneRandom {
    private var state: UInt64

    init(_ seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform integer in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// Purposes mixed into hashes so that streams for different things never coincide.
enum SceneSalt: UInt64 {
    case style = 1, curve, staticSegment, trafficLane, pedestrianLane, noiseTile, hills
    case sensorNoise, exposure, zebra, ood, crossStreet
}
