import CKernels
import Testing

/// Naive column matrix: row (c, kh, kw), column (oh, ow); rows outside [rowBegin, rowEnd) hold
/// the sentinel.
func kernelReferenceIm2col(_ input: [Float], _ g: KernelGeometry, _ rowBegin: Int, _ rowEnd: Int) -> [Float] {
    let columns = g.outH * g.outW
    var col = [Float](repeating: kernelSentinel, count: g.channels * g.kH * g.kW * columns)
    for c in 0..<g.channels {
        for kh in 0..<g.kH {
            for kw in 0..<g.kW {
                let row = (c * g.kH + kh) * g.kW + kw
                if row < rowBegin || row >= rowEnd { continue }
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        let ih = oh * g.strideH - g.padTop + kh * g.dilH
                        let iw = ow * g.strideW - g.padLeft + kw * g.dilW
                        let inside = ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW
                        col[row * columns + oh * g.outW + ow] = inside ? input[(c * g.inH + ih) * g.inW + iw] : 0
                    }
                }
            }
        }
    }
    return col
}

extension KernelTests {
    @Suite struct Im2col {
        @Test func randomGeometriesMatchNaiveReferenceExactly() {
            var rng = KernelRNG(seed: 21)
            var cases = 0
            while cases < 220 {
                guard let g = KernelGeometry.random(&rng, channels: rng.int(1...3), sizes: [1, 2, 3, 6, 11, 20, 33, 57],
                                                    kernels: [(1, 1), (3, 3), (5, 5), (7, 7), (3, 1), (2, 4)],
                                                    strides: [1, 2, 3], dilations: [1, 2, 3])
                else { continue }
                let rows = g.channels * g.kH * g.kW
                let rowBegin = rng.int(0...(rows - 1))
                let rowEnd = rng.int((rowBegin + 1)...rows)
                let input = rng.floats(g.channels * g.inH * g.inW)
                let want = kernelReferenceIm2col(input, g, rowBegin, rowEnd)
                forEachKernelPath { path in
                    var win = g.window
                    var col = [Float](repeating: kernelSentinel, count: want.count)
                    ck_im2col(input, &col, &win, Int32(rowBegin), Int32(rowEnd))
                    expectKernelIdentical(col, want, "\(path) \(g) rows [\(rowBegin),\(rowEnd))")
                }
                cases += 1
            }
        }
    }
}
