import Foundation

/// Blurs: defocus (disk), glass (blur, local pixel shuffle, blur), motion (one-sided streak),
/// zoom (average of centre zooms) and gaussian.
enum BlurCorruptions {
    /// Disk radius and the Gaussian that antialiases its rim.
    static let defocusDisk: [(radius: Int, aliasBlur: Double)] = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)]
    /// Gaussian sigma, largest pixel displacement, shuffle passes.
    static let glass: [(sigma: Double, delta: Int, passes: Int)] = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)]
    /// Streak length (radius) and the sigma of its weights.
    static let motion: [(radius: Int, sigma: Double)] = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)]
    /// `np.arange` arguments of the zoom factors.
    static let zoomFactors: [(start: Double, stop: Double, step: Double)] =
        [(1, 1.11, 0.01), (1, 1.16, 0.01), (1, 1.21, 0.02), (1, 1.26, 0.02), (1, 1.31, 0.03)]
    /// Gaussian sigma in pixels.
    static let gaussianSigma = [1.0, 2, 3, 4, 6]

    static func defocus(_ rgb: inout [UInt8], _ image: RGBImage, level: Int) {
        let (kernel, size) = diskKernel(radius: defocusDisk[level].radius, aliasBlur: defocusDisk[level].aliasBlur)
        let planes = Filters.planes(PixelStore.unit(rgb), pixels: image.pixelCount)
        for c in 0..<3 {
            let blurred = Filters.correlate2D(planes[c], width: image.width, height: image.height, kernel: kernel,
                                              size: size, border: .reflect101)
            for p in 0..<image.pixelCount { rgb[p * 3 + c] = PixelStore.fromUnit(blurred[p]) }
        }
    }

    /// The package's `disk`: a normalised binary disk on a grid of at least 17x17, softened by
    /// `cv2.GaussianBlur` (3x3 up to radius 8, 5x5 beyond) in float32, as OpenCV computes it.
    static func diskKernel(radius: Int, aliasBlur: Double) -> ([Double], Int) {
        let half = radius <= 8 ? 8 : radius
        let blurSize = radius <= 8 ? 3 : 5
        let size = 2 * half + 1
        var disk = [Float](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let dx = x - half, dy = y - half
                disk[y * size + x] = dx * dx + dy * dy <= radius * radius ? 1 : 0
            }
        }
        let total = disk.reduce(0, +)
        for i in disk.indices { disk[i] /= total }

        // cv2.getGaussianKernel(blurSize, aliasBlur, CV_32F).
        let scale = -0.5 / (aliasBlur * aliasBlur)
        var taps = (0..<blurSize).map { i -> Float in
            let x = Double(i) - Double(blurSize - 1) * 0.5
            return Float(Foundation.exp(scale * x * x))
        }
        let inverse = 1 / taps.reduce(0.0) { $0 + Double($1) }
        for i in taps.indices { taps[i] = Float(Double(taps[i]) * inverse) }

        let r = blurSize / 2
        var rows = [Float](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                var sum: Float = 0
                for k in 0..<blurSize { sum += taps[k] * disk[y * size + Border.reflect101.index(x + k - r, size)] }
                rows[y * size + x] = sum
            }
        }
        var kernel = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                var sum: Float = 0
                for k in 0..<blurSize { sum += taps[k] * rows[Border.reflect101.index(y + k - r, size) * size + x] }
                kernel[y * size + x] = Double(sum)
            }
        }
        return (kernel, size)
    }

    static func glass(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let (sigma, delta, passes) = glass[level]
        let (w, h) = (image.width, image.height)
        var x = PixelStore.unit(rgb)
        Filters.gaussian(&x, width: w, height: h, channels: 3, sigmaY: sigma, sigmaX: sigma)
        var shuffled = x.map { UInt8(min($0 * 255, 255)) }
        for _ in 0..<passes {
            // From the bottom-right corner back; each pixel takes the value of a random
            // neighbour. The package means to swap the two, but its numpy tuple assignment
            // copies through views, so only this pixel changes: keep that.
            var row = h - delta
            while row > delta {
                var col = w - delta
                while col > delta {
                    let dx = random.integer(-delta, delta)
                    let dy = random.integer(-delta, delta)
                    let target = (row * w + col) * 3
                    let source = ((row + dy) * w + col + dx) * 3
                    shuffled[target] = shuffled[source]
                    shuffled[target + 1] = shuffled[source + 1]
                    shuffled[target + 2] = shuffled[source + 2]
                    col -= 1
                }
                row -= 1
            }
        }
        var y = PixelStore.unit(shuffled)
        Filters.gaussian(&y, width: w, height: h, channels: 3, sigmaY: sigma, sigmaX: sigma)
        for i in rgb.indices { rgb[i] = PixelStore.fromUnit(y[i]) }
    }

    static func motion(_ rgb: inout [UInt8], _ image: RGBImage, level: Int, random: inout CorruptionRandom) {
        let angle = random.uniform(-45, 45)
        let levels = rgb.map(Double.init)
        let streaked = MotionStreak.apply(levels, width: image.width, height: image.height, channels: 3,
                                          radius: motion[level].radius, sigma: motion[level].sigma, angleDegrees: angle)
        for i in rgb.indices { rgb[i] = PixelStore.fromLevel(streaked[i]) }
    }

    static func zoom(_ rgb: inout [UInt8], _ image: RGBImage, level: Int) {
        let (w, h) = (image.width, image.height)
        // The package runs zoom_blur in float32.
        let x = rgb.map { Float(Double($0) / 255) }
        let wide = x.map(Double.init)
        var sum = [Float](repeating: 0, count: x.count)
        let factors = ClippedZoom.arange(zoomFactors[level].start, zoomFactors[level].stop, zoomFactors[level].step)
        for factor in factors {
            let layer = ClippedZoom.zoom(wide, width: w, height: h, channels: 3, zoom: factor)
            for row in 0..<min(h, layer.height) {
                for i in 0..<(min(w, layer.width) * 3) {
                    sum[row * w * 3 + i] += Float(layer.pixels[row * layer.width * 3 + i])
                }
            }
        }
        let layers = Float(factors.count + 1)
        for i in rgb.indices { rgb[i] = PixelStore.fromUnit((x[i] + sum[i]) / layers) }
    }

    static func gaussian(_ rgb: inout [UInt8], _ image: RGBImage, level: Int) {
        var x = PixelStore.unit(rgb)
        Filters.gaussian(&x, width: image.width, height: image.height, channels: 3,
                         sigmaY: gaussianSigma[level], sigmaX: gaussianSigma[level])
        for i in rgb.indices { rgb[i] = PixelStore.fromUnit(x[i]) }
    }
}
