import CKernels
import Foundation

/// Resize (opsets 13-18) over the two spatial axes: nearest and (bi)linear, with every
/// coordinate transformation torch and the ONNX tests use. Index and weight tables are built
/// once for the fixed shape.
enum ResizeOp: Operator {
    static let opTypes = ["Resize", "Upsample"]

    private static func targetShape(_ ctx: OpContext) throws -> (shape: [Int], scales: [Float]) {
        let x = try ctx.info(0)
        let rank = x.shape.count
        var axes = Array(0..<rank)
        if ctx.attributes.has("axes") {
            axes = try ctx.ints("axes").map { try ctx.axis($0, rank: rank) }
        }
        if ctx.node.opType == "Upsample" {
            let scales = try ctx.requireConstant(1, "Upsample scales").floats
            guard scales.count == rank else { throw ctx.fail("scales has \(scales.count) values for rank \(rank)") }
            return (try zip(x.shape, scales).map { try scaled($0, $1, ctx) }, scales)
        }
        var scales = [Float](repeating: 1, count: rank)
        var shape = x.shape
        if ctx.has(3), let sizes = ctx.constant(3), sizes.count > 0 {
            guard sizes.count == axes.count else { throw ctx.fail("sizes has \(sizes.count) values for \(axes.count) axes") }
            if try ctx.string("keep_aspect_ratio_policy", "stretch") != "stretch" {
                throw ctx.fail("keep_aspect_ratio_policy other than stretch is not supported")
            }
            for (a, s) in zip(axes, sizes.ints) {
                guard s > 0, s <= ValueInfo.maxElements else { throw ctx.fail("sizes must be positive and plausible") }
                shape[a] = Int(s)
                scales[a] = Float(s) / Float(x.shape[a])
            }
        } else if ctx.has(2), let given = ctx.constant(2), given.count > 0 {
            guard given.count == axes.count else { throw ctx.fail("scales has \(given.count) values for \(axes.count) axes") }
            for (a, s) in zip(axes, given.floats) {
                guard s > 0 else { throw ctx.fail("scales must be positive") }
                scales[a] = s
                shape[a] = try scaled(x.shape[a], s, ctx)
            }
        } else if ctx.has(3) || ctx.has(2) {
            throw ctx.fail("the output size must be computable at load time (scales or sizes depend on the input values)")
        } else {
            throw ctx.fail("neither scales nor sizes is given")
        }
        return (shape, scales)
    }

    /// floor(n × scale), refusing scales that make no sense for an image.
    private static func scaled(_ n: Int, _ scale: Float, _ ctx: OpContext) throws -> Int {
        let v = (Float(n) * scale).rounded(.down)
        guard scale.isFinite, scale > 0, v >= 1, v <= Float(ValueInfo.maxElements) else {
            throw ctx.fail("scale \(scale) gives an impossible size")
        }
        return Int(v)
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        // An 8-bit input is resized in its own encoding (QOperator models, and QDQ ones after QDQFusion).
        let x = try ctx.info(0)
        let dequantized = ctx.attributes.values[QDQFusion.outputScale] != nil
        return [ValueInfo(shape: try targetShape(ctx).shape, dtype: x.dtype.isQuantized && !dequantized ? x.dtype : .float32)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let (shape, scales) = try targetShape(ctx)
        let rank = shape.count
        guard rank >= 2, shape[..<(rank - 2)] == x.shape[..<(rank - 2)] else {
            throw ctx.fail("only the last two axes may be resized (\(x.shape) → \(shape))")
        }
        let mode = try ctx.string("mode", "nearest")
        let transform = try ctx.string("coordinate_transformation_mode", ctx.node.opType == "Upsample" ? "asymmetric" : "half_pixel")
        if try ctx.int("antialias", 0) != 0 && (shape[rank - 1] < x.shape[rank - 1] || shape[rank - 2] < x.shape[rank - 2]) && mode != "nearest" {
            throw ctx.fail("antialiased downsampling is not supported")
        }
        let known = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
        guard known.contains(transform) else { throw ctx.fail("coordinate_transformation_mode \(transform) is not supported") }
        let inH = x.shape[rank - 2], inW = x.shape[rank - 1], outH = shape[rank - 2], outW = shape[rank - 1]
        let planes = shape[..<(rank - 2)].reduce(1, *)
        func source(_ o: Int, inLen: Int, outLen: Int, scale: Float) -> Float {
            let xo = Float(o)
            switch transform {
            case "align_corners": return outLen == 1 ? 0 : xo * Float(inLen - 1) / Float(outLen - 1)
            case "asymmetric": return xo / scale
            case "pytorch_half_pixel": return outLen > 1 ? (xo + 0.5) / scale - 0.5 : 0
            case "tf_half_pixel_for_nn": return (xo + 0.5) / scale
            default: return (xo + 0.5) / scale - 0.5
            }
        }
        switch mode {
        case "linear", "bilinear":
            func table(_ inLen: Int, _ outLen: Int, _ scale: Float) -> ([Int32], [Int32], [Float]) {
                var lo = [Int32](), hi = [Int32](), w = [Float]()
                for o in 0..<outLen {
                    let s = min(max(source(o, inLen: inLen, outLen: outLen, scale: scale), 0), Float(inLen - 1))
                    let i0 = Int(s.rounded(.down))
                    lo.append(Int32(i0))
                    hi.append(Int32(min(i0 + 1, inLen - 1)))
                    w.append(s - Float(i0))
                }
                return (lo, hi, w)
            }
            let (y0, y1, wy) = table(inH, outH, scales[rank - 2])
            let (x0, x1, wx) = table(inW, outW, scales[rank - 1])
            if x.dtype.isQuantized {
                var requant: ck_qparams? = nil
                if case .float(let scale)? = ctx.attributes.values[QDQFusion.resizeScale],
                   case .int(let zero)? = ctx.attributes.values[QDQFusion.resizeZero] {
                    requant = ck_qparams(scale: scale, zero_point: Int32(zero), is_signed: x.dtype == .int8 ? 1 : 0)
                }
                var dequant: ck_qparams? = nil
                if case .float(let scale)? = ctx.attributes.values[QDQFusion.outputScale],
                   case .int(let zero)? = ctx.attributes.values[QDQFusion.outputZero] {
                    dequant = ck_qparams(scale: scale, zero_point: Int32(zero), is_signed: x.dtype == .int8 ? 1 : 0)
                }
                return ResizeBilinear8Kernel(ctx, signed: x.dtype == .int8, requant: requant, dequant: dequant, planes: planes, inH: inH, inW: inW, outH: outH,
                                             outW: outW, y0: y0, y1: y1, wy: wy, x0: x0, x1: x1, wx: wx)
            }
            return ResizeBilinearKernel(ctx, planes: planes, inH: inH, inW: inW, outH: outH, outW: outW,
                                        y0: y0, y1: y1, wy: wy, x0: x0, x1: x1, wx: wx)
        case "nearest":
            let rounding = try ctx.string("nearest_mode", "round_prefer_floor")
            func table(_ inLen: Int, _ outLen: Int, _ scale: Float) throws -> [Int32] {
                try (0..<outLen).map { o in
                    let s = source(o, inLen: inLen, outLen: outLen, scale: scale)
                    var i: Float
                    switch rounding {
                    case "floor": i = s.rounded(.down)
                    case "ceil": i = s.rounded(.up)
                    case "round_prefer_ceil": i = (s - s.rounded(.down) == 0.5) ? s.rounded(.up) : s.rounded()
                    case "round_prefer_floor": i = (s - s.rounded(.down) == 0.5) ? s.rounded(.down) : s.rounded()
                    default: throw ctx.fail("nearest_mode \(rounding) is not supported")
                    }
                    return Int32(min(max(Int(i), 0), inLen - 1))
                }
            }
            let ys = try table(inH, outH, scales[rank - 2]), xs = try table(inW, outW, scales[rank - 1])
            return ResizeNearestKernel(ctx, planes: planes, inH: inH, inW: inW, outH: outH, outW: outW, ys: ys, xs: xs,
                                       eightBit: x.dtype.isQuantized)
        default:
            throw ctx.fail("mode \(mode) is not supported (nearest and linear are)")
        }
    }
}

final class ResizeBilinearKernel: BoundKernel, @unchecked Sendable {
    let planes: Int, inH: Int, inW: Int, outH: Int, outW: Int
    let y0: [Int32], y1: [Int32], wy: [Float], x0: [Int32], x1: [Int32], wx: [Float]

    init(_ ctx: OpContext, planes: Int, inH: Int, inW: Int, outH: Int, outW: Int,
         y0: [Int32], y1: [Int32], wy: [Float], x0: [Int32], x1: [Int32], wx: [Float]) {
        (self.planes, self.inH, self.inW, self.outH, self.outW) = (planes, inH, inW, outH, outW)
        (self.y0, self.y1, self.wy, self.x0, self.x1, self.wx) = (y0, y1, wy, x0, x1, wx)
        super.init(ctx, consumed: [1, 2, 3])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        pool.split(planes, cost: outH * outW) { r in
            ck_resize_bilinear(x, y, Int32(inH), Int32(inW), Int32(outH), Int32(outW), y0, y1, wy, x0, x1, wx,
                               Int32(r.lowerBound), Int32(r.upperBound))
        }
    }
}

final class ResizeNearestKernel: BoundKernel, @unchecked Sendable {
    let planes: Int, inH: Int, inW: Int, outH: Int, outW: Int
    let ys: [Int32], xs: [Int32]
    /// An 8-bit tensor (either encoding): the same gather on bytes.
    let eightBit: Bool

    init(_ ctx: OpContext, planes: Int, inH: Int, inW: Int, outH: Int, outW: Int, ys: [Int32], xs: [Int32], eightBit: Bool) {
        (self.planes, self.inH, self.inW, self.outH, self.outW, self.ys, self.xs) = (planes, inH, inW, outH, outW, ys, xs)
        self.eightBit = eightBit
        super.init(ctx, consumed: [1, 2, 3])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        if eightBit {
            let xb = bytes(x).assumingMemoryBound(to: UInt8.self), yb = bytes(y).assumingMemoryBound(to: UInt8.self)
            pool.split(planes, cost: outH * outW) { r in
                ck_resize_nearest_q8(xb, yb, Int32(inH), Int32(inW), Int32(outH), Int32(outW), ys, xs,
                                     Int32(r.lowerBound), Int32(r.upperBound))
            }
            return
        }
        pool.split(planes, cost: outH * outW) { r in
            ck_resize_nearest(x, y, Int32(inH), Int32(inW), Int32(outH), Int32(outW), ys, xs,
                              Int32(r.lowerBound), Int32(r.upperBound))
        }
    }
}

/// Bilinear resize of an 8-bit tensor (onnxruntime's 8-bit arithmetic, see ck_resize_bilinear_q8).
final class ResizeBilinear8Kernel: BoundKernel, @unchecked Sendable {
    let signed: Bool
    /// The encoding a QDQ Resize is computed in (dequantize, resize, quantize); nil: on the codes.
    let requant: UnsafeMutablePointer<ck_qparams>?
    /// The encoding of a fused DequantizeLinear after it (float output); nil: 8-bit output.
    let dequant: UnsafeMutablePointer<ck_qparams>?
    let planes: Int, inH: Int, inW: Int, outH: Int, outW: Int
    let y0: [Int32], y1: [Int32], wy: [Float], x0: [Int32], x1: [Int32], wx: [Float]

    init(_ ctx: OpContext, signed: Bool, requant: ck_qparams?, dequant: ck_qparams?, planes: Int, inH: Int, inW: Int, outH: Int, outW: Int,
         y0: [Int32], y1: [Int32], wy: [Float], x0: [Int32], x1: [Int32], wx: [Float]) {
        self.signed = signed
        func stored(_ q: ck_qparams?) -> UnsafeMutablePointer<ck_qparams>? {
            q.map {
                let p = UnsafeMutablePointer<ck_qparams>.allocate(capacity: 1)
                p.initialize(to: $0)
                return p
            }
        }
        self.requant = stored(requant)
        self.dequant = stored(dequant)
        (self.planes, self.inH, self.inW, self.outH, self.outW) = (planes, inH, inW, outH, outW)
        (self.y0, self.y1, self.wy, self.x0, self.x1, self.wx) = (y0, y1, wy, x0, x1, wx)
        super.init(ctx, consumed: [1, 2, 3])
    }

    deinit {
        requant?.deallocate()
        dequant?.deallocate()
    }

    override var scratchPerThread: Int { 2 * inW + 6 * outW }  // CK_RESIZE_Q8_SCRATCH

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = bytes(outputs[0]), s: Int32 = signed ? 1 : 0
        let q = requant.map { UnsafePointer($0) }, dq = dequant.map { UnsafePointer($0) }
        let parts = planes * outH * outW < 16_384 ? 1 : min(pool.threads, planes)
        func work(_ t: Int) {  // a local function, not a closure value (no context allocation)
            guard t < parts else { return }
            ck_resize_bilinear_q8(x, y, s, q, dq, Int32(inH), Int32(inW), Int32(outH), Int32(outW), y0, y1, wy, x0, x1, wx,
                                  Int32(planes * t / parts), Int32(planes * (t + 1) / parts), scratch[t])
        }
        if parts == 1 { work(0) } else { pool.run(work) }
    }
}
