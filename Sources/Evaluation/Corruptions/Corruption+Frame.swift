import Sensors

extension Corruption {
    /// Corrupts an rgb8 or bgr8 frame in place; padded rows (stride > width * 3) are kept padded.
    public func apply(to frame: inout Frame, severity: Int, seed: UInt64) throws(CorruptionError) {
        guard frame.format == .rgb8 || frame.format == .bgr8 else {
            throw CorruptionError.pixelFormat(frame.format.rawValue)
        }
        let row = frame.width * 3
        guard frame.stride >= row, frame.pixels.count >= frame.stride * frame.height else {
            throw CorruptionError.geometry(bytes: frame.pixels.count, width: frame.width, height: frame.height)
        }
        var rgb = [UInt8](repeating: 0, count: row * frame.height)
        // bgr8 goes through RGB so that colour-dependent corruptions (spatter's water, JPEG's
        // luma weights, frost's tint) keep their colours.
        let swap = frame.format == .bgr8
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let s = y * frame.stride + x * 3, d = y * row + x * 3
                rgb[d] = frame.pixels[s + (swap ? 2 : 0)]
                rgb[d + 1] = frame.pixels[s + 1]
                rgb[d + 2] = frame.pixels[s + (swap ? 0 : 2)]
            }
        }
        try apply(to: &rgb, width: frame.width, height: frame.height, severity: severity, seed: seed)
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let s = y * row + x * 3, d = y * frame.stride + x * 3
                frame.pixels[d + (swap ? 2 : 0)] = rgb[s]
                frame.pixels[d + 1] = rgb[s + 1]
                frame.pixels[d + (swap ? 0 : 2)] = rgb[s + 2]
            }
        }
    }
}
