/// The camera's contribution after the scene is shaded: falling snow in front of the lens
/// (semi-transparent, so labels keep the surface behind), a slight optical blur and sensor
/// noise. None of it touches the labels.
extension SceneRenderer {
    func finishImage(from image: UnsafeMutablePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) {
        let w = width, h = height
        let key = state.frameKey
        if style.look.snowfall > 0 {
            let threshold = UInt64(style.look.snowfall * 0.004 * 65536)
            for p in 0..<(w * h) where sceneHash(key, UInt64(p)) & 0xFFFF < threshold {
                let o = p * 3
                for c in 0..<3 { image[o + c] = UInt8((Int(image[o + c]) + 2 * 235) / 3) }
            }
        }
        // Horizontal [1 2 1] into 16-bit sums.
        let stride = w * 3
        for v in 0..<h {
            let row = v * stride
            for u in 0..<w {
                let left = u > 0 ? u - 1 : u
                let right = u < w - 1 ? u + 1 : u
                for c in 0..<3 {
                    rowSums[row + u * 3 + c] = UInt16(image[row + left * 3 + c]) + 2 * UInt16(image[row + u * 3 + c])
                        + UInt16(image[row + right * 3 + c])
                }
            }
        }
        // Vertical [1 2 1], rounding, plus noise from the precomputed table at a per-row offset.
        let mask = SceneRenderer.noiseSize - 1
        for v in 0..<h {
            let above = (v > 0 ? v - 1 : v) * stride
            let here = v * stride
            let below = (v < h - 1 ? v + 1 : v) * stride
            let offset = Int(truncatingIfNeeded: sceneHash(key, UInt64(v)) & UInt64(mask))
            for i in 0..<stride {
                let sum = Int(rowSums[above + i]) + 2 * Int(rowSums[here + i]) + Int(rowSums[below + i])
                let value = (sum + 8) >> 4 + Int(sensorNoise[(offset + i) & mask])
                output[here + i] = UInt8(clamping: value)
            }
        }
    }
}
