import CKernels
import Foundation
import Testing

extension KernelTests {
    @Suite struct Activations {
        /// Values around every clamp point and sign change, plus the saturating ranges.
        static let probeValues: [Float] = [0, -0, 1e-30, -1e-30, 0.5, -0.5, 2.999, 3, 3.001, -2.999, -3, -3.001,
                                           6, -6, 2.5, -2.5, 5, -5, 10, -10, 50, -50, 88, -88, 88.7, -88.7,
                                           89, -89, 104, -104, 200, -200, .infinity, -.infinity]

        @Test(arguments: allKernelActivations)
        func activationApplyMatchesReference(act: ck_activation) {
            var rng = KernelRNG(seed: 31 + UInt64(act.kind))
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1031] {
                var input = rng.floats(n, -8, 8)
                input.replaceSubrange(0..<min(n, Self.probeValues.count), with: Self.probeValues.prefix(n))
                let want = input.map { kernelReferenceActivation(Double($0), act) }
                forEachKernelPath { path in
                    var out = [Float](repeating: kernelSentinel, count: n)
                    ck_activation_apply(input, &out, n, act)
                    expectKernelClose(out, want, rtol: 1e-6, atol: 1e-6, "\(path) kind \(act.kind) n \(n)")
                    var inPlace = input
                    inPlace.withUnsafeMutableBufferPointer { p in ck_activation_apply(p.baseAddress, p.baseAddress, n, act) }
                    expectKernelClose(inPlace, want, rtol: 1e-6, atol: 1e-6, "\(path) in place kind \(act.kind) n \(n)")
                }
            }
        }

        /// The vector exp behind sigmoid: relative error below 1e-6 wherever the result is a
        /// normal float (so down to sigmoid(-87) ~ exp(-87)); below that, 1/(1+exp(-x)) saturates
        /// towards 0 once exp(-x) overflows (as with libm expf), within FLT_MIN absolute.
        @Test func sigmoidAccuracyOverFullRange() {
            var xs: [Float] = []
            var x: Float = -110
            while x <= 110 { xs.append(x); x += 0.0137 }
            xs += [.infinity, -.infinity, 88.72, -88.72, 87.33, -87.33, 103.9, -103.9, .nan]
            let act = makeActivation(CK_ACT_SIGMOID)
            forEachKernelPath { path in
                var out = [Float](repeating: 0, count: xs.count)
                ck_activation_apply(xs, &out, xs.count, act)
                var worst = 0.0
                for (i, v) in xs.enumerated() where !v.isNaN {
                    let want = 1 / (1 + Foundation.exp(-Double(v)))
                    if want >= Double(Float.leastNormalMagnitude) {
                        worst = max(worst, abs(Double(out[i]) - want) / want)
                    } else {
                        #expect(abs(Double(out[i]) - want) <= Double(Float.leastNormalMagnitude), "\(path) x=\(v)")
                    }
                }
                #expect(worst < 1e-6, "\(path) worst relative error \(worst)")
                #expect(out[xs.count - 1].isNaN, "\(path) NaN must propagate")
                #expect(out[xs.count - 9] == 1 && out[xs.count - 8] == 0, "\(path) sigmoid(+-inf)")
            }
        }
    }

    @Suite struct BiasActivation {
        @Test func randomShapesMatchReference() {
            var rng = KernelRNG(seed: 41)
            for caseIndex in 0..<120 {
                let channels = rng.int(1...5)
                let spatial = rng.pick([1, 3, 8, 13, 16, 64, 127, 300])
                let cBegin = rng.int(0...(channels - 1)), cEnd = rng.int((cBegin + 1)...channels)
                let act = allKernelActivations[caseIndex % allKernelActivations.count]
                let data = rng.floats(channels * spatial, -4, 4)
                let bias = caseIndex % 3 == 0 ? nil : rng.floats(channels)
                let residual = caseIndex % 2 == 0 ? nil : rng.floats(channels * spatial)
                var want = data.map(Double.init)
                for c in cBegin..<cEnd {
                    for i in 0..<spatial {
                        let k = c * spatial + i
                        var v = Double(data[k]) + Double(bias?[c] ?? 0)
                        if let residual { v += Double(residual[k]) }
                        want[k] = kernelReferenceActivation(v, act)
                    }
                }
                forEachKernelPath { path in
                    var got = data
                    let b = bias ?? [], r = residual ?? []
                    b.withUnsafeBufferPointer { bp in
                        r.withUnsafeBufferPointer { rp in
                            ck_bias_activation(&got, Int32(spatial), bias == nil ? nil : bp.baseAddress,
                                               residual == nil ? nil : rp.baseAddress, Int32(cBegin), Int32(cEnd), act)
                        }
                    }
                    expectKernelClose(got, want, "\(path) C\(channels) spatial \(spatial) c[\(cBegin),\(cEnd)) act \(act.kind) bias \(bias != nil) residual \(residual != nil)")
                }
            }
        }
    }
}
