/// Pillow's two resizes that pixelate uses, in Pillow's integer arithmetic: BOX down
/// (two passes, 22-bit fixed-point weights, rounded to bytes in between) and NEAREST up.
enum PillowResize {
    private static let precisionBits = 32 - 8 - 2

    /// `Image.resize((outWidth, outHeight), Image.BOX)` of an RGB8 image.
    static func box(_ rgb: [UInt8], width: Int, height: Int, outWidth: Int, outHeight: Int) -> [UInt8] {
        let (rowBounds, rowWeights, rowTaps) = boxCoefficients(input: height, output: outHeight)
        let (colBounds, colWeights, colTaps) = boxCoefficients(input: width, output: outWidth)
        // Pillow's horizontal pass covers only the rows the vertical pass will read.
        let firstRow = rowBounds[0].start
        let lastRow = rowBounds[outHeight - 1].start + rowBounds[outHeight - 1].count
        var temp = [UInt8](repeating: 0, count: outWidth * (lastRow - firstRow) * 3)
        for y in firstRow..<lastRow {
            for x in 0..<outWidth {
                let b = colBounds[x]
                for c in 0..<3 {
                    var sum = Int32(1) << (precisionBits - 1)
                    for i in 0..<b.count {
                        sum &+= Int32(rgb[(y * width + b.start + i) * 3 + c]) &* colWeights[x * colTaps + i]
                    }
                    temp[((y - firstRow) * outWidth + x) * 3 + c] = clip8(sum)
                }
            }
        }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for y in 0..<outHeight {
            let b = rowBounds[y]
            for x in 0..<outWidth {
                for c in 0..<3 {
                    var sum = Int32(1) << (precisionBits - 1)
                    for i in 0..<b.count {
                        sum &+= Int32(temp[((b.start - firstRow + i) * outWidth + x) * 3 + c]) &* rowWeights[y * rowTaps + i]
                    }
                    out[(y * outWidth + x) * 3 + c] = clip8(sum)
                }
            }
        }
        return out
    }

    /// `Image.resize((outWidth, outHeight), Image.NEAREST)`: Pillow steps the source position
    /// by repeated addition, so its rounding (not `x * scale`) decides which pixel repeats.
    static func nearest(_ rgb: [UInt8], width: Int, height: Int, outWidth: Int, outHeight: Int) -> [UInt8] {
        let xScale = Double(Float(width)) / Double(outWidth)
        let yScale = Double(Float(height)) / Double(outHeight)
        var columns = [Int](repeating: -1, count: outWidth)
        var xo = xScale * 0.5
        for x in 0..<outWidth {
            let xin = xo < 0 ? -1 : Int(xo)
            if xin >= 0 && xin < width { columns[x] = xin }
            xo += xScale
        }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        var yo = yScale * 0.5
        for y in 0..<outHeight {
            let yin = yo < 0 ? -1 : Int(yo)
            yo += yScale
            guard yin >= 0 && yin < height else { continue }
            for x in 0..<outWidth where columns[x] >= 0 {
                for c in 0..<3 { out[(y * outWidth + x) * 3 + c] = rgb[(yin * width + columns[x]) * 3 + c] }
            }
        }
        return out
    }

    private static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> precisionBits
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(v)
    }

    /// Pillow's `precompute_coeffs` for the box filter (support 0.5) and its 8-bit normalisation.
    private static func boxCoefficients(input: Int, output: Int) -> ([(start: Int, count: Int)], [Int32], Int) {
        let scale = Double(Float(input)) / Double(output)
        let filterScale = max(scale, 1)
        let support = 0.5 * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        let inverseScale = 1 / filterScale
        var bounds: [(start: Int, count: Int)] = []
        var weights = [Int32](repeating: 0, count: output * taps)
        for xx in 0..<output {
            let centre = (Double(xx) + 0.5) * scale
            let start = max(Int(centre - support + 0.5), 0)
            let end = min(Int(centre + support + 0.5), input)
            var k = [Double](repeating: 0, count: end - start)
            var total = 0.0
            for x in 0..<(end - start) {
                let arg = (Double(x + start) - centre + 0.5) * inverseScale
                let w: Double = arg > -0.5 && arg <= 0.5 ? 1 : 0
                k[x] = w
                total += w
            }
            for x in k.indices {
                let v = total != 0 ? k[x] / total : k[x]
                weights[xx * taps + x] = Int32(v < 0 ? -0.5 + v * Double(1 << precisionBits) : 0.5 + v * Double(1 << precisionBits))
            }
            bounds.append((start, end - start))
        }
        return (bounds, weights, taps)
    }
}
