import CKernels
import Testing

/// Bilinear tables as ONNX Resize builds them for coordinate_transformation_mode = half_pixel.
func kernelHalfPixelTables(inSize: Int, outSize: Int) -> (lo: [Int32], hi: [Int32], weight: [Float]) {
    let scale = Double(outSize) / Double(inSize)
    var lo: [Int32] = [], hi: [Int32] = [], weight: [Float] = []
    for o in 0..<outSize {
        let src = max((Double(o) + 0.5) / scale - 0.5, 0)
        let i0 = min(Int(src), inSize - 1)
        lo.append(Int32(i0))
        hi.append(Int32(min(i0 + 1, inSize - 1)))
        weight.append(Float(src - Double(i0)))
    }
    return (lo, hi, weight)
}

/// Arbitrary tables: any source rows in any order, so the row cache meets every pattern.
func kernelRandomTables(_ rng: inout KernelRNG, inSize: Int, outSize: Int) -> (lo: [Int32], hi: [Int32], weight: [Float]) {
    var lo: [Int32] = [], hi: [Int32] = [], weight: [Float] = []
    for _ in 0..<outSize {
        lo.append(Int32(rng.int(0...(inSize - 1))))
        hi.append(Int32(rng.int(0...(inSize - 1))))
        weight.append(rng.float(0, 1))
    }
    return (lo, hi, weight)
}

extension KernelTests {
    @Suite struct Resize {
        func checkBilinear(_ input: [Float], channels: Int, inH: Int, inW: Int, outH: Int, outW: Int,
                           ys: (lo: [Int32], hi: [Int32], weight: [Float]), xs: (lo: [Int32], hi: [Int32], weight: [Float]),
                           cBegin: Int, cEnd: Int, _ label: String) {
            func lerp(_ a: Double, _ b: Double, _ w: Float) -> Double { a + Double(w) * (b - a) }
            var want = [Double](repeating: Double(kernelSentinel), count: channels * outH * outW)
            for c in cBegin..<cEnd {
                for y in 0..<outH {
                    for x in 0..<outW {
                        func at(_ row: Int32, _ col: Int32) -> Double { Double(input[(c * inH + Int(row)) * inW + Int(col)]) }
                        let top = lerp(at(ys.lo[y], xs.lo[x]), at(ys.lo[y], xs.hi[x]), xs.weight[x])
                        let bottom = lerp(at(ys.hi[y], xs.lo[x]), at(ys.hi[y], xs.hi[x]), xs.weight[x])
                        want[(c * outH + y) * outW + x] = lerp(top, bottom, ys.weight[y])
                    }
                }
            }
            forEachKernelPath { path in
                var out = [Float](repeating: kernelSentinel, count: want.count)
                ck_resize_bilinear(input, &out, Int32(inH), Int32(inW), Int32(outH), Int32(outW),
                                   ys.lo, ys.hi, ys.weight, xs.lo, xs.hi, xs.weight, Int32(cBegin), Int32(cEnd))
                expectKernelClose(out, want, "\(path) \(label) \(inH)x\(inW) -> \(outH)x\(outW) c[\(cBegin),\(cEnd))")
            }
        }

        @Test func halfPixelUpAndDownsamplingMatchReference() {
            var rng = KernelRNG(seed: 90)
            let shapes = [(1, 1, 1, 1), (1, 1, 5, 9), (4, 8, 32, 64), (3, 5, 7, 11), (16, 32, 128, 256),
                          (9, 13, 4, 6), (2, 700, 3, 1500), (33, 65, 33, 65)]
            for (inH, inW, outH, outW) in shapes {
                let input = rng.floats(3 * inH * inW)
                checkBilinear(input, channels: 3, inH: inH, inW: inW, outH: outH, outW: outW,
                              ys: kernelHalfPixelTables(inSize: inH, outSize: outH), xs: kernelHalfPixelTables(inSize: inW, outSize: outW),
                              cBegin: 1, cEnd: 3, "half_pixel")
            }
        }

        @Test func arbitraryTablesMatchReference() {
            var rng = KernelRNG(seed: 91)
            for _ in 0..<60 {
                let inH = rng.int(1...9), inW = rng.int(1...20), outH = rng.int(1...25), outW = rng.pick([1, 7, 8, 9, 31, 1030])
                let channels = rng.int(1...3), cBegin = rng.int(0...(channels - 1)), cEnd = rng.int((cBegin + 1)...channels)
                let input = rng.floats(channels * inH * inW)
                checkBilinear(input, channels: channels, inH: inH, inW: inW, outH: outH, outW: outW,
                              ys: kernelRandomTables(&rng, inSize: inH, outSize: outH), xs: kernelRandomTables(&rng, inSize: inW, outSize: outW),
                              cBegin: cBegin, cEnd: cEnd, "random tables")
            }
        }

        @Test func nearestMatchesReferenceExactly() {
            var rng = KernelRNG(seed: 92)
            for caseIndex in 0..<60 {
                let inH = rng.int(1...9), inW = rng.int(1...20), outH = rng.int(1...25), outW = rng.pick([1, 7, 8, 9, 31, 100])
                let channels = 3, cBegin = rng.int(0...2), cEnd = rng.int((cBegin + 1)...3)
                let input = rng.floats(channels * inH * inW)
                // Even cases: monotonic upsampling tables (repeated rows); odd cases: arbitrary.
                let ys: [Int32] = (0..<outH).map { caseIndex % 2 == 0 ? Int32($0 * inH / outH) : Int32(rng.int(0...(inH - 1))) }
                let xs: [Int32] = (0..<outW).map { caseIndex % 2 == 0 ? Int32($0 * inW / outW) : Int32(rng.int(0...(inW - 1))) }
                var want = [Float](repeating: kernelSentinel, count: channels * outH * outW)
                for c in cBegin..<cEnd {
                    for y in 0..<outH {
                        for x in 0..<outW { want[(c * outH + y) * outW + x] = input[(c * inH + Int(ys[y])) * inW + Int(xs[x])] }
                    }
                }
                forEachKernelPath { path in
                    var out = [Float](repeating: kernelSentinel, count: want.count)
                    ck_resize_nearest(input, &out, Int32(inH), Int32(inW), Int32(outH), Int32(outW), ys, xs,
                                      Int32(cBegin), Int32(cEnd))
                    expectKernelIdentical(out, want, "\(path) \(inH)x\(inW) -> \(outH)x\(outW)")
                }
            }
        }
    }
}
