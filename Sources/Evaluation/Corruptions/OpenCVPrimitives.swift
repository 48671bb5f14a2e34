/// The OpenCV operations spatter chains to shade its water drops, each with OpenCV's
/// arithmetic and default borders: Canny edges, the 5x5 chamfer distance transform,
/// histogram equalisation, 3x3 box blurs and an 8-bit 3x3 filter.
enum OpenCVPrimitives {
    /// `cv2.Canny(image, low, high)`: 3x3 Sobel (replicated border), L1 magnitude, non-maximum
    /// suppression in four directions, hysteresis over 8-neighbours. 255 on edges, else 0.
    static func canny(_ image: [UInt8], width: Int, height: Int, low: Int, high: Int) -> [UInt8] {
        let count = width * height
        var dx = [Int32](repeating: 0, count: count)
        var dy = [Int32](repeating: 0, count: count)
        var magnitude = [Int32](repeating: 0, count: count)
        func at(_ x: Int, _ y: Int) -> Int32 {
            Int32(image[min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)])
        }
        for y in 0..<height {
            for x in 0..<width {
                let gx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1))
                    - (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1))
                let gy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1))
                    - (at(x - 1, y - 1) + 2 * at(x, y - 1) + at(x + 1, y - 1))
                dx[y * width + x] = gx
                dy[y * width + x] = gy
                magnitude[y * width + x] = abs(gx) + abs(gy)
            }
        }
        func mag(_ x: Int, _ y: Int) -> Int32 {
            x < 0 || y < 0 || x >= width || y >= height ? 0 : magnitude[y * width + x]
        }
        // tan(22.5 degrees) in OpenCV's 15-bit fixed point.
        let tan22: Int64 = 13573
        // 0: candidate (survived suppression, above low), 1: not an edge, 2: edge.
        var state = [UInt8](repeating: 1, count: count)
        var stack: [Int] = []
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let m = magnitude[i]
                guard m > low else { continue }
                let gx = Int64(abs(dx[i])), gy = Int64(abs(dy[i])) << 15
                let t22 = gx * tan22
                let isMaximum: Bool
                if gy < t22 {
                    isMaximum = m > mag(x - 1, y) && m >= mag(x + 1, y)
                } else if gy > t22 + (gx << 16) {
                    isMaximum = m > mag(x, y - 1) && m >= mag(x, y + 1)
                } else {
                    let s = (dx[i] ^ dy[i]) < 0 ? -1 : 1
                    isMaximum = m > mag(x - s, y - 1) && m > mag(x + s, y + 1)
                }
                guard isMaximum else { continue }
                if m > high {
                    state[i] = 2
                    stack.append(i)
                } else {
                    state[i] = 0
                }
            }
        }
        while let i = stack.popLast() {
            let x = i % width, y = i / width
            for ny in max(y - 1, 0)...min(y + 1, height - 1) {
                for nx in max(x - 1, 0)...min(x + 1, width - 1) where state[ny * width + nx] == 0 {
                    state[ny * width + nx] = 2
                    stack.append(ny * width + nx)
                }
            }
        }
        return state.map { $0 == 2 ? 255 : 0 }
    }

    /// `cv2.distanceTransform(image, cv2.DIST_L2, 5)`: distance to the nearest zero pixel by
    /// the 5x5 chamfer (1, 1.4, 2.1969) in 16-bit fixed point; outside the image is far.
    static func chamferDistance(_ image: [UInt8], width: Int, height: Int) -> [Float] {
        let straight: UInt32 = 65536, diagonal: UInt32 = 91750, knight: UInt32 = 143_976
        let far = UInt32(Int32.max)
        let border = 2
        let pitch = width + 2 * border
        var t = [UInt32](repeating: far, count: pitch * (height + 2 * border))
        func index(_ x: Int, _ y: Int) -> Int { (y + border) * pitch + x + border }
        for y in 0..<height {
            for x in 0..<width {
                let i = index(x, y)
                guard image[y * width + x] != 0 else { t[i] = 0; continue }
                var d = t[i - 2 * pitch - 1] &+ knight
                d = min(d, t[i - 2 * pitch + 1] &+ knight)
                d = min(d, t[i - pitch - 2] &+ knight)
                d = min(d, t[i - pitch - 1] &+ diagonal)
                d = min(d, t[i - pitch] &+ straight)
                d = min(d, t[i - pitch + 1] &+ diagonal)
                d = min(d, t[i - pitch + 2] &+ knight)
                d = min(d, t[i - 1] &+ straight)
                t[i] = d
            }
        }
        var out = [Float](repeating: 0, count: width * height)
        let scale: Float = 1 / 65536
        for y in stride(from: height - 1, through: 0, by: -1) {
            for x in stride(from: width - 1, through: 0, by: -1) {
                let i = index(x, y)
                var d = t[i]
                if d > straight {
                    d = min(d, t[i + 2 * pitch + 1] &+ knight)
                    d = min(d, t[i + 2 * pitch - 1] &+ knight)
                    d = min(d, t[i + pitch + 2] &+ knight)
                    d = min(d, t[i + pitch + 1] &+ diagonal)
                    d = min(d, t[i + pitch] &+ straight)
                    d = min(d, t[i + pitch - 1] &+ diagonal)
                    d = min(d, t[i + pitch - 2] &+ knight)
                    d = min(d, t[i + 1] &+ straight)
                    t[i] = d
                }
                out[y * width + x] = Float(d) * scale
            }
        }
        return out
    }

    /// `cv2.equalizeHist`: levels mapped through the cumulative histogram, the lowest used level to 0.
    static func equalizeHistogram(_ image: [UInt8]) -> [UInt8] {
        var histogram = [Int](repeating: 0, count: 256)
        for v in image { histogram[Int(v)] += 1 }
        guard var i = histogram.firstIndex(where: { $0 > 0 }) else { return image }
        if histogram[i] == image.count { return [UInt8](repeating: UInt8(i), count: image.count) }
        let scale = Float(255) / Float(image.count - histogram[i])
        var table = [UInt8](repeating: 0, count: 256)
        var sum = 0
        i += 1
        while i < 256 {
            sum += histogram[i]
            table[i] = saturate(Float(sum) * scale)
            i += 1
        }
        return image.map { table[Int($0)] }
    }

    /// `cv2.blur(image, (3, 3))` of a float32 image: double sums, times 1/9.
    static func boxBlur3(_ image: [Float], width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0
                for ky in -1...1 {
                    let row = Border.reflect101.index(y + ky, height) * width
                    var rowSum = 0.0
                    for kx in -1...1 { rowSum += Double(image[row + Border.reflect101.index(x + kx, width)]) }
                    sum += rowSum
                }
                out[y * width + x] = Float(sum * (1.0 / 9))
            }
        }
        return out
    }

    /// `cv2.blur(image, (3, 3))` of an 8-bit image: OpenCV's fixed-point rounding of sum / 9.
    static func boxBlur3(_ image: [UInt8], width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0
                for ky in -1...1 {
                    let row = Border.reflect101.index(y + ky, height) * width
                    for kx in -1...1 { sum += Int(image[row + Border.reflect101.index(x + kx, width)]) }
                }
                out[y * width + x] = UInt8(truncatingIfNeeded: ((sum + 4) * 932_068) >> 23)
            }
        }
        return out
    }

    /// `cv2.filter2D(image, cv2.CV_8U, kernel)` for a 3x3 kernel (correlation, reflect-101 border,
    /// rounded and saturated to bytes).
    static func filter3(_ image: [UInt8], width: Int, height: Int, kernel: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for ky in 0..<3 {
                    let row = Border.reflect101.index(y + ky - 1, height) * width
                    for kx in 0..<3 {
                        sum += kernel[ky * 3 + kx] * Float(image[row + Border.reflect101.index(x + kx - 1, width)])
                    }
                }
                out[y * width + x] = saturate(sum)
            }
        }
        return out
    }

    /// `saturate_cast<uchar>(float)`: round half to even, clamp to 0...255.
    static func saturate(_ v: Float) -> UInt8 {
        let r = v.rounded(.toNearestOrEven)
        return r <= 0 ? 0 : r >= 255 ? 255 : UInt8(r)
    }
}
