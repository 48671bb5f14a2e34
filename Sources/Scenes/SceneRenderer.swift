import Glibc

/// Test and tooling knobs that the public API does not expose.
struct RenderOptions {
    /// False: the road runs straight along z = 0.
    var curvedRoad = true
    /// False: no generated objects, only `placedBoxes`.
    var populate = true
    /// False: no exposure drift, snowfall, blur or sensor noise (the image is the shaded scene).
    var postProcess = true
    /// True: frame 0 starts at z = 0 instead of a seeded place along the road.
    var startAtOrigin = false
    var placedBoxes: [PlacedBox] = []
}

/// Per-frame camera state, copied into locals by the passes.
struct FrameState {
    var pose = CameraPose(x: 0, z: 0, yaw: 0)
    var time: Double = 0
    var right = SIMD3<Float>(1, 0, 0)
    var up = SIMD3<Float>(0, 1, 0)
    var forward = SIMD3<Float>(0, 0, 1)
    var exposure: Float = 1
    var frameKey: UInt64 = 0
    var zebraCount = 0
    var crossCount = 0
}

/// Renders frames of a procedural drive with pixel-exact semantic labels.
///
/// The world is a flat ground (road, markings, sidewalks, curbs, terrain) along a smoothly
/// curving centreline, with objects built from boxes, ellipsoids, cylinders and cones placed
/// along it. Every pixel is decided once, by the nearest surface on the ray through its
/// centre; its label and its colour both come from that decision. Blur and sensor noise are
/// applied to the image afterwards, never to the labels.
///
/// Not thread-safe: one renderer per thread. All scratch memory is allocated in `init`.
public final class SceneRenderer {
    /// Identifies the generator's output: bump when the same (domain, seed, frame) renders differently.
    public static let generatorVersion: String = "moeseg-scenes 1.0"
    /// Scene time between consecutive frame indices is 1 / nominalFrameRate seconds.
    public static let nominalFrameRate: Double = 30

    /// The drive's domain.
    public let domain: SceneDomain
    /// The drive's seed.
    public let seed: UInt64
    /// Intrinsics and mounting of the camera.
    public let camera: SceneCamera
    /// Short description of the drive's look (weather, layout), for logs.
    public var summary: String { "\(style.layout.kind) road, \(style.look.weather.rawValue)" }

    let style: SceneStyle
    let options: RenderOptions
    let populator: WorldPopulator
    let groundTable: GroundTable
    let shapes: ShapeBuffer
    let width: Int
    let height: Int
    let startZ: Double
    let maxGroundDistance: Float = 1200

    // Scratch, all sized in init.
    let depth: UnsafeMutablePointer<Float>
    let ids: UnsafeMutablePointer<Int32>
    let shadow: UnsafeMutablePointer<Float>
    let sharp: UnsafeMutablePointer<UInt8>
    let rowSums: UnsafeMutablePointer<UInt16>
    let columnA: UnsafeMutablePointer<Float>
    let rowB: UnsafeMutablePointer<Float>
    let columnAzimuth: UnsafeMutablePointer<Float>
    let order: UnsafeMutablePointer<Int32>
    var visibleCount = 0
    static let curveStep: Float = 0.5
    static let curveStart: Float = -40
    let curveCount: Int
    let curveTable: UnsafeMutablePointer<Float>
    static let maxZebras = 16
    let zebraStart: UnsafeMutablePointer<Float>
    let zebraEnd: UnsafeMutablePointer<Float>
    let crossStart: UnsafeMutablePointer<Float>
    let crossEnd: UnsafeMutablePointer<Float>
    let tileA: NoiseTile
    let tileB: NoiseTile
    let horizonProfile: HorizonProfile
    let toneCurve: UnsafeMutablePointer<UInt8>
    static let toneSize = 4096
    static let toneRange: Float = 4
    let fogTable: UnsafeMutablePointer<Float>
    static let fogSize = 2048
    static let fogStep: Float = 1
    static let noiseSize = 1 << 18
    let sensorNoise: UnsafeMutablePointer<Int8>
    var state = FrameState()

    /// Ids in the id buffer that are not shapes.
    enum Background {
        static let ground: Int32 = -1
        static let sky: Int32 = -2
        static let farTerrain: Int32 = -3
        static let farTrees: Int32 = -4
        static let farBuildings: Int32 = -5
    }

    /// Prepares a drive in `domain` for `seed` at width x height pixels.
    public convenience init(domain: SceneDomain, seed: UInt64, width: Int, height: Int) throws {
        try self.init(domain: domain, seed: seed, width: width, height: height, options: RenderOptions())
    }

    init(domain: SceneDomain, seed: UInt64, width: Int, height: Int, options: RenderOptions) throws {
        guard SceneError.sizeRange.contains(width), SceneError.sizeRange.contains(height) else {
            throw SceneError.invalidSize(width: width, height: height)
        }
        self.domain = domain
        self.seed = seed
        self.width = width
        self.height = height
        self.options = options
        var style = SceneStyle(domain: domain, seed: seed)
        if !options.curvedRoad { style.curve = .straight }
        self.style = style
        camera = SceneCamera(width: width, height: height, horizontalFieldOfView: 1.2,
                             mountHeight: style.layout.kind == .highway ? 1.5 : 1.4, pitch: 0.035)
        populator = WorldPopulator(style: style, seed: seed, domain: domain)
        populator.populate = options.populate
        populator.placedBoxes = options.placedBoxes
        groundTable = GroundTable(layout: style.layout)
        shapes = ShapeBuffer(capacity: 6000)
        var rng = SceneRandom(sceneHash(seed, 0x5747))
        startZ = options.startAtOrigin ? 0 : rng.uniform(500, 20_000)

        let pixels = width * height
        depth = .allocate(capacity: pixels)
        ids = .allocate(capacity: pixels)
        shadow = .allocate(capacity: pixels)
        shadow.initialize(repeating: 1, count: pixels)
        sharp = .allocate(capacity: pixels * 3)
        rowSums = .allocate(capacity: pixels * 3)
        depth.initialize(repeating: 0, count: pixels)
        ids.initialize(repeating: 0, count: pixels)
        sharp.initialize(repeating: 0, count: pixels * 3)
        rowSums.initialize(repeating: 0, count: pixels * 3)
        columnA = .allocate(capacity: width)
        columnAzimuth = .allocate(capacity: width)
        rowB = .allocate(capacity: height)
        for u in 0..<width { columnA[u] = Float((Double(u) + 0.5 - camera.cx) / camera.fx) }
        for u in 0..<width { columnAzimuth[u] = atanf(columnA[u]) }
        for v in 0..<height { rowB[v] = Float(-(Double(v) + 0.5 - camera.cy) / camera.fy) }
        order = .allocate(capacity: shapes.capacity)
        order.initialize(repeating: 0, count: shapes.capacity)
        curveCount = Int((maxGroundDistance - SceneRenderer.curveStart) / SceneRenderer.curveStep) + 2
        curveTable = .allocate(capacity: curveCount)
        curveTable.initialize(repeating: 0, count: curveCount)
        zebraStart = .allocate(capacity: SceneRenderer.maxZebras)
        zebraEnd = .allocate(capacity: SceneRenderer.maxZebras)
        zebraStart.initialize(repeating: 0, count: SceneRenderer.maxZebras)
        zebraEnd.initialize(repeating: 0, count: SceneRenderer.maxZebras)
        crossStart = .allocate(capacity: SceneRenderer.maxZebras)
        crossEnd = .allocate(capacity: SceneRenderer.maxZebras)
        crossStart.initialize(repeating: 0, count: SceneRenderer.maxZebras)
        crossEnd.initialize(repeating: 0, count: SceneRenderer.maxZebras)
        tileA = NoiseTile(seed: sceneHash(seed, SceneSalt.noiseTile.rawValue, 1), baseCells: 4, octaves: 6)
        tileB = NoiseTile(seed: sceneHash(seed, SceneSalt.noiseTile.rawValue, 2), baseCells: 16, octaves: 4)
        horizonProfile = HorizonProfile(seed: seed, population: style.population)
        toneCurve = .allocate(capacity: SceneRenderer.toneSize)
        for i in 0..<SceneRenderer.toneSize {
            let x = (Float(i) + 0.5) / Float(SceneRenderer.toneSize) * SceneRenderer.toneRange
            // Filmic shoulder (ACES fit) so bright sky and lights roll off instead of clipping hard.
            let mapped = (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)
            let encoded = powf(max(0, min(1, mapped)), 1 / 2.2)
            toneCurve[i] = UInt8(max(0, min(255, (encoded * 255).rounded())))
        }
        fogTable = .allocate(capacity: SceneRenderer.fogSize)
        for i in 0..<SceneRenderer.fogSize {
            fogTable[i] = 1 - expf(-style.look.fogDensity * Float(i) * SceneRenderer.fogStep)
        }
        sensorNoise = .allocate(capacity: SceneRenderer.noiseSize)
        var noiseRng = SceneRandom(sceneHash(seed, SceneSalt.sensorNoise.rawValue))
        for i in 0..<SceneRenderer.noiseSize {
            // Sum of four uniforms: close to Gaussian with unit variance after scaling.
            var sum = 0.0
            for _ in 0..<4 { sum += noiseRng.unit() }
            let gaussian = (sum - 2) * 1.7320508
            sensorNoise[i] = Int8(max(-127, min(127, (gaussian * Double(style.look.noiseSigma)).rounded())))
        }
    }

    deinit {
        depth.deallocate()
        ids.deallocate()
        shadow.deallocate()
        sharp.deallocate()
        rowSums.deallocate()
        columnA.deallocate()
        columnAzimuth.deallocate()
        rowB.deallocate()
        order.deallocate()
        curveTable.deallocate()
        zebraStart.deallocate()
        zebraEnd.deallocate()
        crossStart.deallocate()
        crossEnd.deallocate()
        toneCurve.deallocate()
        fogTable.deallocate()
        sensorNoise.deallocate()
    }

    /// Renders frame `index` of the drive into caller-owned buffers (rgb: width*height*3 bytes,
    /// row-major RGB; labels: width*height class ids). Scene time is index / nominalFrameRate.
    public func render(frame index: Int, rgb: UnsafeMutableBufferPointer<UInt8>, labels: UnsafeMutableBufferPointer<UInt8>) {
        render(time: Double(index) / SceneRenderer.nominalFrameRate,
               key: UInt64(bitPattern: Int64(index)), rgb: rgb, labels: labels)
    }

    /// Renders the drive as it is `seconds` after frame 0 (for sources running at other rates).
    /// Times beyond +-1e9 s are clamped; a non-finite time renders time 0.
    public func render(time seconds: Double, rgb: UnsafeMutableBufferPointer<UInt8>, labels: UnsafeMutableBufferPointer<UInt8>) {
        let time = seconds.isFinite ? min(max(seconds, -1e9), 1e9) : 0
        render(time: time, key: UInt64(bitPattern: Int64((time * 1000).rounded())) ^ 0x51_7A, rgb: rgb, labels: labels)
    }

    private func render(time: Double, key: UInt64, rgb: UnsafeMutableBufferPointer<UInt8>,
                        labels: UnsafeMutableBufferPointer<UInt8>) {
        let pixels = width * height
        precondition(rgb.count >= pixels * 3 && labels.count >= pixels,
                     "SceneRenderer.render: buffers must hold \(pixels * 3) RGB bytes and \(pixels) labels")
        guard let rgbBase = rgb.baseAddress, let labelBase = labels.baseAddress else { return }
        setUpFrame(time: time, key: key)
        populator.populate(shapes, pose: state.pose, time: time)
        prepareShapes()
        prepareRoad()
        initialiseVisibility()
        rasteriseShapes()
        castShadows()
        let target = options.postProcess ? sharp : rgbBase
        shade(into: target, labels: labelBase)
        if options.postProcess {
            finishImage(from: sharp, into: rgbBase)
        }
    }

    /// Places the camera on the road for scene time `time`.
    private func setUpFrame(time: Double, key: UInt64) {
        let layout = style.layout
        let z = startZ + layout.egoSpeed * time
        let slope = style.curve.slope(at: z)
        let yaw = atan(slope)
        var s = FrameState()
        s.time = time
        s.frameKey = sceneHash(seed, SceneSalt.sensorNoise.rawValue, key)
        s.pose = CameraPose(x: style.curve.x(at: z) + layout.egoOffset, z: z, yaw: yaw)
        let pitch = Float(camera.pitch)
        let cy = Float(cos(yaw)), sy = Float(sin(yaw))
        let cp = cosf(pitch), sp = sinf(pitch)
        s.forward = SIMD3(sy * cp, -sp, cy * cp)
        s.right = SIMD3(cy, 0, -sy)
        s.up = SIMD3(sy * sp, cp, cy * sp)
        if options.postProcess {
            var rng = SceneRandom(sceneHash(seed, SceneSalt.exposure.rawValue))
            let p1 = rng.uniform(0, 6.28), p2 = rng.uniform(0, 6.28)
            let drift = 0.08 * sin(time * 0.9 + p1) + 0.04 * sin(time * 2.7 + p2)
            s.exposure = style.look.exposure * Float(1 + drift)
        } else {
            s.exposure = style.look.exposure
        }
        state = s
    }

    /// Road centreline relative to the camera along the view, and the zebra crossings in view.
    private func prepareRoad() {
        let pose = state.pose
        let curve = style.curve
        for i in 0..<curveCount {
            let z = Double(SceneRenderer.curveStart + Float(i) * SceneRenderer.curveStep)
            curveTable[i] = Float(curve.x(at: pose.z + z) - pose.x)
        }
        var count = 0, crossings = 0
        let length = WorldPopulator.segmentLength
        let first = Int(((pose.z - 10) / length).rounded(.down))
        let last = Int(((pose.z + 200) / length).rounded(.down))
        if first <= last {
            for k in first...last {
                if count < SceneRenderer.maxZebras, let crossing = populator.zebraCrossing(segment: k) {
                    zebraStart[count] = Float(crossing.start - pose.z)
                    zebraEnd[count] = Float(crossing.end - pose.z)
                    count += 1
                }
                if crossings < SceneRenderer.maxZebras, let street = populator.crossStreet(segment: k) {
                    crossStart[crossings] = Float(street.start - pose.z)
                    crossEnd[crossings] = Float(street.end - pose.z)
                    crossings += 1
                }
            }
        }
        state.zebraCount = count
        state.crossCount = crossings
    }
}
