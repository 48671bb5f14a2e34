import COpenBLAS
import CKernels

/// 2-D convolution (any groups, strides, dilations, pads), with an optional fused residual
/// input and activation epilogue (see GraphRewrites). Weights are constant and prepared once.
enum ConvOp: Operator {
    static let opTypes = ["Conv"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0), w = try ctx.info(1)
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw ctx.fail("only 2-D convolutions (4-D tensors) are supported, got input \(x.shape) and weights \(w.shape)")
        }
        let group = try ctx.int("group", 1)
        guard group >= 1, x.shape[1] % group == 0, w.shape[0] % group == 0, w.shape[1] * group == x.shape[1] else {
            throw EngineError.shapeMismatch("node \(ctx.label): \(x.shape[1]) input channels do not fit weights \(w.shape) with group \(group)")
        }
        if ctx.has(2) {
            let b = try ctx.info(2)
            guard b.count == w.shape[0] else { throw EngineError.shapeMismatch("node \(ctx.label): bias has \(b.count) values for \(w.shape[0]) filters") }
        }
        let g = try ConvGeometry(ctx, inH: x.shape[2], inW: x.shape[3], kernel: (w.shape[2], w.shape[3]))
        if let ks = try? ctx.ints("kernel_shape"), ks != [w.shape[2], w.shape[3]] {
            throw EngineError.shapeMismatch("node \(ctx.label): kernel_shape \(ks) disagrees with weights \(w.shape)")
        }
        return [ValueInfo(shape: [x.shape[0], w.shape[0], g.outH, g.outW])]
    }

    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int {
        guard let w = try? ctx.info(1) else { return 0 }
        return 2 * outputs[0].count * w.shape[1] * w.shape[2] * w.shape[3]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let w = try ctx.requireConstant(1, "the weight tensor")
        let bias = ctx.has(2) ? try ctx.requireConstant(2, "the bias").floats : nil
        var act = ActivationSpec.none
        if case .int(let kind)? = ctx.attributes.values[GraphRewrites.activationKind] {
            act = ActivationSpec(kind: ck_act_kind(rawValue: UInt32(kind)),
                                 a: try ctx.float(GraphRewrites.activationA, 0), b: try ctx.float(GraphRewrites.activationB, 0))
        }
        var geometry = try ConvGeometry(ctx, inH: x.shape[2], inW: x.shape[3], kernel: (w.shape[2], w.shape[3]))
        var weights = w.floats
        let group = try ctx.int("group", 1)
        if group == 1 || group != x.shape[1] {
            (geometry, weights) = pruneDeadTaps(geometry, weights: weights, filters: w.shape[0], perGroup: w.shape[1])
        }
        return ConvKernel(ctx, batch: x.shape[0], inChannels: x.shape[1], filters: w.shape[0],
                          group: group, geometry: geometry, weights: weights,
                          bias: bias, activation: act, hasResidual: ctx.has(3))
    }

    /// Taps that read only padding for every output pixel contribute nothing. With large
    /// dilations on small maps (ASPP rates 12/18 on a 16×32 map) whole kernel rows and
    /// columns are such taps; the live ones form a contiguous range per axis, so the
    /// convolution equals a smaller one over that range with shifted padding.
    static func pruneDeadTaps(_ g: ConvGeometry, weights: [Float], filters: Int, perGroup: Int) -> (ConvGeometry, [Float]) {
        func live(_ k: Int, inLen: Int, outLen: Int, stride: Int, dilation: Int, pad: Int) -> ClosedRange<Int>? {
            let taps = (0..<k).filter { t in
                // Input positions o·stride − pad + t·dilation for o in 0..<outLen; any inside?
                let first = -pad + t * dilation, last = (outLen - 1) * stride - pad + t * dilation
                return last >= 0 && first < inLen
            }
            guard let lo = taps.first, let hi = taps.last else { return nil }
            return lo...hi
        }
        guard let rows = live(g.kernel.h, inLen: g.inH, outLen: g.outH, stride: g.stride.h, dilation: g.dilation.h, pad: g.padTop),
              let cols = live(g.kernel.w, inLen: g.inW, outLen: g.outW, stride: g.stride.w, dilation: g.dilation.w, pad: g.padLeft),
              rows.count < g.kernel.h || cols.count < g.kernel.w else { return (g, weights) }
        var pruned = g
        pruned.kernel = (rows.count, cols.count)
        pruned.padTop = g.padTop - rows.lowerBound * g.dilation.h
        pruned.padLeft = g.padLeft - cols.lowerBound * g.dilation.w
        var out: [Float] = []
        out.reserveCapacity(filters * perGroup * rows.count * cols.count)
        for m in 0..<filters {
            for c in 0..<perGroup {
                for kh in rows {
                    let base = ((m * perGroup + c) * g.kernel.h + kh) * g.kernel.w
                    out.append(contentsOf: weights[(base + cols.lowerBound)...(base + cols.upperBound)])
                }
            }
        }
        return (pruned, out)
    }
}

final class ConvKernel: BoundKernel, @unchecked Sendable {
    let mode: ConvGeometry.Mode
    let batch: Int, inChannels: Int, filters: Int, group: Int
    let geometry: ConvGeometry
    let weights: [Float]
    let bias: [Float]
    let activation: ActivationSpec
    let hasResidual: Bool
    /// Rows of the im2col matrix (input channels per group × kernel taps).
    let k: Int
    /// Output rows per im2col tile, so that a tile's column matrix stays cache-sized.
    let tileRows: Int
    /// Weights packed for ck_gemm_packed, one block per group (nil: OpenBLAS runs the GEMMs).
    let packed: UnsafeMutablePointer<Float>?
    let packedStride: Int
    /// Inner dimension of this convolution's GEMM.
    let gemmK: Int

    init(_ ctx: OpContext, batch: Int, inChannels: Int, filters: Int, group: Int,
         geometry: ConvGeometry, weights: [Float], bias: [Float]?, activation: ActivationSpec, hasResidual: Bool) {
        self.batch = batch
        self.inChannels = inChannels
        self.filters = filters
        self.group = group
        self.geometry = geometry
        self.bias = bias ?? [Float](repeating: 0, count: filters)
        self.activation = activation
        self.hasResidual = hasResidual
        let g = geometry
        k = (inChannels / group) * g.kernel.h * g.kernel.w
        mode = g.mode(inChannels: inChannels, filters: filters, group: group)
        let budget = 1 << 20
        tileRows = max(1, min(g.outH, budget / max(1, k * g.outW)))
        let innerK = mode == .pointwise ? inChannels / group : k
        gemmK = innerK
        // Our packed GEMM (AVX-512) is ~1.7x OpenBLAS's Haswell kernels on this class of CPU;
        // without AVX-512 OpenBLAS stays in charge.
        if mode != .depthwise && ck_cpu_features() & 2 != 0 {
            let mg = filters / group
            let stride = (ck_gemm_packed_a_size(Int32(mg), Int32(innerK)) + 15) / 16 * 16
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(64, stride * group * 4), alignment: 64)
            let p = raw.bindMemory(to: Float.self, capacity: max(16, stride * group))
            weights.withUnsafeBufferPointer { w in
                for gi in 0..<group {
                    ck_gemm_pack_a(Int32(mg), Int32(innerK), w.baseAddress! + gi * mg * innerK, Int32(innerK), p + gi * stride)
                }
            }
            packedStride = stride
            packed = p
            // The packed copy is all the GEMM reads; keep weights only once in memory.
            self.weights = []
        } else {
            packed = nil
            packedStride = 0
            self.weights = weights
        }
        super.init(ctx, consumed: [1, 2])
    }

    deinit { packed?.deallocate() }

    /// Floats of im2col columns at the start of a thread's scratch (64-byte aligned size).
    private var columnFloats: Int { mode == .im2col ? (k * tileRows * geometry.outW + 15) / 16 * 16 : 0 }

    override var scratchPerThread: Int {
        columnFloats + (packed == nil ? 0 : ck_gemm_scratch_size(Int32(gemmK)))
    }

    override func run(pool: ThreadPool) {
        let g = geometry
        let inPlane = inChannels * g.inH * g.inW, outPlane = filters * g.outH * g.outW
        for n in 0..<batch {
            let x = inputs[0]! + n * inPlane, y = outputs[0] + n * outPlane
            let r = hasResidual ? inputs[3]! + n * outPlane : nil
            switch mode {
            case .depthwise: runDepthwise(x, y, r, pool)
            case .pointwise: runPointwise(x, y, r, pool)
            case .im2col: runIm2col(x, y, r, pool)
            }
        }
    }

    private func runDepthwise(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              _ r: UnsafeMutablePointer<Float>?, _ pool: ThreadPool) {
        var win = geometry.window(channels: inChannels)
        let act = activation.c
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                pool.split(inChannels, cost: geometry.outH * geometry.outW * geometry.kernel.h * geometry.kernel.w) { c in
                    ck_depthwise_conv2d(x, w.baseAddress, b.baseAddress, r, y, &win,
                                        Int32(c.lowerBound), Int32(c.upperBound), act)
                }
            }
        }
    }

    /// Bias, residual and activation for output columns [col, col + count) of filters
    /// [m0, m1), while those columns are still in cache.
    private func epilogue(_ y: UnsafeMutablePointer<Float>, _ r: UnsafeMutablePointer<Float>?,
                          _ b: UnsafePointer<Float>, m0: Int, m1: Int, col: Int, count: Int) {
        let spatial = geometry.outH * geometry.outW, act = activation.c
        if count == spatial {
            ck_bias_activation(y, Int32(spatial), b, r, Int32(m0), Int32(m1), act)
            return
        }
        for m in m0..<m1 {
            ck_bias_activation(y + m * spatial + col, Int32(count), b + m, r.map { $0 + m * spatial + col }, 0, 1, act)
        }
    }

    /// Splits a GEMM's M×N output between threads along its larger dimension; column ranges start at
    /// multiples of `columnStep` (the kernel's tile width), so no thread but the last gets a partial tile.
    static func split(m: Int, n: Int, part: Int, parts: Int, columnStep: Int = 48) -> (m: Range<Int>, n: Range<Int>) {
        if n >= m * 2 || m < parts * 8 {
            let step = ((n + parts - 1) / parts + columnStep - 1) / columnStep * columnStep
            return (0..<m, min(n, part * step)..<min(n, (part + 1) * step))
        }
        return ((m * part / parts)..<(m * (part + 1) / parts), 0..<n)
    }

    private func runPointwise(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              _ r: UnsafeMutablePointer<Float>?, _ pool: ThreadPool) {
        let hw = geometry.outH * geometry.outW
        let mg = filters / group, kg = inChannels / group
        let parts = (filters * hw * kg < 65_536) ? 1 : pool.threads
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                // A local function, not a closure value: a closure stored in a `let` gets a heap
                // context on every call (one allocation per conv per frame), a local function
                // passed to a non-escaping parameter does not.
                func work(_ part: Int) {
                    guard part < parts else { return }
                    for gi in 0..<self.group {
                        let s = ConvKernel.split(m: mg, n: hw, part: part, parts: parts)
                        guard !s.m.isEmpty, !s.n.isEmpty else { continue }
                        let m0 = gi * mg + s.m.lowerBound
                        if let packed = self.packed {
                            ck_gemm_packed(Int32(mg), Int32(hw), Int32(kg), packed + gi * self.packedStride,
                                           x + gi * kg * hw, Int32(hw), y + gi * mg * hw, Int32(hw),
                                           b.baseAddress! + gi * mg, r.map { $0 + gi * mg * hw }, Int32(hw), self.activation.c,
                                           Int32(s.m.lowerBound), Int32(s.m.upperBound), Int32(s.n.lowerBound), Int32(s.n.upperBound),
                                           self.scratch[part])
                            continue
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(s.m.count), Int32(s.n.count), Int32(kg),
                                    1, w.baseAddress! + m0 * kg, Int32(kg),
                                    x + gi * kg * hw + s.n.lowerBound, Int32(hw), 0,
                                    y + m0 * hw + s.n.lowerBound, Int32(hw))
                        self.epilogue(y, r, b.baseAddress!, m0: m0, m1: m0 + s.m.count, col: s.n.lowerBound, count: s.n.count)
                    }
                }
                if parts == 1 { work(0) } else { pool.run(work) }
            }
        }
    }

    private func runIm2col(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ r: UnsafeMutablePointer<Float>?, _ pool: ThreadPool) {
        let g = geometry
        let hw = g.outH * g.outW
        let mg = filters / group, cg = inChannels / group
        let tiles = (g.outH + tileRows - 1) / tileRows
        let threads = (filters * hw * k < 65_536) ? 1 : pool.threads
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                func work(_ t: Int) {  // a local function for the same reason as in runPointwise
                    guard t < threads else { return }
                    let col = self.scratch[t]
                    // Enough tiles: each thread takes whole tiles. Otherwise every thread
                    // builds the tile and computes its share of the filters.
                    let byTiles = tiles >= threads
                    for gi in 0..<self.group {
                        for tile in 0..<tiles where !byTiles || tile % threads == t {
                            let oh0 = tile * self.tileRows, oh1 = min(g.outH, oh0 + self.tileRows)
                            let cols = (oh1 - oh0) * g.outW
                            // The tile as a window of its own over the whole input: its first
                            // output row starts at input row oh0·stride − pad, which a (possibly
                            // negative) top padding expresses. The input keeps its full height
                            // because the kernel strides channels by in_h × in_w.
                            var win = g.window(channels: cg)
                            win.out_h = Int32(oh1 - oh0)
                            win.pad_top = Int32(g.padTop - oh0 * g.stride.h)
                            ck_im2col(x + gi * cg * g.inH * g.inW, col, &win, 0, Int32(self.k))
                            let ms = byTiles ? 0..<mg : (mg * t / threads)..<(mg * (t + 1) / threads)
                            guard !ms.isEmpty else { continue }
                            let m0 = gi * mg + ms.lowerBound
                            if let packed = self.packed {
                                ck_gemm_packed(Int32(mg), Int32(cols), Int32(self.k), packed + gi * self.packedStride,
                                               col, Int32(cols), y + gi * mg * hw + oh0 * g.outW, Int32(hw),
                                               b.baseAddress! + gi * mg, r.map { $0 + gi * mg * hw + oh0 * g.outW }, Int32(hw),
                                               self.activation.c, Int32(ms.lowerBound), Int32(ms.upperBound), 0, Int32(cols),
                                               col + self.columnFloats)
                                continue
                            }
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(ms.count), Int32(cols), Int32(self.k),
                                        1, w.baseAddress! + m0 * self.k, Int32(self.k), col, Int32(cols), 0,
                                        y + m0 * hw + oh0 * g.outW, Int32(hw))
                            self.epilogue(y, r, b.baseAddress!, m0: m0, m1: m0 + ms.count, col: oh0 * g.outW, count: cols)
                        }
                    }
                }
                if threads == 1 { work(0) } else { pool.run(work) }
            }
        }
    }
}
