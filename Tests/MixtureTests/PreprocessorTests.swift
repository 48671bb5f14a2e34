import Foundation
@testable import Mixture
import Sensors
import Testing

@Suite("Preprocessing: frame → resized, normalised NCHW")
struct PreprocessorTests {
    static let input = MixtureManifest.Input(width: 8, height: 4, color: .rgb, scale: 1.0 / 255,
                                             mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    static func frame(width: Int, height: Int, format: PixelFormat, pixel: (Int, Int) -> [UInt8]) -> Frame {
        var frame = Frame()
        frame.reshape(width: width, height: height, format: format)
        let bpp = format.bytesPerPixel
        for y in 0..<height {
            for x in 0..<width {
                let bytes = pixel(x, y)
                for (k, b) in bytes.enumerated() where format != .yuyv { frame.pixels[y * frame.stride + x * bpp + k] = b }
            }
        }
        return frame
    }

    static func run(_ frame: Frame, _ input: MixtureManifest.Input = input) throws -> [Float] {
        var out = [Float](repeating: .nan, count: 3 * input.width * input.height)
        try out.withUnsafeMutableBufferPointer { try Preprocessor(input: input).process(frame, into: $0.baseAddress!) }
        return out
    }

    static func expected(_ rgb: [Float], channel c: Int) -> Float {
        (rgb[c] / 255 - input.mean[c]) / input.std[c]
    }

    @Test func constantColourAnySizeAndOrder() throws {
        let colour: [UInt8] = [200, 100, 30]
        for (w, h) in [(8, 4), (20, 9), (3, 2)] {
            let rgb = try Self.run(Self.frame(width: w, height: h, format: .rgb8) { _, _ in colour })
            let bgr = try Self.run(Self.frame(width: w, height: h, format: .bgr8) { _, _ in colour.reversed() })
            for c in 0..<3 {
                let want = Self.expected(colour.map(Float.init), channel: c)
                for i in 0..<32 {
                    #expect(abs(rgb[c * 32 + i] - want) < 1e-5)
                    #expect(abs(bgr[c * 32 + i] - want) < 1e-5)
                }
            }
        }
        // A "bgr" model gets blue in plane 0.
        var bgrModel = Self.input
        bgrModel = MixtureManifest.Input(width: 8, height: 4, color: .bgr, scale: bgrModel.scale, mean: bgrModel.mean, std: bgrModel.std)
        let planes = try Self.run(Self.frame(width: 8, height: 4, format: .rgb8) { _, _ in colour }, bgrModel)
        #expect(abs(planes[0] - (30.0 / 255 - Self.input.mean[2]) / Self.input.std[2]) < 1e-5)
    }

    @Test func sameSizeIsExactAndHalfSizeInterpolates() throws {
        // Same size: each pixel maps to itself.
        let ramp = try Self.run(Self.frame(width: 8, height: 4, format: .mono8) { x, y in [UInt8(x * 20 + y * 3)] })
        for y in 0..<4 { for x in 0..<8 {
            #expect(abs(ramp[y * 8 + x] - Self.expected([Float(x * 20 + y * 3), 0, 0], channel: 0)) < 1e-4)
        } }
        // 2× larger source, half-pixel centres: output x samples source 2x + 0.5, the mean of two columns.
        let big = try Self.run(Self.frame(width: 16, height: 8, format: .mono8) { x, _ in [UInt8(x * 10)] })
        for x in 0..<8 {
            #expect(abs(big[x] - Self.expected([Float(20 * x + 5), 0, 0], channel: 0)) < 1e-4)
        }
    }

    @Test func yuyvGreyAndColour() throws {
        var frame = Frame()
        frame.reshape(width: 8, height: 4, format: .yuyv)
        // Y = 235, U = V = 128: BT.601 limited-range white.
        for i in stride(from: 0, to: frame.pixels.count, by: 4) { frame.pixels.replaceSubrange(i..<(i + 4), with: [235, 128, 235, 128]) }
        let white = try Self.run(frame)
        for c in 0..<3 { #expect(abs(white[c * 32] - Self.expected([255, 255, 255], channel: c)) < 1e-3) }
        // Pure red in BT.601 limited range is Y 81, U 90, V 240.
        for i in stride(from: 0, to: frame.pixels.count, by: 4) { frame.pixels.replaceSubrange(i..<(i + 4), with: [81, 90, 81, 240]) }
        let red = try Self.run(frame)
        #expect(abs(red[0] - Self.expected([255, 0, 0], channel: 0)) < 0.05)
        #expect(abs(red[32] - Self.expected([0, 0, 0], channel: 1)) < 0.05)
    }

    @Test func badFramesThrow() throws {
        var odd = Frame()
        odd.reshape(width: 7, height: 2, format: .yuyv)
        #expect(throws: MixtureError.self) { try Self.run(odd) }
        var short = Frame()
        short.reshape(width: 8, height: 4, format: .rgb8)
        short.pixels.removeLast(10)
        #expect(throws: MixtureError.self) { try Self.run(short) }
    }

    @Test func mapResize() {
        let map: [Float] = [0, 1, 2, 3]  // 2×2
        var out = [Float](repeating: 0, count: 16)
        map.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { MapResize.bilinear(m, width: 2, height: 2, into: $0, toWidth: 4, toHeight: 4) }
        }
        #expect(out[0] == 0 && out[15] == 3 && abs(out[1] - 0.25) < 1e-6)
        let labels: [UInt8] = [1, 2, 3, 4]
        var big = [UInt8](repeating: 0, count: 16)
        labels.withUnsafeBufferPointer { l in
            big.withUnsafeMutableBufferPointer { MapResize.nearest(l, width: 2, height: 2, into: $0, toWidth: 4, toHeight: 4) }
        }
        #expect(big == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }
}
