import Sensors

/// Frame (rgb8/bgr8/yuyv/mono8, any size) → bilinear resize → x = (pixel·scale − mean)/std →
/// NCHW float planes in the manifest's channel order. The resize tables are rebuilt only when
/// the frame size changes, so a steady stream allocates nothing.
public final class Preprocessor {
    public let width: Int
    public let height: Int
    private let gain: [Float]
    private let offset: [Float]
    /// Source channel (0 = R, 1 = G, 2 = B) of each output plane.
    private let order: [Int]
    private var sourceWidth = -1, sourceHeight = -1
    private var x0: [Int32] = [], x1: [Int32] = [], wx: [Float] = []
    private var y0: [Int32] = [], y1: [Int32] = [], wy: [Float] = []
    private var rowA: [Float] = [], rowB: [Float] = []

    /// Sets up for the model input of `input`.
    public init(input: MixtureManifest.Input) {
        width = input.width
        height = input.height
        gain = (0..<3).map { input.scale / input.std[$0] }
        offset = (0..<3).map { -input.mean[$0] / input.std[$0] }
        order = input.color == .rgb ? [0, 1, 2] : [2, 1, 0]
        rowA = [Float](repeating: 0, count: width * 3)
        rowB = [Float](repeating: 0, count: width * 3)
    }

    /// Half-pixel-centre bilinear taps (as PyTorch's `align_corners=False` and OpenCV), edge clamped.
    static func taps(source: Int, target: Int) -> (lo: [Int32], hi: [Int32], weight: [Float]) {
        var lo = [Int32](repeating: 0, count: target), hi = lo, weight = [Float](repeating: 0, count: target)
        let scale = Double(source) / Double(target)
        for i in 0..<target {
            let position = max(0, (Double(i) + 0.5) * scale - 0.5)
            let base = min(Int(position), source - 1)
            lo[i] = Int32(base)
            hi[i] = Int32(min(base + 1, source - 1))
            weight[i] = Float(position - Double(base))
        }
        return (lo, hi, weight)
    }

    private func prepare(_ frame: Frame) {
        guard frame.width != sourceWidth || frame.height != sourceHeight else { return }
        sourceWidth = frame.width
        sourceHeight = frame.height
        (x0, x1, wx) = Self.taps(source: frame.width, target: width)
        (y0, y1, wy) = Self.taps(source: frame.height, target: height)
    }

    /// Writes the normalised 3×H×W input into `out`; throws for a frame that cannot be read.
    public func process(_ frame: Frame, into out: UnsafeMutablePointer<Float>) throws {
        guard frame.width > 0, frame.height > 0 else {
            throw MixtureError.invalidConfiguration("empty frame \(frame.width)×\(frame.height)")
        }
        guard frame.format != .yuyv || frame.width % 2 == 0 else {
            throw MixtureError.invalidConfiguration("a YUYV frame needs an even width, got \(frame.width)")
        }
        let minimumStride = frame.width * frame.format.bytesPerPixel
        guard frame.stride >= minimumStride, frame.pixels.count >= frame.stride * (frame.height - 1) + minimumStride else {
            throw MixtureError.bufferSize(name: "frame pixels", expected: frame.stride * frame.height, actual: frame.pixels.count)
        }
        prepare(frame)
        let plane = width * height
        frame.pixels.withUnsafeBufferPointer { pixels in
            rowA.withUnsafeMutableBufferPointer { a in
                rowB.withUnsafeMutableBufferPointer { b in
                    for y in 0..<height {
                        horizontal(pixels.baseAddress!, frame, row: Int(y0[y]), into: a.baseAddress!)
                        horizontal(pixels.baseAddress!, frame, row: Int(y1[y]), into: b.baseAddress!)
                        let t = wy[y]
                        for c in 0..<3 {
                            let source = order[c]
                            let g = gain[source], o = offset[source]
                            let dst = out + c * plane + y * width
                            for x in 0..<width {
                                let top = a[x * 3 + source], bottom = b[x * 3 + source]
                                dst[x] = (top + (bottom - top) * t) * g + o
                            }
                        }
                    }
                }
            }
        }
    }

    /// One source row resampled horizontally to `width` RGB triples (0...255 floats).
    private func horizontal(_ pixels: UnsafePointer<UInt8>, _ frame: Frame, row: Int, into out: UnsafeMutablePointer<Float>) {
        let line = pixels + row * frame.stride
        for x in 0..<width {
            let l = rgb(line, frame.format, Int(x0[x])), r = rgb(line, frame.format, Int(x1[x]))
            let t = wx[x]
            out[x * 3] = l.0 + (r.0 - l.0) * t
            out[x * 3 + 1] = l.1 + (r.1 - l.1) * t
            out[x * 3 + 2] = l.2 + (r.2 - l.2) * t
        }
    }

    /// The RGB value of pixel `x` of a row; YUYV is BT.601 limited range (what V4L2 cameras send).
    @inline(__always)
    private func rgb(_ line: UnsafePointer<UInt8>, _ format: PixelFormat, _ x: Int) -> (Float, Float, Float) {
        switch format {
        case .rgb8: return (Float(line[x * 3]), Float(line[x * 3 + 1]), Float(line[x * 3 + 2]))
        case .bgr8: return (Float(line[x * 3 + 2]), Float(line[x * 3 + 1]), Float(line[x * 3]))
        case .mono8: let v = Float(line[x]); return (v, v, v)
        case .yuyv:
            let pair = line + (x / 2) * 4
            let yv = 1.164383 * (Float(pair[(x & 1) * 2]) - 16)
            let u = Float(pair[1]) - 128, v = Float(pair[3]) - 128
            func clamp(_ f: Float) -> Float { f < 0 ? 0 : (f > 255 ? 255 : f) }
            return (clamp(yv + 1.596027 * v), clamp(yv - 0.391762 * u - 0.812968 * v), clamp(yv + 2.017232 * u))
        }
    }
}

/// Post-processing: maps from the model's resolution to a frame's.
public enum MapResize {
    /// Bilinear (half-pixel centres) resize of an H×W float map into a `toHeight`×`toWidth` buffer.
    public static func bilinear(_ map: UnsafeBufferPointer<Float>, width: Int, height: Int,
                                into out: UnsafeMutableBufferPointer<Float>, toWidth: Int, toHeight: Int) {
        precondition(map.count == width * height && out.count == toWidth * toHeight)
        let (x0, x1, wx) = Preprocessor.taps(source: width, target: toWidth)
        let (y0, y1, wy) = Preprocessor.taps(source: height, target: toHeight)
        for y in 0..<toHeight {
            let a = Int(y0[y]) * width, b = Int(y1[y]) * width, t = wy[y]
            for x in 0..<toWidth {
                let l = Int(x0[x]), r = Int(x1[x]), s = wx[x]
                let top = map[a + l] + (map[a + r] - map[a + l]) * s
                let bottom = map[b + l] + (map[b + r] - map[b + l]) * s
                out[y * toWidth + x] = top + (bottom - top) * t
            }
        }
    }

    /// A frame's label map resized (nearest) into `out` (`toWidth`×`toHeight`); false, and `out`
    /// untouched, when the frame has no label map of its own size.
    public static func labels(of frame: Frame, into out: inout [UInt8], toWidth: Int, toHeight: Int) -> Bool {
        guard let labels = frame.labels, labels.count == frame.width * frame.height, out.count == toWidth * toHeight else {
            return false
        }
        labels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer {
                nearest(src, width: frame.width, height: frame.height, into: $0, toWidth: toWidth, toHeight: toHeight)
            }
        }
        return true
    }

    /// Nearest-neighbour resize of a class-id map (labels must not be blended).
    public static func nearest(_ map: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                               into out: UnsafeMutableBufferPointer<UInt8>, toWidth: Int, toHeight: Int) {
        precondition(map.count == width * height && out.count == toWidth * toHeight)
        for y in 0..<toHeight {
            let sy = min(height - 1, ((2 * y + 1) * height) / (2 * toHeight))
            for x in 0..<toWidth {
                let sx = min(width - 1, ((2 * x + 1) * width) / (2 * toWidth))
                out[y * toWidth + x] = map[sy * width + sx]
            }
        }
    }
}
