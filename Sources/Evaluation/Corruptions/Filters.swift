import Foundation

/// How a filter reads past the image edge; the package mixes three libraries with three
/// different defaults, and the edge rows of a 128-row frame are a visible share of its MSE.
enum Border {
    /// aaaa|abcd|dddd: scipy and skimage `mode='nearest'` (skimage's `gaussian` default).
    case nearest
    /// dcba|abcd|dcba: scipy `mode='reflect'` (half-sample symmetric).
    case reflect
    /// dcb|abcd|cba: OpenCV's BORDER_DEFAULT (BORDER_REFLECT_101), scipy `mode='mirror'`.
    case reflect101

    /// Index into 0..<n for a possibly out-of-range `i`.
    @inline(__always)
    func index(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        switch self {
        case .nearest:
            return i < 0 ? 0 : n - 1
        case .reflect:
            let period = 2 * n
            var m = i % period
            if m < 0 { m += period }
            return m < n ? m : period - 1 - m
        case .reflect101:
            guard n > 1 else { return 0 }
            let period = 2 * n - 2
            var m = i % period
            if m < 0 { m += period }
            return m < n ? m : period - m
        }
    }
}

/// Separable and small 2-D filters over interleaved planes (`channels` values per pixel).
enum Filters {
    /// scipy's `_gaussian_kernel1d`: radius `Int(truncate * sigma + 0.5)`, normalised to 1.
    static func gaussianKernel(sigma: Double, truncate: Double) -> [Double] {
        let radius = Int(truncate * sigma + 0.5)
        let scale = -0.5 / (sigma * sigma)
        var kernel = (-radius...radius).map { x in Foundation.exp(scale * Double(x * x)) }
        let sum = kernel.reduce(0, +)
        for i in kernel.indices { kernel[i] /= sum }
        return kernel
    }

    /// `scipy.ndimage.gaussian_filter` over the two image axes (rows first, then columns, as
    /// scipy does), never across channels; what skimage's `gaussian(..., multichannel=True)` runs.
    static func gaussian(_ data: inout [Double], width: Int, height: Int, channels: Int, sigmaY: Double,
                         sigmaX: Double, truncate: Double = 4, border: Border = .nearest) {
        var scratch = [Double](repeating: 0, count: data.count)
        if sigmaY > 1e-15 {
            correlate(data, into: &scratch, width: width, height: height, channels: channels,
                      kernel: gaussianKernel(sigma: sigmaY, truncate: truncate), vertical: true, border: border)
            swap(&data, &scratch)
        }
        if sigmaX > 1e-15 {
            correlate(data, into: &scratch, width: width, height: height, channels: channels,
                      kernel: gaussianKernel(sigma: sigmaX, truncate: truncate), vertical: false, border: border)
            swap(&data, &scratch)
        }
    }

    /// One axis of a symmetric odd-length kernel, summed as scipy's `correlate1d` does
    /// (centre first, then pairs from the outside in) so flat areas come out as scipy's do.
    static func correlate(_ source: [Double], into output: inout [Double], width: Int, height: Int, channels: Int,
                          kernel: [Double], vertical: Bool, border: Border) {
        let radius = kernel.count / 2
        let length = vertical ? height : width
        let lines = vertical ? width : height
        let step = vertical ? width * channels : channels
        let lineStep = vertical ? channels : width * channels
        var line = [Double](repeating: 0, count: length + 2 * radius)
        source.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                kernel.withUnsafeBufferPointer { k in
                    for l in 0..<lines {
                        for c in 0..<channels {
                            let base = l * lineStep + c
                            for i in 0..<(length + 2 * radius) {
                                line[i] = src[base + border.index(i - radius, length) * step]
                            }
                            for i in 0..<length {
                                let centre = i + radius
                                var sum = line[centre] * k[radius]
                                var j = radius
                                while j > 0 {
                                    sum += (line[centre - j] + line[centre + j]) * k[radius - j]
                                    j -= 1
                                }
                                dst[base + i * step] = sum
                            }
                        }
                    }
                }
            }
        }
    }

    /// 2-D correlation of one plane with a `size`x`size` kernel (row-major), OpenCV `filter2D` style.
    static func correlate2D(_ plane: [Double], width: Int, height: Int, kernel: [Double], size: Int,
                            border: Border) -> [Double] {
        let radius = size / 2
        let paddedWidth = width + 2 * radius
        var padded = [Double](repeating: 0, count: paddedWidth * (height + 2 * radius))
        for y in 0..<(height + 2 * radius) {
            let sy = border.index(y - radius, height)
            for x in 0..<paddedWidth {
                padded[y * paddedWidth + x] = plane[sy * width + border.index(x - radius, width)]
            }
        }
        var out = [Double](repeating: 0, count: width * height)
        padded.withUnsafeBufferPointer { p in
            kernel.withUnsafeBufferPointer { k in
                out.withUnsafeMutableBufferPointer { o in
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum = 0.0
                            for ky in 0..<size {
                                let row = (y + ky) * paddedWidth + x
                                for kx in 0..<size {
                                    sum += p[row + kx] * k[ky * size + kx]
                                }
                            }
                            o[y * width + x] = sum
                        }
                    }
                }
            }
        }
        return out
    }

    /// Splits interleaved RGB doubles into three planes.
    static func planes(_ rgb: [Double], pixels: Int) -> [[Double]] {
        (0..<3).map { c in (0..<pixels).map { rgb[$0 * 3 + c] } }
    }
}
