import Foundation
import FuzzSupport
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

    /// The per-pixel formula of docs/mixture.md, written plainly: bilinear on RGB floats, then
    /// (value·scale − mean)/std as value·gain + offset, no fused multiply-adds (Swift does not fuse).
    static func reference(_ frame: Frame, _ input: MixtureManifest.Input) -> [Float] {
        let (w, h) = (input.width, input.height)
        let (x0, x1, wx) = Preprocessor.taps(source: frame.width, target: w)
        let (y0, y1, wy) = Preprocessor.taps(source: frame.height, target: h)
        let order = input.color == .rgb ? [0, 1, 2] : [2, 1, 0]
        func clamp(_ f: Float) -> Float { f < 0 ? 0 : (f > 255 ? 255 : f) }
        func rgb(_ row: Int, _ x: Int) -> [Float] {
            let p = frame.pixels, o = row * frame.stride
            switch frame.format {
            case .rgb8: return [Float(p[o + x * 3]), Float(p[o + x * 3 + 1]), Float(p[o + x * 3 + 2])]
            case .bgr8: return [Float(p[o + x * 3 + 2]), Float(p[o + x * 3 + 1]), Float(p[o + x * 3])]
            case .mono8: return [Float](repeating: Float(p[o + x]), count: 3)
            case .yuyv:
                let pair = o + (x / 2) * 4
                let yv = Float(1.164383) * (Float(p[pair + (x & 1) * 2]) - 16)
                let u = Float(p[pair + 1]) - 128, v = Float(p[pair + 3]) - 128
                let g1 = yv - Float(0.391762) * u
                return [clamp(yv + Float(1.596027) * v), clamp(g1 - Float(0.812968) * v), clamp(yv + Float(2.017232) * u)]
            }
        }
        func horizontal(_ row: Int, _ x: Int) -> [Float] {
            let l = rgb(row, Int(x0[x])), r = rgb(row, Int(x1[x])), t = wx[x]
            return (0..<3).map { l[$0] + (r[$0] - l[$0]) * t }
        }
        var out = [Float](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let top = horizontal(Int(y0[y]), x), bottom = horizontal(Int(y1[y]), x), t = wy[y]
                for c in 0..<3 {
                    let s = order[c]
                    let gain = input.scale / input.std[s], offset = -input.mean[s] / input.std[s]
                    out[c * w * h + y * w + x] = (top[s] + (bottom[s] - top[s]) * t) * gain + offset
                }
            }
        }
        return out
    }

    @Test func matchesTheReferenceBitForBitForEveryFormatSizeAndRowSplit() throws {
        var random = FuzzSupport.SplitMix64(state: 0x9E37_79B9_7F4A_7C15)
        let bgrModel = MixtureManifest.Input(width: 13, height: 7, color: .bgr, scale: 1.0 / 255,
                                             mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        var cases = 0
        for format in PixelFormat.allCases {
            for (w, h) in [(8, 4), (26, 14), (7, 3), (40, 5), (13, 7)] where format != .yuyv || w % 2 == 0 {
                for input in [Self.input, bgrModel] {
                    var frame = Frame()
                    frame.reshape(width: w, height: h, format: format)
                    for i in frame.pixels.indices { frame.pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
                    let want = Self.reference(frame, input)
                    for parts in [1, 2, 3] {
                        let pre = Preprocessor(input: input, parts: parts)
                        var got = [Float](repeating: .nan, count: want.count)
                        try got.withUnsafeMutableBufferPointer { out in
                            try pre.withFrame(frame, into: out.baseAddress!) {
                                for p in (0..<parts).reversed() { pre.rows(part: p, of: parts) }
                            }
                        }
                        #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(format) \(w)x\(h) -> \(input.width)x\(input.height) in \(parts)")
                        cases += 1
                    }
                }
            }
        }
        #expect(cases == 4 * 5 * 2 * 3 - 2 * 2 * 3)
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
