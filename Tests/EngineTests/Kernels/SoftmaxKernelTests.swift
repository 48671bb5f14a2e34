import CKernels
import Foundation
import Testing

/// Softmax in Double over element (o, k, i) at o*axis*inner + k*inner + i.
func kernelReferenceSoftmax(_ x: [Float], outer: Int, axis: Int, inner: Int) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    for o in 0..<outer {
        for i in 0..<inner {
            let idx = (0..<axis).map { o * axis * inner + $0 * inner + i }
            let m = idx.map { Double(x[$0]) }.max() ?? 0
            let e = idx.map { Foundation.exp(Double(x[$0]) - m) }
            let sum = e.reduce(0, +)
            for (k, j) in idx.enumerated() { out[j] = e[k] / sum }
        }
    }
    return out
}

extension KernelTests {
    @Suite struct Softmax {
        @Test func randomShapesMatchReference() {
            var rng = KernelRNG(seed: 110)
            let shapes = [(1, 1, 1), (1, 5, 1), (3, 8, 1), (2, 19, 1), (4, 1000, 1), (1, 3, 7), (2, 19, 8),
                          (2, 19, 21), (1, 5, 4096), (3, 2, 9), (2, 3, 1001)]
            for (outer, axis, inner) in shapes {
                // Wide logits (up to +-60) exercise the max subtraction and the exp range.
                let x = rng.floats(outer * axis * inner, -60, 60)
                let want = kernelReferenceSoftmax(x, outer: outer, axis: axis, inner: inner)
                forEachKernelPath { path in
                    var out = [Float](repeating: kernelSentinel, count: x.count)
                    ck_softmax(x, &out, Int32(outer), Int32(axis), Int32(inner))
                    expectKernelClose(out, want, rtol: 2e-6, atol: 1e-30, "\(path) outer \(outer) axis \(axis) inner \(inner)")
                    var inPlace = x
                    inPlace.withUnsafeMutableBufferPointer { p in
                        ck_softmax(p.baseAddress, p.baseAddress, Int32(outer), Int32(axis), Int32(inner))
                    }
                    expectKernelClose(inPlace, want, rtol: 2e-6, atol: 1e-30, "\(path) in place outer \(outer) axis \(axis) inner \(inner)")
                }
            }
        }

        /// Huge logits must not overflow: softmax is shift-invariant.
        @Test func largeLogitsAreStable() {
            let x: [Float] = [10000, 10001, 9999, -10000, 3e38, 3e38 - 1e33]
            let want = kernelReferenceSoftmax(x, outer: 2, axis: 3, inner: 1)
            forEachKernelPath { path in
                var out = [Float](repeating: 0, count: x.count)
                ck_softmax(x, &out, 2, 3, 1)
                expectKernelClose(out, want, rtol: 2e-6, atol: 1e-30, "\(path)")
            }
        }
    }
}
