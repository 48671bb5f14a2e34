import CKernels
import Sensors

/// Frame (rgb8/bgr8/yuyv/mono8, any size) → bilinear resize → x = (pixel·scale − mean)/std →
/// NCHW float planes in the manifest's channel order (ck_preprocess_rows). The resize tables are
/// rebuilt only when the frame size changes, so a steady stream allocates nothing. Output rows
/// can be split between threads (`withFrame` then `rows(part:of:)`); any split gives the same bytes.
public final class Preprocessor {
    public let width: Int
    public let height: Int
    /// How many parts `rows(part:of:)` may split a frame into (one scratch each).
    public let parts: Int
    private let gain: [Float]
    private let offset: [Float]
    /// Source channel (0 = R, 1 = G, 2 = B) of each output plane.
    private let order: [Int]
    private var sourceWidth = -1, sourceHeight = -1
    /// The kernel's arguments; a raw pointer, so worker threads read it without Swift's
    /// exclusivity checks on a class property.
    private let args: UnsafeMutablePointer<ck_preprocess_args>
    private let columnTaps: UnsafeMutableBufferPointer<Int32>   // x0 then x1
    private let columnWeights: UnsafeMutableBufferPointer<Float>
    private let rowTaps: UnsafeMutableBufferPointer<Int32>      // y0 then y1
    private let rowWeights: UnsafeMutableBufferPointer<Float>
    private let scratch: UnsafeMutableBufferPointer<Float>

    /// Sets up for the model input of `input`, splittable into up to `parts` row ranges.
    public init(input: MixtureManifest.Input, parts: Int = 1) {
        width = input.width
        height = input.height
        self.parts = max(1, parts)
        gain = (0..<3).map { input.scale / input.std[$0] }
        offset = (0..<3).map { -input.mean[$0] / input.std[$0] }
        order = input.color == .rgb ? [0, 1, 2] : [2, 1, 0]
        args = .allocate(capacity: 1)
        args.initialize(to: ck_preprocess_args())
        columnTaps = .allocate(capacity: 2 * width)
        columnTaps.initialize(repeating: 0)
        columnWeights = .allocate(capacity: width)
        columnWeights.initialize(repeating: 0)
        rowTaps = .allocate(capacity: 2 * height)
        rowTaps.initialize(repeating: 0)
        rowWeights = .allocate(capacity: height)
        rowWeights.initialize(repeating: 0)
        let perPart = ck_preprocess_scratch_floats(Int32(width))
        scratch = .allocate(capacity: perPart * self.parts)
        scratch.initialize(repeating: 0)
        args.pointee.out_w = Int32(width)
        args.pointee.out_h = Int32(height)
        args.pointee.x0 = UnsafePointer(columnTaps.baseAddress!)
        args.pointee.x1 = UnsafePointer(columnTaps.baseAddress! + width)
        args.pointee.wx = UnsafePointer(columnWeights.baseAddress!)
        args.pointee.y0 = UnsafePointer(rowTaps.baseAddress!)
        args.pointee.y1 = UnsafePointer(rowTaps.baseAddress! + height)
        args.pointee.wy = UnsafePointer(rowWeights.baseAddress!)
        args.pointee.gain = (gain[order[0]], gain[order[1]], gain[order[2]])
        args.pointee.offset = (offset[order[0]], offset[order[1]], offset[order[2]])
        args.pointee.order = (Int32(order[0]), Int32(order[1]), Int32(order[2]))
    }

    deinit {
        args.deallocate()
        columnTaps.deallocate()
        columnWeights.deallocate()
        rowTaps.deallocate()
        rowWeights.deallocate()
        scratch.deallocate()
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
        let x = Self.taps(source: frame.width, target: width), y = Self.taps(source: frame.height, target: height)
        for i in 0..<width { (columnTaps[i], columnTaps[width + i], columnWeights[i]) = (x.lo[i], x.hi[i], x.weight[i]) }
        for i in 0..<height { (rowTaps[i], rowTaps[height + i], rowWeights[i]) = (y.lo[i], y.hi[i], y.weight[i]) }
    }

    /// Checks `frame`, readies the kernel for it and runs `body`, inside which `rows(part:of:)`
    /// writes the normalised 3×H×W input into `out` from any threads; throws for a frame that
    /// cannot be read.
    public func withFrame<R>(_ frame: Frame, into out: UnsafeMutablePointer<Float>, _ body: () throws -> R) throws -> R {
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
        return try frame.pixels.withUnsafeBufferPointer { pixels in
            args.pointee.pixels = pixels.baseAddress
            args.pointee.format = switch frame.format {
            case .rgb8: Int32(CK_PIXEL_RGB8)
            case .bgr8: Int32(CK_PIXEL_BGR8)
            case .mono8: Int32(CK_PIXEL_MONO8)
            case .yuyv: Int32(CK_PIXEL_YUYV)
            }
            (args.pointee.width, args.pointee.height) = (Int32(frame.width), Int32(frame.height))
            args.pointee.stride = Int32(frame.stride)
            args.pointee.out = out
            defer { args.pointee.pixels = nil }
            return try body()
        }
    }

    /// Output rows of part `part` of `parts` (at most `self.parts`); only inside `withFrame`.
    public func rows(part: Int, of parts: Int) {
        precondition(parts >= 1 && parts <= self.parts && (0..<parts).contains(part) && args.pointee.pixels != nil)
        let perPart = ck_preprocess_scratch_floats(Int32(width))
        ck_preprocess_rows(args, Int32(height * part / parts), Int32(height * (part + 1) / parts), scratch.baseAddress! + part * perPart)
    }

    /// Writes the normalised 3×H×W input into `out` on this thread; throws for a frame that cannot be read.
    public func process(_ frame: Frame, into out: UnsafeMutablePointer<Float>) throws {
        try withFrame(frame, into: out) { rows(part: 0, of: 1) }
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
