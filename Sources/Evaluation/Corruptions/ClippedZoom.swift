import Foundation

/// The package's `clipped_zoom`: the centre 1/zoom of the image, enlarged by `zoom` with
/// `scipy.ndimage.zoom(order=1)` (linear interpolation, corners aligned, constant border).
/// The result is at least as large as the input and is cropped by the caller.
enum ClippedZoom {
    /// `np.arange(start, stop, step)`: numpy's length rule and its `start + i * delta` values,
    /// so zoom_blur stacks exactly as many layers as the package (12 at severity 1, not 11).
    static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
        let count = Int(((stop - start) / step).rounded(.up))
        let delta = (start + step) - start
        return (0..<max(count, 0)).map { start + Double($0) * delta }
    }

    /// Zooms the centre of an interleaved `width`x`height`x`channels` image; returns the
    /// enlarged image and its size (scipy's `round(side * zoom)`, halves to even). Values are
    /// interpolated in double precision, as scipy does whatever the array type; a float32
    /// caller rounds each result to Float, which is what scipy's float32 output does.
    static func zoom(_ image: [Double], width: Int, height: Int, channels: Int,
                     zoom: Double) -> (pixels: [Double], width: Int, height: Int) {
        let cropHeight = Int((Double(height) / zoom).rounded(.up))
        let cropWidth = Int((Double(width) / zoom).rounded(.up))
        let top = (height - cropHeight) / 2
        let left = (width - cropWidth) / 2
        let outHeight = Int((Double(cropHeight) * zoom).rounded(.toNearestOrEven))
        let outWidth = Int((Double(cropWidth) * zoom).rounded(.toNearestOrEven))
        let rows = axis(input: cropHeight, output: outHeight)
        let cols = axis(input: cropWidth, output: outWidth)
        var out = [Double](repeating: 0, count: outWidth * outHeight * channels)
        image.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<outHeight {
                    let r = rows[oy]
                    guard r.inside else { continue }
                    let row0 = (top + r.first) * width
                    let row1 = (top + r.second) * width
                    for ox in 0..<outWidth {
                        let q = cols[ox]
                        guard q.inside else { continue }
                        let c0 = left + q.first
                        let c1 = left + q.second
                        for c in 0..<channels {
                            // scipy's order: each corner value times the row weight, then the column weight.
                            var t = src[(row0 + c0) * channels + c] * r.w0 * q.w0
                            t += src[(row0 + c1) * channels + c] * r.w0 * q.w1
                            t += src[(row1 + c0) * channels + c] * r.w1 * q.w0
                            t += src[(row1 + c1) * channels + c] * r.w1 * q.w1
                            dst[(oy * outWidth + ox) * channels + c] = t
                        }
                    }
                }
            }
        }
        return (out, outWidth, outHeight)
    }

    private struct Tap {
        var inside: Bool
        var first: Int
        var second: Int
        var w0: Double
        var w1: Double
    }

    /// Input positions and weights along one axis: `kk * (in - 1) / (out - 1)`.
    private static func axis(input: Int, output: Int) -> [Tap] {
        let ratio = output > 1 ? Double(input - 1) / Double(output - 1) : 1
        return (0..<output).map { k in
            let cc = Double(k) * ratio
            // scipy's constant mode: a coordinate past the last sample (by rounding) reads cval 0.
            guard cc >= 0, cc <= Double(input - 1) else { return Tap(inside: false, first: 0, second: 0, w0: 0, w1: 0) }
            let start = Int(cc.rounded(.down))
            let w0 = 1 - (cc - Double(start))
            let second = Border.reflect101.index(start + 1, input)
            return Tap(inside: true, first: start, second: second, w0: w0, w1: 1 - w0)
        }
    }
}
