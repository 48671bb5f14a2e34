import CKernels

/// ONNX QLinearConv (and what QDQFusion makes of DequantizeLinear → Conv → QuantizeLinear):
/// 8-bit input, int8 weights (per tensor or per output channel), int32 bias, exact int32
/// accumulation and onnxruntime's requantisation. A fused Relu/Clip narrows the output clamp.
enum QLinearConvOp: Operator {
    static let opTypes = ["QLinearConv"]
    /// Output clamp set by QDQFusion for a fused Relu/Clip (private attributes).
    static let clampMin = "_qmin", clampMax = "_qmax"

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.quantizedInput(0, "input x")
        let w = try ctx.info(3)
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw ctx.fail("only 2-D convolutions (4-D tensors) are supported, got input \(x.shape) and weights \(w.shape)")
        }
        let group = try ctx.int("group", 1)
        guard group >= 1, x.shape[1] % group == 0, w.shape[0] % group == 0, w.shape[1] * group == x.shape[1] else {
            throw EngineError.shapeMismatch("node \(ctx.label): \(x.shape[1]) input channels do not fit weights \(w.shape) with group \(group)")
        }
        let g = try ConvGeometry(ctx, inH: x.shape[2], inW: x.shape[3], kernel: (w.shape[2], w.shape[3]))
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 7, "output")
        return [ValueInfo(shape: [x.shape[0], w.shape[0], g.outH, g.outW], dtype: signed ? .int8 : .uint8)]
    }

    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int {
        guard let w = try? ctx.info(3) else { return 0 }
        return 2 * outputs[0].count * w.shape[1] * w.shape[2] * w.shape[3]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let xq = try QuantParams.read(ctx, scale: 1, zero: 2, "input")
        try ctx.checkEncoding(x, xq, "input x")
        let yq = try QuantParams.read(ctx, scale: 6, zero: 7, "output")
        let w = try ctx.requireConstant(3, "the weight tensor")
        let filters = w.shape[0], perFilter = w.count / max(1, filters)
        let wScales = try QuantParams.readScales(ctx, 4, "weight")
        let (wZeros, _) = try QuantParams.readZeroPoints(ctx, 5, "weight")
        guard wScales.count == 1 || wScales.count == filters, wZeros.count == 1 || wZeros.count == filters else {
            throw ctx.fail("weight scale/zero point must have 1 or \(filters) values (per output channel)")
        }
        // Weights become plain int8 (w - zero point); uint8 weights whose zero point puts them
        // outside int8 have no exact int8 form.
        let raw = w.ints
        var weights = [Float](repeating: 0, count: raw.count)
        for m in 0..<filters {
            let z = Int64(wZeros[wZeros.count == 1 ? 0 : m])
            for k in 0..<perFilter {
                let v = raw[m * perFilter + k] - z
                guard v >= -128, v <= 127 else {
                    throw ctx.fail("weight \(raw[m * perFilter + k]) with zero point \(z) does not fit int8")
                }
                weights[m * perFilter + k] = Float(v)
            }
        }
        var bias = [Int32](repeating: 0, count: filters)
        if ctx.has(8) {
            let b = try ctx.requireConstant(8, "the bias")
            guard b.count == filters, b.dtype != .float32 else {
                throw ctx.fail("bias must be \(filters) int32 values")
            }
            bias = b.ints.map { Int32(clamping: $0) }
        }
        let scales = (0..<filters).map { xq.scale * wScales[wScales.count == 1 ? 0 : $0] / yq.scale }
        var lo = yq.range.lowerBound, hi = yq.range.upperBound
        if case .int(let v)? = ctx.attributes.values[clampMin] { lo = max(lo, Int32(clamping: v)) }
        if case .int(let v)? = ctx.attributes.values[clampMax] { hi = min(hi, Int32(clamping: v)) }
        var geometry = try ConvGeometry(ctx, inH: x.shape[2], inW: x.shape[3], kernel: (w.shape[2], w.shape[3]))
        let group = try ctx.int("group", 1)
        if group == 1 || group != x.shape[1] {
            (geometry, weights) = ConvOp.pruneDeadTaps(geometry, weights: weights, filters: filters, perGroup: w.shape[1])
        }
        return QConvKernel(ctx, batch: x.shape[0], inChannels: x.shape[1], filters: filters, group: group,
                           geometry: geometry, weights: weights.map { Int8($0) }, bias: bias, scales: scales,
                           input: xq, output: yq, clamp: (lo, hi))
    }
}

final class QConvKernel: BoundKernel, @unchecked Sendable {
    let mode: ConvGeometry.Mode
    let batch: Int, inChannels: Int, filters: Int, group: Int
    let geometry: ConvGeometry
    let input: QuantParams
    /// Depthwise: weights [C][taps]; GEMM modes: nil (the packed copy is all they read).
    let depthwiseWeights: [Int8]
    /// Per filter: the bias with the input zero point's correction folded in (GEMM modes) or as given (depthwise).
    let bias: [Int32]
    let scales: [Float]
    let requant: ck_requant
    let k: Int
    let tileRows: Int
    let packed: UnsafeMutableRawPointer?
    let packedStride: Int
    let gemmK: Int

    init(_ ctx: OpContext, batch: Int, inChannels: Int, filters: Int, group: Int, geometry g: ConvGeometry,
         weights: [Int8], bias: [Int32], scales: [Float], input: QuantParams, output: QuantParams,
         clamp: (Int32, Int32)) {
        self.batch = batch
        self.inChannels = inChannels
        self.filters = filters
        self.group = group
        self.geometry = g
        self.input = input
        self.scales = scales
        k = (inChannels / group) * g.kernel.h * g.kernel.w
        mode = g.mode(inChannels: inChannels, filters: filters, group: group)
        // The explicit im2col path (windows ck_qgemm_conv declines: stride 2 across, or no AVX-512
        // VNNI): about 1 MiB of columns per tile, but at least 256 columns, since with a narrower
        // tile each GEMM call would stream all the packed weights for a few columns.
        tileRows = max(1, min(g.outH, max((1 << 20) / max(1, k * g.outW), (256 + g.outW - 1) / g.outW)))
        let innerK = mode == .pointwise ? inChannels / group : k
        gemmK = innerK
        if mode == .depthwise {
            depthwiseWeights = weights
            self.bias = bias
            packed = nil
            packedStride = 0
        } else {
            // Σ_k w·(x - zx) = Σ_k w·x - zx·Σ_k w; int8 inputs are read as uint8 (x + 128).
            let zx = Int64(input.zeroPoint) + (input.isSigned ? 128 : 0)
            var corrected = bias
            for m in 0..<filters {
                let row = weights[(m * innerK)..<((m + 1) * innerK)].reduce(Int64(0)) { $0 + Int64($1) }
                corrected[m] = Int32(clamping: Int64(bias[m]) - zx * row)
            }
            self.bias = corrected
            depthwiseWeights = []
            let mg = filters / group
            let stride = (ck_qgemm_packed_a_size(Int32(mg), Int32(innerK)) + 63) / 64 * 64
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(64, stride * group), alignment: 64)
            weights.withUnsafeBufferPointer { w in
                for gi in 0..<group {
                    ck_qgemm_pack_a(Int32(mg), Int32(innerK), w.baseAddress! + gi * mg * innerK, Int32(innerK), p + gi * stride)
                }
            }
            packed = p
            packedStride = stride
        }
        requant = ck_requant(bias: nil, scale: nil, zero_point: output.zeroPoint, qmin: clamp.0, qmax: clamp.1,
                             out_signed: output.isSigned ? 1 : 0)
        super.init(ctx, consumed: [1, 2, 3, 4, 5, 6, 7, 8])
    }

    deinit { packed?.deallocate() }

    /// Bytes of im2col columns at the start of a thread's scratch (a multiple of 64).
    private var columnBytes: Int { mode == .im2col ? (k * tileRows * geometry.outW + 63) / 64 * 64 : 0 }

    override var scratchPerThread: Int {
        mode == .depthwise ? 0 : (columnBytes + ck_qgemm_scratch_size(Int32(gemmK)) + 3) / 4
    }

    override func run(pool: ThreadPool) {
        let g = geometry
        let inPlane = inChannels * g.inH * g.inW, outPlane = filters * g.outH * g.outW
        bias.withUnsafeBufferPointer { b in
            scales.withUnsafeBufferPointer { s in
                var rq = requant
                rq.bias = b.baseAddress
                rq.scale = s.baseAddress
                for n in 0..<batch {
                    let x = bytes(inputs[0]!) + n * inPlane, y = bytes(outputs[0]) + n * outPlane
                    switch mode {
                    case .depthwise: runDepthwise(x, y, &rq, pool)
                    case .pointwise: runPointwise(x.assumingMemoryBound(to: UInt8.self), y, &rq, pool)
                    case .im2col: runIm2col(x.assumingMemoryBound(to: UInt8.self), y, &rq, pool)
                    }
                }
            }
        }
    }

    private func runDepthwise(_ x: UnsafeMutableRawPointer, _ y: UnsafeMutableRawPointer,
                              _ rq: UnsafePointer<ck_requant>, _ pool: ThreadPool) {
        var win = geometry.window(channels: inChannels)
        let q = input.c
        depthwiseWeights.withUnsafeBufferPointer { w in
            pool.split(inChannels, cost: geometry.outH * geometry.outW * geometry.kernel.h * geometry.kernel.w) { c in
                ck_qdepthwise_conv2d(x, q, w.baseAddress, rq, y, &win, Int32(c.lowerBound), Int32(c.upperBound))
            }
        }
    }

    /// The requantisation of filters [m0, m0 + count) of group `gi`: bias and scale offset to the group.
    private static func groupRequant(_ rq: ck_requant, offset: Int) -> ck_requant {
        var r = rq
        r.bias = rq.bias + offset
        r.scale = rq.scale + offset
        return r
    }

    private func runPointwise(_ x: UnsafeMutablePointer<UInt8>, _ y: UnsafeMutableRawPointer,
                              _ rq: UnsafePointer<ck_requant>, _ pool: ThreadPool) {
        let hw = geometry.outH * geometry.outW
        let mg = filters / group, kg = inChannels / group
        let parts = (filters * hw * kg < 65_536) ? 1 : pool.threads
        let signed: Int32 = input.isSigned ? 1 : 0
        func work(_ part: Int) {  // a local function, not a closure value (no context allocation)
            guard part < parts else { return }
            for gi in 0..<group {
                let s = ConvKernel.split(m: mg, n: hw, part: part, parts: parts, columnStep: Int(ck_qgemm_column_step()))
                guard !s.m.isEmpty, !s.n.isEmpty else { continue }
                var r = QConvKernel.groupRequant(rq.pointee, offset: gi * mg)
                ck_qgemm(Int32(mg), Int32(hw), Int32(kg), packed! + gi * packedStride, x + gi * kg * hw, Int32(hw), signed,
                         y + gi * mg * hw, Int32(hw), &r, Int32(s.m.lowerBound), Int32(s.m.upperBound),
                         Int32(s.n.lowerBound), Int32(s.n.upperBound), bytes(scratch[part]))
            }
        }
        if parts == 1 { work(0) } else { pool.run(work) }
    }

    private func runIm2col(_ x: UnsafeMutablePointer<UInt8>, _ y: UnsafeMutableRawPointer,
                           _ rq: UnsafePointer<ck_requant>, _ pool: ThreadPool) {
        let g = geometry
        let hw = g.outH * g.outW
        let mg = filters / group, cg = inChannels / group
        let tiles = (g.outH + tileRows - 1) / tileRows
        let threads = (filters * hw * k < 65_536) ? 1 : pool.threads
        let signed: Int32 = input.isSigned ? 1 : 0
        // Padding holds the zero point's byte, which is exactly 0 after the correction.
        let pad = UInt8(truncatingIfNeeded: input.zeroPoint)
        var window = g.window(channels: cg)
        if ck_qgemm_conv_supported(&window, Int32(k)) != 0 {
            // The GEMM reads the taps straight from the input (no column buffer): threads split the
            // output pixels (or the filters) as for a pointwise layer.
            let parts = threads
            func implicitWork(_ part: Int) {
                guard part < parts else { return }
                let s = ConvKernel.split(m: mg, n: hw, part: part, parts: parts, columnStep: Int(ck_qgemm_column_step()))
                guard !s.m.isEmpty, !s.n.isEmpty else { return }
                let scratchBytes = UnsafeMutableRawPointer(bytes(scratch[part])) + columnBytes
                var win = window
                for gi in 0..<group {
                    var r = QConvKernel.groupRequant(rq.pointee, offset: gi * mg)
                    _ = ck_qgemm_conv(Int32(mg), Int32(k), packed! + gi * packedStride, x + gi * cg * g.inH * g.inW, &win, pad,
                                      signed, y + gi * mg * hw, Int32(hw), &r, Int32(s.m.lowerBound), Int32(s.m.upperBound),
                                      Int32(s.n.lowerBound), Int32(s.n.upperBound), scratchBytes)
                }
            }
            if parts == 1 { implicitWork(0) } else { pool.run(implicitWork) }
            return
        }
        func work(_ t: Int) {  // a local function, not a closure value (no context allocation)
            guard t < threads else { return }
            let col = bytes(scratch[t]).assumingMemoryBound(to: UInt8.self)
            let byTiles = tiles >= threads
            for gi in 0..<group {
                var r = QConvKernel.groupRequant(rq.pointee, offset: gi * mg)
                for tile in 0..<tiles where !byTiles || tile % threads == t {
                    let oh0 = tile * tileRows, oh1 = min(g.outH, oh0 + tileRows)
                    let cols = (oh1 - oh0) * g.outW
                    var win = g.window(channels: cg)
                    win.out_h = Int32(oh1 - oh0)
                    win.pad_top = Int32(g.padTop - oh0 * g.stride.h)
                    ck_im2col_u8(x + gi * cg * g.inH * g.inW, col, &win, 0, Int32(k), pad)
                    let ms = byTiles ? 0..<mg : (mg * t / threads)..<(mg * (t + 1) / threads)
                    guard !ms.isEmpty else { continue }
                    ck_qgemm(Int32(mg), Int32(cols), Int32(k), packed! + gi * packedStride, col, Int32(cols), signed,
                             y + gi * mg * hw + oh0 * g.outW, Int32(hw), &r, Int32(ms.lowerBound), Int32(ms.upperBound),
                             0, Int32(cols), UnsafeMutableRawPointer(col + columnBytes))
                }
            }
        }
        if threads == 1 { work(0) } else { pool.run(work) }
    }
}
