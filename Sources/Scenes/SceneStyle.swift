import Glibc

/// Global lighting and weather of a drive.
enum Weather: String {
    case clear, overcast, dusk, night, snow, fog
}

/// How a drive looks: light, sky, fog, ground materials and sensor behaviour (linear RGB).
struct LookStyle {
    var weather: Weather = .clear
    /// Unit vector towards the sun (world axes).
    var sunDirection: SIMD3<Float> = SIMD3(0.3, 0.8, 0.5)
    var sunColor: SIMD3<Float> = SIMD3(1.0, 0.95, 0.85)
    var ambientColor: SIMD3<Float> = SIMD3(0.35, 0.4, 0.5)
    var skyHorizon: SIMD3<Float> = SIMD3(0.75, 0.85, 0.95)
    var skyZenith: SIMD3<Float> = SIMD3(0.2, 0.4, 0.85)
    var cloudColor: SIMD3<Float> = SIMD3(0.95, 0.95, 0.97)
    var cloudCover: Float = 0.4
    var fogColor: SIMD3<Float> = SIMD3(0.7, 0.78, 0.88)
    /// Extinction per metre.
    var fogDensity: Float = 0.002
    var asphalt: SIMD3<Float> = SIMD3(0.11, 0.11, 0.12)
    var grass: SIMD3<Float> = SIMD3(0.12, 0.2, 0.05)
    var dryGrass: SIMD3<Float> = SIMD3(0.3, 0.27, 0.13)
    var foliage: SIMD3<Float> = SIMD3(0.06, 0.14, 0.04)
    var paving: SIMD3<Float> = SIMD3(0.34, 0.33, 0.32)
    var markingPaint: SIMD3<Float> = SIMD3(0.8, 0.8, 0.78)
    /// Snow lying on ground and roofs.
    var snowCover: Float = 0
    var snowfall: Float = 0
    /// Night: car and street lights glow, ego headlights light the road.
    var lightsOn: Bool = false
    var headlightGain: Float = 0
    var exposure: Float = 1
    /// Standard deviation of sensor noise, in 8-bit steps.
    var noiseSigma: Float = 2
    var hillColor: SIMD3<Float> = SIMD3(0.3, 0.38, 0.3)

    static func daytime(_ rng: inout SceneRandom) -> LookStyle {
        var look = LookStyle()
        let overcast = rng.chance(0.25)
        look.weather = overcast ? .overcast : .clear
        let elevation = rng.uniform(0.35, 1.1)
        let azimuth = rng.uniform(-2.5, 2.5)
        look.sunDirection = direction(elevation: elevation, azimuth: azimuth)
        let haze = Float(rng.uniform(0, 1))
        look.skyZenith = SIMD3(0.12, 0.3, 0.75) + haze * SIMD3(0.1, 0.1, 0.05)
        look.skyHorizon = SIMD3(0.62, 0.75, 0.9) + haze * SIMD3(0.1, 0.08, 0.03)
        look.cloudCover = Float(rng.uniform(0.1, 0.6))
        look.fogDensity = Float(rng.uniform(0.0008, 0.003))
        look.fogColor = look.skyHorizon * 0.95
        look.sunColor = SIMD3(1.0, 0.96, 0.88) * Float(rng.uniform(0.95, 1.15))
        look.ambientColor = SIMD3(0.3, 0.34, 0.42) * Float(rng.uniform(0.85, 1.15))
        if overcast {
            look.sunColor *= 0.35
            look.ambientColor = SIMD3(0.5, 0.52, 0.55)
            look.skyZenith = SIMD3(0.45, 0.48, 0.52)
            look.skyHorizon = SIMD3(0.68, 0.7, 0.72)
            look.cloudColor = SIMD3(0.75, 0.76, 0.78)
            look.cloudCover = 0.85
            look.fogColor = look.skyHorizon
            look.fogDensity *= 1.5
        }
        let season = Float(rng.uniform(0, 1))
        look.grass = SIMD3(0.1, 0.19, 0.045) * (1 - season) + SIMD3(0.2, 0.21, 0.08) * season
        look.foliage = SIMD3(0.05, 0.12, 0.035) * (1 - season * 0.5) + SIMD3(0.12, 0.1, 0.03) * (season * 0.5)
        look.asphalt = SIMD3(repeating: Float(rng.uniform(0.08, 0.15))) * SIMD3(1, 1, 1.04)
        look.exposure = Float(rng.uniform(0.9, 1.1))
        look.noiseSigma = Float(rng.uniform(1.2, 2.8))
        return look
    }

    /// The out-of-distribution shifts of the ambiguous domain.
    static func shifted(_ rng: inout SceneRandom) -> LookStyle {
        var look = daytime(&rng)
        let weathers: [Weather] = [.dusk, .night, .snow, .fog]
        look.weather = weathers[rng.below(weathers.count)]
        switch look.weather {
        case .dusk:
            look.sunDirection = direction(elevation: rng.uniform(0.02, 0.09), azimuth: rng.uniform(-1.2, 1.2))
            look.sunColor = SIMD3(1.0, 0.45, 0.18) * 0.9
            look.ambientColor = SIMD3(0.16, 0.12, 0.18)
            look.skyHorizon = SIMD3(0.95, 0.45, 0.2)
            look.skyZenith = SIMD3(0.12, 0.1, 0.3)
            look.cloudColor = SIMD3(0.6, 0.3, 0.3)
            look.fogColor = SIMD3(0.55, 0.32, 0.25)
            look.exposure = 1.3
            look.noiseSigma = 4
        case .night:
            look.sunDirection = direction(elevation: 0.6, azimuth: 0.5)
            look.sunColor = SIMD3(0.02, 0.025, 0.04)
            look.ambientColor = SIMD3(0.012, 0.014, 0.022)
            look.skyHorizon = SIMD3(0.03, 0.035, 0.06)
            look.skyZenith = SIMD3(0.004, 0.005, 0.012)
            look.cloudColor = SIMD3(0.02, 0.02, 0.03)
            look.fogColor = SIMD3(0.02, 0.02, 0.03)
            look.lightsOn = true
            look.headlightGain = 2.2
            look.exposure = 2.2
            look.noiseSigma = 7
        case .snow:
            look.snowCover = Float(rng.uniform(0.7, 1.0))
            look.snowfall = Float(rng.uniform(0.3, 1.0))
            look.sunColor *= 0.3
            look.ambientColor = SIMD3(0.55, 0.58, 0.64)
            look.skyZenith = SIMD3(0.55, 0.57, 0.6)
            look.skyHorizon = SIMD3(0.78, 0.8, 0.83)
            look.cloudColor = SIMD3(0.8, 0.8, 0.82)
            look.cloudCover = 0.9
            look.fogColor = SIMD3(0.75, 0.77, 0.8)
            look.fogDensity = 0.008
            look.foliage = SIMD3(0.25, 0.28, 0.3)
            look.exposure = 0.85
        case .fog:
            look.sunColor *= 0.2
            look.ambientColor = SIMD3(0.55, 0.56, 0.58)
            look.skyZenith = SIMD3(0.7, 0.71, 0.72)
            look.skyHorizon = SIMD3(0.72, 0.73, 0.74)
            look.cloudCover = 0
            look.fogColor = SIMD3(0.68, 0.69, 0.7)
            look.fogDensity = Float(rng.uniform(0.018, 0.04))
        default:
            break
        }
        return look
    }

    static func direction(elevation: Double, azimuth: Double) -> SIMD3<Float> {
        SIMD3(Float(cos(elevation) * sin(azimuth)), Float(sin(elevation)), Float(cos(elevation) * cos(azimuth)))
    }
}

/// What the populator puts along the road, as densities per 20 m segment and side.
struct PopulationStyle {
    enum Buildings { case none, sparse, street }
    var guardRails = false
    var trees: Double = 0
    var treeSetback: ClosedRange<Double> = 3...40
    var bushes: Double = 0
    var buildings: Buildings = .none
    var sparseBuildingChance: Double = 0
    var lampSpacing: Double = 0
    var signChance: Double = 0
    var gantryChance: Double = 0
    var parkedCarChance: Double = 0
    var pedestrians: Double = 0
    var streetTrees: Double = 0
    var zebraChance: Double = 0
    var crossStreetChance: Double = 0
    var unknownObjects: Double = 0
    var roadworksChance: Double = 0
    var treeline = false
    var skyline = false
}

/// Everything that differs between drives: layout, curve, population and look.
struct SceneStyle {
    var layout: RoadLayout
    var curve: RoadCurve
    var population: PopulationStyle
    var look: LookStyle

    init(domain: SceneDomain, seed: UInt64) {
        var rng = SceneRandom(sceneHash(seed, SceneSalt.style.rawValue, UInt64(domain.hashSalt)))
        switch domain {
        case .highway:
            layout = .highway(&rng)
            curve = RoadCurve(seed: seed, minimumRadius: 900, wavelengths: 600...2400)
            population = SceneStyle.highwayPopulation(&rng)
            look = .daytime(&rng)
        case .urban:
            layout = .urban(&rng)
            curve = RoadCurve(seed: seed, minimumRadius: 250, wavelengths: 250...900)
            population = SceneStyle.urbanPopulation(&rng)
            look = .daytime(&rng)
        case .ambiguous:
            // Mixtures: any layout, the other domain's furniture blended in, shifted
            // lighting or weather, and objects no training frame contains.
            switch rng.below(3) {
            case 0:
                layout = .highway(&rng)
                curve = RoadCurve(seed: seed, minimumRadius: 700, wavelengths: 500...2000)
                population = SceneStyle.highwayPopulation(&rng)
                population.buildings = .sparse
                population.sparseBuildingChance = 0.35
                // People walking on the hard shoulders.
                layout.sidewalks = layout.refuges.map { ($0 - 0.7 * ($0 > 0 ? 1 : -1), $0 + 0.7 * ($0 > 0 ? 1 : -1)) }
                population.pedestrians = 0.3
                population.lampSpacing = 40
            case 1:
                layout = .urban(&rng)
                curve = RoadCurve(seed: seed, minimumRadius: 250, wavelengths: 250...900)
                population = SceneStyle.urbanPopulation(&rng)
                population.guardRails = true
                layout.guardRails = [layout.roadsideRight + 0.4]
                population.trees = 1.0
            default:
                layout = .rural(&rng)
                curve = RoadCurve(seed: seed, minimumRadius: 300, wavelengths: 300...1200)
                population = SceneStyle.highwayPopulation(&rng)
                population.buildings = .sparse
                population.sparseBuildingChance = 0.3
                population.treeSetback = 1...25
                population.pedestrians = 0.2
                population.lampSpacing = 0
                population.gantryChance = 0
            }
            population.unknownObjects = rng.uniform(0.8, 1.4)
            population.roadworksChance = rng.uniform(0.2, 0.45)
            look = .shifted(&rng)
        }
    }

    static func highwayPopulation(_ rng: inout SceneRandom) -> PopulationStyle {
        var p = PopulationStyle()
        p.guardRails = true
        p.trees = rng.uniform(0.8, 3.0)
        p.treeSetback = 4...45
        p.bushes = rng.uniform(0.5, 2.0)
        p.buildings = .sparse
        p.sparseBuildingChance = rng.uniform(0.02, 0.1)
        p.lampSpacing = rng.chance(0.4) ? 50 : 0
        p.signChance = 0.12
        p.gantryChance = 0.03
        p.treeline = true
        return p
    }

    static func urbanPopulation(_ rng: inout SceneRandom) -> PopulationStyle {
        var p = PopulationStyle()
        p.buildings = .street
        p.lampSpacing = rng.uniform(20, 30)
        p.signChance = 0.3
        p.parkedCarChance = rng.uniform(0.4, 0.8)
        p.pedestrians = rng.uniform(0.8, 2.0)
        p.streetTrees = rng.uniform(0.2, 0.8)
        p.zebraChance = 0.12
        p.crossStreetChance = 0.08
        p.skyline = true
        return p
    }
}

extension SceneDomain {
    /// A stable per-domain number mixed into hashes (not `hashValue`, which changes per run).
    var hashSalt: Int {
        switch self {
        case .highway: 11
        case .urban: 23
        case .ambiguous: 37
        }
    }
}
