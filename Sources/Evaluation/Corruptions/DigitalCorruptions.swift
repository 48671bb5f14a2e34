/// Digital: contrast loss, elastic warping, pixelation, JPEG compression (`JPEGRoundTrip`)
/// and saturation change.
enum DigitalCorruptions {
    /// Remaining share of each channel's deviation from its mean.
    static let contrastKeep = [0.4, 0.3, 0.2, 0.1, 0.05]
    /// Warp strength (the package's `250 * [0.05, 0.065, 0.085, 0.1, 0.12]`).
    static let elasticAlpha = [250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12]
    /// Share of the side kept by the downscale.
    static let pixelateScale = [0.6, 0.5, 0.4, 0.3, 0.25]
    /// libjpeg quality.
    static let jpegQuality = [25, 18, 15, 10, 7]
    /// HSV saturation gain and offset.
    static let saturation: [(gain: Double, offset: Double)] = [(0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)]

    static func contrast(_ rgb: inout [UInt8], level: Int) {
        let keep = contrastKeep[level]
        var means = [0.0, 0, 0]
        for i in rgb.indices { means[i % 3] += Double(rgb[i]) / 255 }
        for c in 0..<3 { means[c] /= Double(rgb.count / 3) }
        for i in rgb.indices {
            let m = means[i % 3]
            rgb[i] = PixelStore.fromUnit((Double(rgb[i]) / 255 - m) * keep + m)
        }
    }

    static func saturate(_ rgb: inout [UInt8], level: Int) {
        let (gain, offset) = saturation[level]
        for i in stride(from: 0, to: rgb.count, by: 3) {
            var hsv = HSV.fromRGB(Double(rgb[i]) / 255, Double(rgb[i + 1]) / 255, Double(rgb[i + 2]) / 255)
            hsv.s = min(max(hsv.s * gain + offset, 0), 1)
            let out = HSV.toRGB(hsv.h, hsv.s, hsv.v)
            rgb[i] = PixelStore.fromUnit(out.r)
            rgb[i + 1] = PixelStore.fromUnit(out.g)
            rgb[i + 2] = PixelStore.fromUnit(out.b)
        }
    }

    /// A smooth random displacement field (uniform noise blurred with sigma 1% of each side,
    /// scaled by alpha), sampled bilinearly with mirrored edges, all in float32 as the package.
    static func elastic(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let (w, h) = (image.width, image.height)
        let alpha = elasticAlpha[level]
        let limit = Double(h) * 0.005
        func field(_ random: inout CorruptionRandom) -> [Float] {
            var noise = (0..<image.pixelCount).map { _ in random.uniform(-limit, limit) }
            Filters.gaussian(&noise, width: w, height: h, channels: 1, sigmaY: Double(h) * 0.01,
                             sigmaX: Double(w) * 0.01, truncate: 3, border: .reflect)
            return noise.map { Float($0 * alpha) }
        }
        let dx = field(&random)
        let dy = field(&random)
        let source = rgb.map { Float($0) / 255 }
        for y in 0..<h {
            for x in 0..<w {
                let p = y * w + x
                let sy = Double(y) + Double(dy[p])
                let sx = Double(x) + Double(dx[p])
                let y0 = Int(sy.rounded(.down)), x0 = Int(sx.rounded(.down))
                let wy0 = 1 - (sy - Double(y0)), wx0 = 1 - (sx - Double(x0))
                let wy1 = 1 - wy0, wx1 = 1 - wx0
                let r0 = Border.reflect.index(y0, h) * w, r1 = Border.reflect.index(y0 + 1, h) * w
                let c0 = Border.reflect.index(x0, w), c1 = Border.reflect.index(x0 + 1, w)
                for c in 0..<3 {
                    // scipy's order: each corner times the row weight, then the column weight.
                    var t = Double(source[(r0 + c0) * 3 + c]) * wy0 * wx0
                    t += Double(source[(r0 + c1) * 3 + c]) * wy0 * wx1
                    t += Double(source[(r1 + c0) * 3 + c]) * wy1 * wx0
                    t += Double(source[(r1 + c1) * 3 + c]) * wy1 * wx1
                    rgb[p * 3 + c] = PixelStore.fromUnit(Float(t))
                }
            }
        }
    }

    static func pixelate(_ rgb: inout [UInt8], _ image: RGBImage, level: Int) {
        let scale = pixelateScale[level]
        let smallWidth = Int(Double(image.width) * scale), smallHeight = Int(Double(image.height) * scale)
        let small = PillowResize.box(rgb, width: image.width, height: image.height, outWidth: smallWidth,
                                     outHeight: smallHeight)
        rgb = PillowResize.nearest(small, width: smallWidth, height: smallHeight, outWidth: image.width,
                                   outHeight: image.height)
    }
}
