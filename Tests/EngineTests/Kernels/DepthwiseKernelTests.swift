import CKernels
import Testing

/// Naive depthwise convolution in Double; channels outside [cBegin, cEnd) hold the sentinel.
func kernelReferenceDepthwise(_ input: [Float], _ weight: [Float], _ bias: [Float]?, _ residual: [Float]?,
                        _ g: KernelGeometry, _ act: ck_activation, _ cBegin: Int, _ cEnd: Int) -> [Double] {
    var out = [Double](repeating: Double(kernelSentinel), count: g.channels * g.outH * g.outW)
    for c in cBegin..<cEnd {
        for oh in 0..<g.outH {
            for ow in 0..<g.outW {
                var acc = Double(bias?[c] ?? 0)
                for kh in 0..<g.kH {
                    let ih = oh * g.strideH - g.padTop + kh * g.dilH
                    if ih < 0 || ih >= g.inH { continue }
                    for kw in 0..<g.kW {
                        let iw = ow * g.strideW - g.padLeft + kw * g.dilW
                        if iw < 0 || iw >= g.inW { continue }
                        acc += Double(weight[(c * g.kH + kh) * g.kW + kw]) * Double(input[(c * g.inH + ih) * g.inW + iw])
                    }
                }
                let o = (c * g.outH + oh) * g.outW + ow
                if let residual { acc += Double(residual[o]) }
                out[o] = kernelReferenceActivation(acc, act)
            }
        }
    }
    return out
}

/// Runs ck_depthwise_conv2d on fresh copies; `aliasResidual` passes the residual as the output.
func runKernelDepthwise(_ input: [Float], _ weight: [Float], _ bias: [Float]?, _ residual: [Float]?,
                  _ g: KernelGeometry, _ act: ck_activation, _ cBegin: Int, _ cEnd: Int,
                  aliasResidual: Bool = false) -> [Float] {
    var win = g.window
    var out: [Float]
    if aliasResidual, let residual {
        out = residual
        for c in 0..<g.channels where c < cBegin || c >= cEnd {
            for i in 0..<(g.outH * g.outW) { out[c * g.outH * g.outW + i] = kernelSentinel }
        }
    } else {
        out = [Float](repeating: kernelSentinel, count: g.channels * g.outH * g.outW)
    }
    let bias = bias ?? []
    let residual = residual ?? []
    let useBias = !bias.isEmpty, useResidual = !residual.isEmpty
    bias.withUnsafeBufferPointer { b in
        residual.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { o in
                let residualPointer = aliasResidual ? UnsafePointer(o.baseAddress) : (useResidual ? r.baseAddress : nil)
                ck_depthwise_conv2d(input, weight, useBias ? b.baseAddress : nil, residualPointer,
                                    o.baseAddress, &win, Int32(cBegin), Int32(cEnd), act)
            }
        }
    }
    return out
}

extension KernelTests {
    @Suite struct Depthwise {
        /// Checks both paths for one case and names everything needed to reproduce a failure.
        func check(_ g: KernelGeometry, _ rng: inout KernelRNG, act: ck_activation, withBias: Bool,
                   withResidual: Bool, cBegin: Int, cEnd: Int, aliasResidual: Bool = false) {
            let input = rng.floats(g.channels * g.inH * g.inW)
            let weight = rng.floats(g.channels * g.kH * g.kW)
            let bias = withBias ? rng.floats(g.channels) : nil
            let residual = withResidual ? rng.floats(g.channels * g.outH * g.outW) : nil
            let want = kernelReferenceDepthwise(input, weight, bias, residual, g, act, cBegin, cEnd)
            forEachKernelPath { path in
                let got = runKernelDepthwise(input, weight, bias, residual, g, act, cBegin, cEnd, aliasResidual: aliasResidual)
                expectKernelClose(got, want, "\(path) \(g) act \(act.kind) bias \(withBias) residual \(withResidual) alias \(aliasResidual) c[\(cBegin),\(cEnd))")
            }
        }

        @Test func randomGeometriesMatchNaiveReference() {
            var rng = KernelRNG(seed: 1)
            var cases = 0
            while cases < 260 {
                guard let g = KernelGeometry.random(&rng, channels: 4, sizes: [1, 2, 3, 5, 8, 13, 17, 31, 40, 47, 70],
                                                    kernels: [(3, 3), (5, 5), (7, 7), (3, 5), (1, 3), (2, 2)],
                                                    strides: [1, 2], dilations: [1, 2, 3, 4])
                else { continue }
                let act = allKernelActivations[cases % allKernelActivations.count]
                let cBegin = rng.int(0...3)
                let cEnd = rng.int((cBegin + 1)...4)
                check(g, &rng, act: act, withBias: rng.int(0...3) > 0, withResidual: rng.int(0...1) == 1,
                      cBegin: cBegin, cEnd: cEnd)
                cases += 1
            }
        }

        /// Layer shapes of the benchmark models, scaled down, with every activation.
        @Test(arguments: [
            (3, 1, 1, 1), (3, 2, 1, 1), (5, 1, 1, 2), (5, 2, 1, 2), (3, 1, 2, 2), (3, 1, 4, 4), (7, 1, 1, 3), (7, 2, 1, 3),
        ])
        func modelShapesEveryActivation(kernel: Int, stride: Int, dilation: Int, pad: Int) {
            var rng = KernelRNG(seed: UInt64(kernel * 1000 + stride * 100 + dilation * 10 + pad))
            for (i, act) in allKernelActivations.enumerated() {
                let inH = 19, inW = 75
                let eff = (kernel - 1) * dilation + 1
                let g = KernelGeometry(channels: 3, inH: inH, inW: inW, kH: kernel, kW: kernel,
                                       strideH: stride, strideW: stride, dilH: dilation, dilW: dilation,
                                       padTop: pad, padLeft: pad, padBottom: pad, padRight: pad,
                                       outH: (inH + 2 * pad - eff) / stride + 1, outW: (inW + 2 * pad - eff) / stride + 1)
                check(g, &rng, act: act, withBias: true, withResidual: i % 2 == 0, cBegin: 0, cEnd: 3)
            }
        }

        @Test func strideThreeAndAsymmetricStrides() {
            var rng = KernelRNG(seed: 7)
            var cases = 0
            while cases < 40 {
                guard let g = KernelGeometry.random(&rng, channels: 2, sizes: [1, 4, 9, 23, 41],
                                                    kernels: [(3, 3), (5, 3)], strides: [1, 2, 3], dilations: [1, 2])
                else { continue }
                check(g, &rng, act: allKernelActivations[cases % allKernelActivations.count], withBias: true,
                      withResidual: cases % 3 == 0, cBegin: 0, cEnd: 2)
                cases += 1
            }
        }

        /// The AVX2 path stages input rows in a fixed-size stack ring: wide rows with large
        /// dilations are split into column chunks, and geometries beyond the ring (huge dilation,
        /// kernels wider than 16) take the scalar route. Both must stay exact.
        @Test(arguments: [
            (7, 1, 4, 700), (7, 2, 4, 700), (5, 2, 2, 1500), (3, 1, 1, 2500), (3, 1, 40, 100), (3, 2, 40, 100),
            (9, 1, 1, 40), (9, 2, 2, 40), (17, 1, 1, 40),
        ])
        func chunkedAndFallbackGeometries(kernel: Int, stride: Int, dilation: Int, width: Int) {
            var rng = KernelRNG(seed: UInt64(kernel * 100_000 + stride * 10_000 + dilation * 1000 + width))
            let inH = dilation >= 40 ? 90 : 23
            let pad = (kernel - 1) / 2 * dilation
            let eff = (kernel - 1) * dilation + 1
            let g = KernelGeometry(channels: 2, inH: inH, inW: width, kH: kernel, kW: kernel,
                                   strideH: stride, strideW: stride, dilH: dilation, dilW: dilation,
                                   padTop: pad, padLeft: pad, padBottom: pad, padRight: pad,
                                   outH: (inH + 2 * pad - eff) / stride + 1, outW: (width + 2 * pad - eff) / stride + 1)
            check(g, &rng, act: makeActivation(CK_ACT_HARDSWISH), withBias: true, withResidual: true, cBegin: 0, cEnd: 2)
        }

        @Test func residualMayAliasOutput() {
            var rng = KernelRNG(seed: 11)
            for stride in [1, 2] {
                let g = KernelGeometry(channels: 3, inH: 21, inW: 66, kH: 3, kW: 3, strideH: stride, strideW: stride,
                                       dilH: 1, dilW: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                                       outH: (21 - 1) / stride + 1, outW: (66 - 1) / stride + 1)
                check(g, &rng, act: makeActivation(CK_ACT_HARDSWISH), withBias: true, withResidual: true,
                      cBegin: 1, cEnd: 3, aliasResidual: true)
            }
        }

        /// Outputs past the padded extent (as ceil-mode shape arithmetic can produce) only see zeros.
        @Test func outputsBeyondPaddingSeeZeros() {
            var rng = KernelRNG(seed: 13)
            let g = KernelGeometry(channels: 2, inH: 9, inW: 40, kH: 3, kW: 3, strideH: 2, strideW: 2, dilH: 1, dilW: 1,
                                   padTop: 1, padLeft: 1, padBottom: 4, padRight: 4, outH: 7, outW: 23)
            check(g, &rng, act: makeActivation(CK_ACT_NONE), withBias: true, withResidual: false, cBegin: 0, cEnd: 2)
        }
    }
}
