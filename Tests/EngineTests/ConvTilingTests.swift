import Foundation
import Testing
@testable import Engine

/// Convolutions large enough that im2col works in tiles of output rows; the small
/// conformance fixtures fit in one tile, so this checks the tiling against a direct loop.
@Suite struct ConvTilingTests {
    struct Case: Sendable, CustomStringConvertible {
        var channels, filters, height, width, kernel, stride, pad, dilation, group: Int
        var description: String { "\(channels)->\(filters) \(height)x\(width) k\(kernel) s\(stride) p\(pad) d\(dilation) g\(group)" }
    }

    static let cases = [
        Case(channels: 64, filters: 24, height: 64, width: 128, kernel: 3, stride: 1, pad: 1, dilation: 1, group: 1),
        Case(channels: 48, filters: 16, height: 66, width: 130, kernel: 3, stride: 2, pad: 1, dilation: 1, group: 1),
        Case(channels: 32, filters: 8, height: 40, width: 200, kernel: 3, stride: 1, pad: 6, dilation: 6, group: 1),
        Case(channels: 64, filters: 32, height: 50, width: 120, kernel: 3, stride: 1, pad: 1, dilation: 1, group: 2),
        // ASPP on a small map: dead taps are pruned (rate 18 keeps one kernel row, rate 40 one tap).
        Case(channels: 40, filters: 16, height: 16, width: 32, kernel: 3, stride: 1, pad: 12, dilation: 12, group: 1),
        Case(channels: 40, filters: 16, height: 16, width: 32, kernel: 3, stride: 1, pad: 18, dilation: 18, group: 1),
        Case(channels: 40, filters: 16, height: 16, width: 32, kernel: 3, stride: 1, pad: 40, dilation: 40, group: 1),
    ]

    @Test(arguments: cases, [1, 2])
    func tiledConvMatchesDirectLoop(_ c: Case, threads: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let cg = c.channels / c.group
        let w = (0..<(c.filters * cg * c.kernel * c.kernel)).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
        let bias = (0..<c.filters).map { _ in Float.random(in: -1...1, using: &rng) }
        var b = ModelBuilder()
        b.input("x", [1, c.channels, c.height, c.width])
        b.constant("w", [c.filters, cg, c.kernel, c.kernel], w)
        b.constant("b", [c.filters], bias)
        b.node("Conv", ["x", "w", "b"], ["y"], ints: ["strides": [c.stride, c.stride], "pads": [c.pad, c.pad, c.pad, c.pad],
                                                    "dilations": [c.dilation, c.dilation]], int: ["group": c.group])
        b.outputs = ["y"]
        let session = try InferenceSession(data: try b.data(), options: .init(threads: threads))
        let x = (0..<(c.channels * c.height * c.width)).map { _ in Float.random(in: -1...1, using: &rng) }
        let y = try session.run(x)[0]
        let shape = session.outputs[0].info.shape
        let (oh, ow) = (shape[2], shape[3])
        let mg = c.filters / c.group
        var worst: Float = 0
        for m in 0..<c.filters {
            let g = m / mg
            for i in 0..<oh {
                for j in 0..<ow {
                    var acc = bias[m]
                    for ci in 0..<cg {
                        for ky in 0..<c.kernel {
                            let yy = i * c.stride - c.pad + ky * c.dilation
                            guard yy >= 0, yy < c.height else { continue }
                            for kx in 0..<c.kernel {
                                let xx = j * c.stride - c.pad + kx * c.dilation
                                guard xx >= 0, xx < c.width else { continue }
                                acc += w[((m * cg + ci) * c.kernel + ky) * c.kernel + kx]
                                    * x[((g * cg + ci) * c.height + yy) * c.width + xx]
                            }
                        }
                    }
                    worst = max(worst, abs(acc - y[(m * oh + i) * ow + j]))
                }
            }
        }
        #expect(worst < 1e-4, "max error \(worst)")
    }
}
