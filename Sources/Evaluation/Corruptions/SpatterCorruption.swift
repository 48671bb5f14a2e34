/// Spatter: drops on the lens. Severities 1-3 add pale water drops shaded from the distance to
/// their edges; 4-5 paste opaque mud blobs over the frame. Both grow the drops from a blurred,
/// thresholded noise field.
enum SpatterCorruption {
    /// Noise mean and spread, blur sigma, threshold, shading gain (water) or mask blur (mud), and mud or not.
    static let parameters: [(mean: Double, spread: Double, sigma: Double, cut: Double, strength: Double, mud: Bool)] = [
        (0.65, 0.3, 4, 0.69, 0.6, false), (0.65, 0.3, 3, 0.68, 0.6, false), (0.65, 0.3, 2, 0.68, 0.5, false),
        (0.65, 0.3, 1, 0.65, 1.5, true), (0.67, 0.4, 1, 0.65, 1.5, true),
    ]
    /// The package's "pale turquoise" water, added to R, G, B in this order.
    static let water: (Float, Float, Float) = (175 / 255, 238 / 255, 238 / 255)
    /// Mud brown.
    static let mud: (Float, Float, Float) = (63 / 255, 42 / 255, 20 / 255)
    /// The emboss-like kernel that lights the drops from one side.
    static let relief: [Float] = [-2, -1, 0, -1, 1, 1, 0, 1, 2]

    static func apply(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let p = parameters[level]
        let (w, h) = (image.width, image.height)
        var liquid = (0..<image.pixelCount).map { _ in p.mean + p.spread * random.normal() }
        Filters.gaussian(&liquid, width: w, height: h, channels: 1, sigmaY: p.sigma, sigmaX: p.sigma)
        for i in liquid.indices where liquid[i] < p.cut { liquid[i] = 0 }
        if p.mud {
            var mask = liquid.map { $0 > p.cut ? 1.0 : 0 }
            Filters.gaussian(&mask, width: w, height: h, channels: 1, sigmaY: p.strength, sigmaX: p.strength)
            for i in 0..<image.pixelCount {
                let m = Float(mask[i] < 0.8 ? 0 : mask[i])
                let cover = 1 - m
                rgb[i * 3] = PixelStore.fromUnit(Float(rgb[i * 3]) / 255 * cover + mud.0 * m)
                rgb[i * 3 + 1] = PixelStore.fromUnit(Float(rgb[i * 3 + 1]) / 255 * cover + mud.1 * m)
                rgb[i * 3 + 2] = PixelStore.fromUnit(Float(rgb[i * 3 + 2]) / 255 * cover + mud.2 * m)
            }
            return
        }
        let drops = liquid.map { UInt8(min($0 * 255, 255)) }
        // Shading: distance to the drop outlines, capped at 20, smoothed, equalised, embossed.
        let outlines = OpenCVPrimitives.canny(drops, width: w, height: h, low: 50, high: 150)
        var distance = OpenCVPrimitives.chamferDistance(outlines.map { 255 - $0 }, width: w, height: h)
        for i in distance.indices { distance[i] = min(distance[i], 20) }
        let smoothed = OpenCVPrimitives.boxBlur3(distance, width: w, height: h).map { UInt8(max(0, min($0, 255))) }
        let equalised = OpenCVPrimitives.equalizeHistogram(smoothed)
        let embossed = OpenCVPrimitives.filter3(equalised, width: w, height: h, kernel: relief)
        let shade = OpenCVPrimitives.boxBlur3(embossed, width: w, height: h)
        var m = (0..<image.pixelCount).map { Float(drops[$0]) * Float(shade[$0]) }
        let peak = m.max() ?? 0
        // A frame without drops gives 0/0 in the package, and its NaNs become black; keep that.
        for i in m.indices { m[i] = m[i] / peak * Float(p.strength) }
        for i in 0..<image.pixelCount {
            rgb[i * 3] = PixelStore.fromUnit(Float(rgb[i * 3]) / 255 + m[i] * water.0)
            rgb[i * 3 + 1] = PixelStore.fromUnit(Float(rgb[i * 3 + 1]) / 255 + m[i] * water.1)
            rgb[i * 3 + 2] = PixelStore.fromUnit(Float(rgb[i * 3 + 2]) / 255 + m[i] * water.2)
        }
    }
}
