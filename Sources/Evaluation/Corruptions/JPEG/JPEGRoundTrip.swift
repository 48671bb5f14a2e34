/// What Pillow's `save(format='JPEG', quality=q)` followed by `Image.open` does to an RGB
/// image, computed without the file: JFIF YCbCr, 4:2:0 chroma (Pillow's default), islow DCT,
/// baseline quantisation at libjpeg's quality scaling, and on the way back the islow IDCT,
/// libjpeg's "fancy" (triangle) chroma upsampling and fixed-point colour conversion.
///
/// The Huffman stage is left out: it is lossless, so the decoded pixels are the same with or
/// without it; everything lossy follows libjpeg-turbo step by step, edges included.
enum JPEGRoundTrip {
    /// One component plane padded to whole 8x8 blocks.
    private struct Plane {
        var width: Int
        var height: Int
        var samples: [UInt8]
    }

    static func apply(_ rgb: inout [UInt8], _ image: RGBImage, quality: Int) {
        let (w, h) = (image.width, image.height)
        var y = [UInt8](repeating: 0, count: w * h)
        var cb = y, cr = y
        for p in 0..<(w * h) {
            (y[p], cb[p], cr[p]) = JPEGColor.ycc(rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2])
        }
        let luminance = JPEGQuantization(base: JPEGQuantization.luminanceBase, quality: quality)
        let chrominance = JPEGQuantization(base: JPEGQuantization.chrominanceBase, quality: quality)

        let yDecoded = roundTrip(lumaPlane(y, width: w, height: h), quantization: luminance)
        // Chroma is coded at half resolution in both directions; its real extent is ceil(side / 2).
        let (chromaWidth, chromaHeight) = ((w + 1) / 2, (h + 1) / 2)
        let cbDecoded = roundTrip(chromaPlane(cb, width: w, height: h), quantization: chrominance)
        let crDecoded = roundTrip(chromaPlane(cr, width: w, height: h), quantization: chrominance)
        let cbFull = fancyUpsample(cbDecoded, width: chromaWidth, height: chromaHeight)
        let crFull = fancyUpsample(crDecoded, width: chromaWidth, height: chromaHeight)

        let fullStride = 2 * chromaWidth
        for row in 0..<h {
            for col in 0..<w {
                let p = row * w + col
                let c = row * fullStride + col
                (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]) =
                    JPEGColor.rgb(yDecoded.samples[row * yDecoded.width + col], cbFull[c], crFull[c])
            }
        }
    }

    /// Luma at full resolution, padded to whole blocks by repeating the last column and row
    /// (libjpeg's expand_right_edge and expand_bottom_edge).
    private static func lumaPlane(_ y: [UInt8], width: Int, height: Int) -> Plane {
        let pw = (width + 7) / 8 * 8, ph = (height + 7) / 8 * 8
        var out = [UInt8](repeating: 0, count: pw * ph)
        for row in 0..<ph {
            let sy = min(row, height - 1)
            for col in 0..<pw { out[row * pw + col] = y[sy * width + min(col, width - 1)] }
        }
        return Plane(width: pw, height: ph, samples: out)
    }

    /// libjpeg's h2v2 downsampling: the mean of each 2x2 with a bias alternating 1, 2 along
    /// the row (so the rounding does not drift); the image edge repeats before averaging, and
    /// the last chroma row repeats to fill the last block row.
    private static func chromaPlane(_ c: [UInt8], width: Int, height: Int) -> Plane {
        let realRows = (height + 1) / 2
        let blocksWide = (width + 15) / 16, blocksHigh = (height + 15) / 16
        let pw = blocksWide * 8, ph = blocksHigh * 8
        var out = [UInt8](repeating: 0, count: pw * ph)
        for row in 0..<ph {
            let cy = min(row, realRows - 1)
            let y0 = 2 * cy, y1 = min(2 * cy + 1, height - 1)
            for col in 0..<pw {
                let x0 = min(2 * col, width - 1), x1 = min(2 * col + 1, width - 1)
                let sum = Int(c[y0 * width + x0]) + Int(c[y0 * width + x1]) + Int(c[y1 * width + x0])
                    + Int(c[y1 * width + x1])
                out[row * pw + col] = UInt8((sum + (col & 1 == 0 ? 1 : 2)) >> 2)
            }
        }
        return Plane(width: pw, height: ph, samples: out)
    }

    /// Encodes and decodes every block of a plane: DCT, quantise, dequantise, IDCT.
    private static func roundTrip(_ plane: Plane, quantization: JPEGQuantization) -> Plane {
        var out = plane
        var block = [Int32](repeating: 0, count: 64)
        var decoded = [UInt8](repeating: 0, count: 64)
        for by in stride(from: 0, to: plane.height, by: 8) {
            for bx in stride(from: 0, to: plane.width, by: 8) {
                for r in 0..<8 {
                    for c in 0..<8 { block[r * 8 + c] = Int32(plane.samples[(by + r) * plane.width + bx + c]) - 128 }
                }
                JPEGDCT.forward(&block)
                quantization.quantize(&block)
                JPEGDCT.inverse(block, steps: quantization.steps, into: &decoded)
                for r in 0..<8 {
                    for c in 0..<8 { out.samples[(by + r) * plane.width + bx + c] = decoded[r * 8 + c] }
                }
            }
        }
        return out
    }

    /// libjpeg's h2v2 "fancy" upsampling: each output sample is 9/16, 3/16, 3/16, 1/16 of the
    /// nearest four chroma samples (edges repeat), with libjpeg's alternating rounding (+8, +7).
    /// Returns a `2 * width` x `2 * height` plane.
    private static func fancyUpsample(_ plane: Plane, width: Int, height: Int) -> [UInt8] {
        let outWidth = 2 * width
        var out = [UInt8](repeating: 0, count: outWidth * 2 * height)
        var columnSums = [Int](repeating: 0, count: width)
        for row in 0..<height {
            for v in 0..<2 {
                let neighbour = v == 0 ? max(row - 1, 0) : min(row + 1, height - 1)
                for col in 0..<width {
                    columnSums[col] = 3 * Int(plane.samples[row * plane.width + col])
                        + Int(plane.samples[neighbour * plane.width + col])
                }
                let outRow = (2 * row + v) * outWidth
                for col in 0..<width {
                    let this = columnSums[col]
                    let left = columnSums[max(col - 1, 0)], right = columnSums[min(col + 1, width - 1)]
                    out[outRow + 2 * col] = UInt8((this * 3 + left + 8) >> 4)
                    out[outRow + 2 * col + 1] = UInt8((this * 3 + right + 7) >> 4)
                }
            }
        }
        return out
    }
}
