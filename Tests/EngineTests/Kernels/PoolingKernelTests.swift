import CKernels
import Testing

/// Naive ONNX pooling in Double (ONNX Runtime's conventions; see Pooling.c): max ignores padding
/// and gives -Float.greatestFiniteMagnitude for a window without in-image taps; average divides
/// by the in-image taps, or with `includePad` by the taps inside the padded extent.
func kernelReferencePool(_ input: [Float], _ g: KernelGeometry, max isMax: Bool, includePad: Bool,
                   _ cBegin: Int, _ cEnd: Int) -> [Double] {
    var out = [Double](repeating: Double(kernelSentinel), count: g.channels * g.outH * g.outW)
    for c in cBegin..<cEnd {
        for oh in 0..<g.outH {
            for ow in 0..<g.outW {
                let hs = oh * g.strideH - g.padTop, ws = ow * g.strideW - g.padLeft
                let hPad = (0..<g.kH).filter { hs + $0 * g.dilH < g.inH + g.padBottom }.count
                let wPad = (0..<g.kW).filter { ws + $0 * g.dilW < g.inW + g.padRight }.count
                var best = -Double.infinity, sum = 0.0, inImage = 0
                for kh in 0..<g.kH {
                    for kw in 0..<g.kW {
                        let ih = hs + kh * g.dilH, iw = ws + kw * g.dilW
                        guard ih >= 0, ih < g.inH, iw >= 0, iw < g.inW else { continue }
                        let v = Double(input[(c * g.inH + ih) * g.inW + iw])
                        best = Swift.max(best, v)
                        sum += v
                        inImage += 1
                    }
                }
                let o = (c * g.outH + oh) * g.outW + ow
                if isMax {
                    out[o] = inImage == 0 ? -Double(Float.greatestFiniteMagnitude) : best
                } else {
                    let divisor = includePad ? hPad * wPad : inImage
                    out[o] = divisor == 0 ? 0 : sum / Double(divisor)
                }
            }
        }
    }
    return out
}

extension KernelTests {
    @Suite struct Pooling {
        static func geometries(seed: UInt64, count: Int, ceilMode: Bool) -> [KernelGeometry] {
            var rng = KernelRNG(seed: seed)
            var result: [KernelGeometry] = []
            while result.count < count {
                if let g = KernelGeometry.random(&rng, channels: 3, sizes: [1, 2, 4, 5, 9, 16, 27, 41, 66],
                                                 kernels: [(2, 2), (3, 3), (5, 5), (7, 7), (3, 2), (1, 4)],
                                                 strides: [1, 2, 3], dilations: [1, 1, 2, 3],
                                                 ceilMode: ceilMode, padsBelowKernel: true) {
                    result.append(g)
                }
            }
            return result
        }

        @Test(arguments: [false, true])
        func maxPoolMatchesReferenceExactly(ceilMode: Bool) {
            var rng = KernelRNG(seed: ceilMode ? 51 : 52)
            for g in Self.geometries(seed: ceilMode ? 53 : 54, count: 150, ceilMode: ceilMode) {
                let cBegin = rng.int(0...2), cEnd = rng.int((cBegin + 1)...3)
                let input = rng.floats(g.channels * g.inH * g.inW, -5, 5)
                let want = kernelReferencePool(input, g, max: true, includePad: false, cBegin, cEnd).map(Float.init)
                forEachKernelPath { path in
                    var win = g.window
                    var out = [Float](repeating: kernelSentinel, count: want.count)
                    ck_maxpool2d(input, &out, &win, Int32(cBegin), Int32(cEnd))
                    expectKernelIdentical(out, want, "\(path) \(g) c[\(cBegin),\(cEnd))")
                }
            }
        }

        /// Negative inputs everywhere: a padding zero would win if padding were counted.
        @Test func maxPoolPaddingNeverWins() {
            let g = KernelGeometry(channels: 1, inH: 5, inW: 19, kH: 3, kW: 3, strideH: 2, strideW: 2, dilH: 1, dilW: 1,
                                   padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, outH: 3, outW: 10)
            var rng = KernelRNG(seed: 55)
            let input = rng.floats(g.inH * g.inW, -9, -1)
            let want = kernelReferencePool(input, g, max: true, includePad: false, 0, 1).map(Float.init)
            forEachKernelPath { path in
                var win = g.window
                var out = [Float](repeating: 0, count: want.count)
                ck_maxpool2d(input, &out, &win, 0, 1)
                expectKernelIdentical(out, want, "\(path)")
                #expect(out.allSatisfy { $0 < 0 }, "\(path)")
            }
        }

        @Test(arguments: [(false, 0), (false, 1), (true, 0), (true, 1)])
        func averagePoolWithExplicitPadsMatchesReference(ceilMode: Bool, includePad: Int) {
            var rng = KernelRNG(seed: 60 + UInt64(includePad) + (ceilMode ? 2 : 0))
            for g in Self.geometries(seed: 64 + UInt64(includePad) + (ceilMode ? 2 : 0), count: 150, ceilMode: ceilMode) {
                let cBegin = rng.int(0...2), cEnd = rng.int((cBegin + 1)...3)
                let input = rng.floats(g.channels * g.inH * g.inW, -5, 5)
                let want = kernelReferencePool(input, g, max: false, includePad: includePad == 1, cBegin, cEnd)
                forEachKernelPath { path in
                    var win = g.window
                    var out = [Float](repeating: kernelSentinel, count: want.count)
                    ck_avgpool2d_padded(input, &out, &win, Int32(g.padBottom), Int32(g.padRight), Int32(includePad),
                                        Int32(cBegin), Int32(cEnd))
                    expectKernelClose(out, want, "\(path) \(g) include_pad \(includePad) c[\(cBegin),\(cEnd))")
                }
            }
        }

        /// Without explicit bottom/right pads the result is exact for floor-mode shapes.
        @Test(arguments: [0, 1])
        func averagePoolFloorModeNeedsNoExplicitPads(includePad: Int) {
            var rng = KernelRNG(seed: 70 + UInt64(includePad))
            for g in Self.geometries(seed: 72 + UInt64(includePad), count: 150, ceilMode: false) {
                let input = rng.floats(g.channels * g.inH * g.inW, -5, 5)
                let want = kernelReferencePool(input, g, max: false, includePad: includePad == 1, 0, 3)
                forEachKernelPath { path in
                    var win = g.window
                    var out = [Float](repeating: kernelSentinel, count: want.count)
                    ck_avgpool2d(input, &out, &win, Int32(includePad), 0, 3)
                    expectKernelClose(out, want, "\(path) \(g) include_pad \(includePad)")
                }
            }
        }

        /// Dilation can leave a window with no tap in the image (ONNX Runtime: max gives
        /// -FLT_MAX, average gives 0): per window, and for a whole output row.
        @Test func windowsWithoutImageTaps() {
            // Rows in the image, columns -1 and 2 of a 2-wide image: empty windows one by one.
            let g = KernelGeometry(channels: 2, inH: 5, inW: 2, kH: 2, kW: 2, strideH: 1, strideW: 1, dilH: 1, dilW: 3,
                                   padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, outH: 6, outW: 1)
            // Input rows -1 and 3 of a 3-high image: a whole output row of empty windows.
            let wide = KernelGeometry(channels: 1, inH: 3, inW: 19, kH: 2, kW: 2, strideH: 1, strideW: 1, dilH: 4, dilW: 4,
                                      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, outH: 1, outW: 17)
            var rng = KernelRNG(seed: 81)
            for geometry in [g, wide] {
                let input = rng.floats(geometry.channels * geometry.inH * geometry.inW, -5, 5)
                let wantMax = kernelReferencePool(input, geometry, max: true, includePad: false, 0, geometry.channels).map(Float.init)
                forEachKernelPath { path in
                    var win = geometry.window
                    var out = [Float](repeating: kernelSentinel, count: wantMax.count)
                    ck_maxpool2d(input, &out, &win, 0, Int32(geometry.channels))
                    expectKernelIdentical(out, wantMax, "\(path) max \(geometry)")
                    for includePad in [0, 1] {
                        let want = kernelReferencePool(input, geometry, max: false, includePad: includePad == 1, 0, geometry.channels)
                        ck_avgpool2d_padded(input, &out, &win, 1, 1, Int32(includePad), 0, Int32(geometry.channels))
                        expectKernelClose(out, want, "\(path) avg include_pad \(includePad) \(geometry)")
                    }
                }
                #expect(wantMax.contains(-Float.greatestFiniteMagnitude), "the geometry must contain an empty window")
            }
        }

        @Test func globalAveragePoolMatchesReference() {
            var rng = KernelRNG(seed: 80)
            for spatial in [1, 3, 8, 15, 16, 17, 100, 512, 4099] {
                let channels = 4, cBegin = rng.int(0...3), cEnd = rng.int((cBegin + 1)...4)
                let input = rng.floats(channels * spatial, -3, 5)
                var want = [Double](repeating: Double(kernelSentinel), count: channels)
                for c in cBegin..<cEnd {
                    want[c] = input[(c * spatial)..<((c + 1) * spatial)].reduce(0.0) { $0 + Double($1) } / Double(spatial)
                }
                forEachKernelPath { path in
                    var out = [Float](repeating: kernelSentinel, count: channels)
                    ck_global_avgpool(input, &out, Int32(spatial), Int32(cBegin), Int32(cEnd))
                    expectKernelClose(out, want, rtol: 1e-6, atol: 1e-6, "\(path) spatial \(spatial) c[\(cBegin),\(cEnd))")
                }
            }
        }
    }
}
