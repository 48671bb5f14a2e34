/// A grid of rendered frames for looking at the generator's output: one band per domain,
/// each band a row of images above a row of the matching colour-coded labels.
public enum ContactSheet {
    /// Renders `frames` of every domain for `seed` at width x height, shrinks each tile by
    /// `downsample` (box filter for images, top-left sample for labels) and returns the
    /// sheet as RGB pixels with its size.
    public static func render(seed: UInt64, frames: [Int], width renderWidth: Int, height renderHeight: Int,
                              downsample: Int = 1, domains: [SceneDomain] = SceneDomain.allCases) throws
        -> (width: Int, height: Int, pixels: [UInt8]) {
        let factor = max(1, downsample)
        let tileWidth = renderWidth / factor, tileHeight = renderHeight / factor
        let gap = 4
        let columns = max(frames.count, 1)
        let width = columns * tileWidth + (columns + 1) * gap
        let height = domains.count * (2 * tileHeight + gap) + (domains.count + 1) * gap
        var sheet = [UInt8](repeating: 24, count: width * height * 3)
        var rgb = [UInt8](repeating: 0, count: renderWidth * renderHeight * 3)
        var labels = [UInt8](repeating: 0, count: renderWidth * renderHeight)
        let palette = ClassTable.palette
        let area = factor * factor
        for (row, domain) in domains.enumerated() {
            let renderer = try SceneRenderer(domain: domain, seed: seed, width: renderWidth, height: renderHeight)
            let top = gap + row * (2 * tileHeight + 2 * gap)
            for (column, frame) in frames.enumerated() {
                rgb.withUnsafeMutableBufferPointer { image in
                    labels.withUnsafeMutableBufferPointer { label in
                        renderer.render(frame: frame, rgb: image, labels: label)
                    }
                }
                let left = gap + column * (tileWidth + gap)
                for y in 0..<tileHeight {
                    for x in 0..<tileWidth {
                        let imageTarget = ((top + y) * width + left + x) * 3
                        let labelTarget = ((top + tileHeight + gap + y) * width + left + x) * 3
                        let id = Int(labels[(y * factor) * renderWidth + x * factor])
                        for c in 0..<3 {
                            var sum = 0
                            for dy in 0..<factor {
                                for dx in 0..<factor {
                                    sum += Int(rgb[((y * factor + dy) * renderWidth + x * factor + dx) * 3 + c])
                                }
                            }
                            sheet[imageTarget + c] = UInt8((sum + area / 2) / area)
                            sheet[labelTarget + c] = palette[id * 3 + c]
                        }
                    }
                }
            }
        }
        return (width, height, sheet)
    }

    /// The sheet encoded as PNG.
    public static func png(seed: UInt64, frames: [Int], width: Int, height: Int, downsample: Int = 1,
                           domains: [SceneDomain] = SceneDomain.allCases) throws -> [UInt8] {
        let sheet = try render(seed: seed, frames: frames, width: width, height: height, downsample: downsample,
                               domains: domains)
        return try sheet.pixels.withUnsafeBufferPointer {
            try PNGWriter.rgb(width: sheet.width, height: sheet.height, pixels: $0)
        }
    }
}
