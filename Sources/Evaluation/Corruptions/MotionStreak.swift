import Foundation

/// The package's `_motion_blur`, shared by motion_blur and snow: the image is added to itself
/// shifted step by step along `angle`, with one-sided Gaussian weights, so the streak trails
/// behind each feature instead of spreading both ways. Shifts clamp at the edges.
enum MotionStreak {
    static func apply(_ image: [Double], width: Int, height: Int, channels: Int, radius: Int, sigma: Double,
                      angleDegrees: Double) -> [Double] {
        let taps = 2 * radius + 1
        var kernel = (0..<taps).map { i in
            Foundation.exp(-Double(i * i) / (2 * (sigma * sigma))) / ((2 * Double.pi).squareRoot() * sigma)
        }
        let total = kernel.reduce(0, +)
        for i in kernel.indices { kernel[i] /= total }
        let radians = angleDegrees * (Double.pi / 180)
        let pointY = Double(taps) * Foundation.sin(radians)
        let pointX = Double(taps) * Foundation.cos(radians)
        let length = Foundation.hypot(pointY, pointX)

        var out = [Double](repeating: 0, count: image.count)
        var columns = [Int](repeating: 0, count: width)
        image.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<taps {
                    let dy = -Int((Double(i) * pointY / length - 0.5).rounded(.up))
                    let dx = -Int((Double(i) * pointX / length - 0.5).rounded(.up))
                    // The package stops once a shift leaves the image.
                    if abs(dy) >= height || abs(dx) >= width { break }
                    let w = kernel[i]
                    for x in 0..<width { columns[x] = min(max(x - dx, 0), width - 1) }
                    for y in 0..<height {
                        let sy = min(max(y - dy, 0), height - 1)
                        let srcRow = sy * width * channels
                        let dstRow = y * width * channels
                        for x in 0..<width {
                            let s = srcRow + columns[x] * channels
                            let d = dstRow + x * channels
                            for c in 0..<channels { dst[d + c] = dst[d + c] + w * src[s + c] }
                        }
                    }
                }
            }
        }
        return out
    }
}
