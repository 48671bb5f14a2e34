/// Weather: snow (streaked flakes over a brightened frame), frost (an ice texture blended in),
/// fog (a plasma fractal haze) and brightness (HSV value shift). Spatter, the package's fifth
/// weather-like corruption, is in `SpatterCorruption`.
enum WeatherCorruptions {
    /// Flake field mean and spread, its zoom, the cut below which there is no flake, the
    /// streak radius and sigma, and how much of the frame survives the whitening.
    static let snowParameters: [(mean: Double, spread: Double, zoom: Double, cut: Double, radius: Int, sigma: Double,
                                 keep: Double)] = [
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ]
    /// Weights of the frame and of the frost texture.
    static let frostBlend: [(frame: Double, frost: Double)] = [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)]
    /// Fog strength and the plasma fractal's roughness decay (lower: rougher).
    static let fogParameters: [(strength: Double, decay: Double)] = [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)]
    /// Added HSV value.
    static let brightnessShift = [0.1, 0.2, 0.3, 0.4, 0.5]

    static func snow(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let p = snowParameters[level]
        let (w, h) = (image.width, image.height)
        let flakes = (0..<image.pixelCount).map { _ in p.mean + p.spread * random.normal() }
        let zoomed = ClippedZoom.zoom(flakes, width: w, height: h, channels: 1, zoom: p.zoom)
        let cut = zoomed.pixels.map { v in v < p.cut ? 0 : min(max(v, 0), 1) }
        let angle = random.uniform(-135, -45)
        let streaks = MotionStreak.apply(cut, width: zoomed.width, height: zoomed.height, channels: 1, radius: p.radius,
                                         sigma: p.sigma, angleDegrees: angle)
        // The package rounds the flakes to bytes before cropping them to the frame.
        var layer = [Double](repeating: 0, count: image.pixelCount)
        for y in 0..<h {
            for x in 0..<w {
                let v = (streaks[y * zoomed.width + x] * 255).rounded(.toNearestOrEven)
                layer[y * w + x] = Double(UInt8(min(max(v, 0), 255))) / 255
            }
        }
        // In float32, as the package: whiten towards 1.5 * grey + 0.5, then add the flakes and
        // the flakes turned by 180 degrees.
        let keep = Float(p.keep), whiten = Float(1 - p.keep)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let r = Float(rgb[i]) / 255, g = Float(rgb[i + 1]) / 255, b = Float(rgb[i + 2]) / 255
                let grey = (r * 0.299 + g * 0.587 + b * 0.114) * 1.5 + 0.5
                let flakes = layer[y * w + x] + layer[(h - 1 - y) * w + (w - 1 - x)]
                func whitened(_ v: Float) -> UInt8 { PixelStore.fromUnit(Double(keep * v + whiten * max(v, grey)) + flakes) }
                rgb[i] = whitened(r)
                rgb[i + 1] = whitened(g)
                rgb[i + 2] = whitened(b)
            }
        }
    }

    static func frost(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let (a, b) = frostBlend[level]
        // As the package: one of five photographs, then a crop of it (here one of nine histograms).
        let photo = FrostProfiles.photos[FrostProfiles.draws[random.integer(0, FrostProfiles.draws.count)]]
        let profile = photo[random.integer(0, photo.count)]
        let ice = FrostTexture.make(width: image.width, height: image.height, profile: profile, random: &random)
        for i in rgb.indices { rgb[i] = PixelStore.fromLevel(a * Double(rgb[i]) + b * ice[i]) }
    }

    static func fog(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let (strength, decay) = fogParameters[level]
        var size = 1
        while size < max(image.width, image.height) { size *= 2 }
        let plasma = PlasmaFractal.map(size: size, decay: decay, random: &random)
        let peak = Double(rgb.max() ?? 0) / 255
        for y in 0..<image.height {
            for x in 0..<image.width {
                let haze = strength * plasma[y * size + x]
                for c in 0..<3 {
                    let i = (y * image.width + x) * 3 + c
                    let v = Double(rgb[i]) / 255 + haze
                    rgb[i] = PixelStore.fromUnit(v * peak / (peak + strength))
                }
            }
        }
    }

    static func brightness(_ rgb: inout [UInt8], level: Int) {
        let shift = brightnessShift[level]
        for i in stride(from: 0, to: rgb.count, by: 3) {
            var hsv = HSV.fromRGB(Double(rgb[i]) / 255, Double(rgb[i + 1]) / 255, Double(rgb[i + 2]) / 255)
            hsv.v = min(max(hsv.v + shift, 0), 1)
            let out = HSV.toRGB(hsv.h, hsv.s, hsv.v)
            rgb[i] = PixelStore.fromUnit(out.r)
            rgb[i + 1] = PixelStore.fromUnit(out.g)
            rgb[i + 2] = PixelStore.fromUnit(out.b)
        }
    }
}
