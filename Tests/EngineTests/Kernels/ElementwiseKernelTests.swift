import CKernels
import Testing

/// IEEE +, -, *, / are exactly rounded, so Swift's own Float arithmetic is an exact reference.
func kernelReferenceBinary(_ a: Float, _ b: Float, _ kind: ck_binary_kind) -> Float {
    switch kind {
    case CK_SUB: return a - b
    case CK_MUL: return a * b
    case CK_DIV: return a / b
    default: return a + b
    }
}

extension KernelTests {
    @Suite struct Elementwise {
        static let kinds: [ck_binary_kind] = [CK_ADD, CK_SUB, CK_MUL, CK_DIV]

        @Test func binarySameIsExact() {
            var rng = KernelRNG(seed: 100)
            for kind in Self.kinds {
                for n in [0, 1, 7, 8, 9, 64, 1001] {
                    var a = rng.floats(n, -100, 100), b = rng.floats(n, -100, 100)
                    if n > 2 { b[0] = 0; a[1] = .infinity; b[2] = .nan }
                    let want = zip(a, b).map { kernelReferenceBinary($0, $1, kind) }
                    forEachKernelPath { path in
                        var out = [Float](repeating: kernelSentinel, count: n)
                        ck_binary_same(a, b, &out, n, Int32(kind.rawValue))
                        expectKernelIdentical(out, want, "\(path) kind \(kind.rawValue) n \(n)")
                    }
                }
            }
        }

        @Test(arguments: [false, true])
        func binaryScalarIsExact(scalarOnLeft: Bool) {
            var rng = KernelRNG(seed: scalarOnLeft ? 101 : 102)
            for kind in Self.kinds {
                for n in [1, 5, 8, 23, 257] {
                    let a = rng.floats(n, -10, 10), s = rng.float(-3, 3)
                    let want = a.map { scalarOnLeft ? kernelReferenceBinary(s, $0, kind) : kernelReferenceBinary($0, s, kind) }
                    forEachKernelPath { path in
                        var out = [Float](repeating: kernelSentinel, count: n)
                        ck_binary_scalar(a, s, &out, n, Int32(kind.rawValue), scalarOnLeft ? 1 : 0)
                        expectKernelIdentical(out, want, "\(path) kind \(kind.rawValue) n \(n) left \(scalarOnLeft)")
                    }
                }
            }
        }

        @Test func channelScaleIsExact() {
            var rng = KernelRNG(seed: 103)
            for spatial in [1, 7, 8, 9, 16, 33, 1000] {
                let channels = 5, cBegin = rng.int(0...4), cEnd = rng.int((cBegin + 1)...5)
                let input = rng.floats(channels * spatial), scale = rng.floats(channels, 0, 2)
                var want = [Float](repeating: kernelSentinel, count: input.count)
                for c in cBegin..<cEnd {
                    for i in 0..<spatial { want[c * spatial + i] = input[c * spatial + i] * scale[c] }
                }
                forEachKernelPath { path in
                    var out = [Float](repeating: kernelSentinel, count: input.count)
                    ck_channel_scale(input, scale, &out, Int32(spatial), Int32(cBegin), Int32(cEnd))
                    expectKernelIdentical(out, want, "\(path) spatial \(spatial) c[\(cBegin),\(cEnd))")
                }
            }
        }
    }
}
