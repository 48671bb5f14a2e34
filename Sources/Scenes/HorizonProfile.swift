import Glibc

/// The distant horizon, seen at infinite distance: rolling hills, a tree line and (in towns)
/// a skyline of far buildings, each as the tangent of its elevation per azimuth bin.
final class HorizonProfile {
    static let bins = 2048
    let hills: UnsafeMutablePointer<Float>
    let trees: UnsafeMutablePointer<Float>
    let skyline: UnsafeMutablePointer<Float>
    /// Largest tangent of elevation any profile reaches.
    let maxTangent: Float

    init(seed: UInt64, population: PopulationStyle) {
        let n = HorizonProfile.bins
        hills = .allocate(capacity: n)
        trees = .allocate(capacity: n)
        skyline = .allocate(capacity: n)
        var peak: Float = 0
        let hillNoise = PeriodicNoise(seed: sceneHash(seed, SceneSalt.hills.rawValue, 1), cells: 12)
        let treeNoise = PeriodicNoise(seed: sceneHash(seed, SceneSalt.hills.rawValue, 2), cells: 400)
        let treeGaps = PeriodicNoise(seed: sceneHash(seed, SceneSalt.hills.rawValue, 3), cells: 40)
        var rng = SceneRandom(sceneHash(seed, SceneSalt.hills.rawValue, 4))
        let hillHeight = Float(rng.uniform(0.01, 0.05))
        var block = 0
        var blockHeight: Float = 0
        for i in 0..<n {
            let x = Float(i) / Float(n)
            let hill = 0.002 + hillHeight * (0.5 + 0.5 * hillNoise.value(x)) + 0.004 * (0.5 + 0.5 * treeNoise.value(x * 0.25))
            hills[i] = hill
            var tree = hill
            if population.treeline, treeGaps.value(x) > -0.3 {
                tree = hill + 0.004 + 0.006 * (0.5 + 0.5 * treeNoise.value(x))
            }
            trees[i] = tree
            var sky = tree
            if population.skyline {
                if i >= block {
                    block = i + 4 + rng.below(14)
                    blockHeight = rng.chance(0.15) ? 0 : Float(rng.uniform(0.01, 0.06))
                }
                sky = max(tree, hill + blockHeight)
            }
            skyline[i] = sky
            peak = max(peak, max(tree, sky))
        }
        maxTangent = peak
    }

    deinit {
        hills.deallocate()
        trees.deallocate()
        skyline.deallocate()
    }

    /// Bin of an azimuth in radians.
    @inline(__always)
    static func bin(_ azimuth: Float) -> Int {
        let turns = azimuth * (1 / (2 * Float.pi))
        let f = (turns - turns.rounded(.down)) * Float(bins)
        return Int(Int32(clampingFloat: f)) & (bins - 1)
    }
}

/// Smooth 1-D value noise with period 1 in x.
struct PeriodicNoise {
    private var values: [Float]

    init(seed: UInt64, cells: Int) {
        values = (0..<cells).map { Float(Double(sceneHash(seed, UInt64($0)) >> 11) * 0x1.0p-53) * 2 - 1 }
    }

    func value(_ x: Float) -> Float {
        let f = (x - x.rounded(.down)) * Float(values.count)
        let i = min(Int(f), values.count - 1)
        let t = f - Float(i)
        let s = t * t * (3 - 2 * t)
        let a = values[i], b = values[(i + 1) % values.count]
        return a + (b - a) * s
    }
}
