import CKernels

/// MaxPool and AveragePool over 2-D windows (pads, strides, ceil_mode, dilations,
/// count_include_pad).
enum PoolOp: Operator {
    static let opTypes = ["MaxPool", "AveragePool"]

    static func geometry(_ ctx: OpContext) throws -> ConvGeometry {
        let x = try ctx.info(0)
        guard x.shape.count == 4 else { throw ctx.fail("only 2-D pooling (4-D tensors) is supported, got \(x.shape)") }
        guard ctx.node.outputs.count == 1 || ctx.node.outputs.dropFirst().allSatisfy(\.isEmpty) else {
            throw ctx.fail("the Indices output of MaxPool is not supported")
        }
        let ks = try ctx.ints("kernel_shape")
        guard ks.count == 2 else { throw ctx.fail("kernel_shape must have 2 values") }
        return try ConvGeometry(ctx, inH: x.shape[2], inW: x.shape[3], kernel: (ks[0], ks[1]),
                                ceilMode: try ctx.int("ceil_mode", 0) != 0,
                                allowDilation: ctx.node.opType == "MaxPool")
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0), g = try geometry(ctx)
        // MaxPool of an 8-bit tensor works on the codes (QOperator models; QDQ ones after QDQFusion).
        guard !x.dtype.isQuantized || ctx.node.opType == "MaxPool" else { throw ctx.fail("needs a float input") }
        return [ValueInfo(shape: [x.shape[0], x.shape[1], g.outH, g.outW], dtype: x.dtype.isQuantized ? x.dtype : .float32)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        if x.dtype.isQuantized {
            return MaxPool8Kernel(ctx, planes: x.shape[0] * x.shape[1], geometry: try geometry(ctx), signed: x.dtype == .int8)
        }
        return PoolKernel(ctx, planes: x.shape[0] * x.shape[1], geometry: try geometry(ctx),
                          isMax: ctx.node.opType == "MaxPool", includePad: try ctx.int("count_include_pad", 0) != 0)
    }
}

final class PoolKernel: BoundKernel, @unchecked Sendable {
    let planes: Int
    let geometry: ConvGeometry
    let isMax: Bool
    let includePad: Bool

    init(_ ctx: OpContext, planes: Int, geometry: ConvGeometry, isMax: Bool, includePad: Bool) {
        (self.planes, self.geometry, self.isMax, self.includePad) = (planes, geometry, isMax, includePad)
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        var win = geometry.window(channels: planes)
        pool.split(planes, cost: geometry.outH * geometry.outW * geometry.kernel.h * geometry.kernel.w) { r in
            if isMax {
                ck_maxpool2d(x, y, &win, Int32(r.lowerBound), Int32(r.upperBound))
            } else {
                // The real bottom/right padding matters for ceil-mode windows that overrun it.
                ck_avgpool2d_padded(x, y, &win, Int32(geometry.padBottom), Int32(geometry.padRight),
                                    includePad ? 1 : 0, Int32(r.lowerBound), Int32(r.upperBound))
            }
        }
    }
}

/// MaxPool of an 8-bit tensor on its codes.
final class MaxPool8Kernel: BoundKernel, @unchecked Sendable {
    let planes: Int
    let geometry: ConvGeometry
    let signed: Bool

    init(_ ctx: OpContext, planes: Int, geometry: ConvGeometry, signed: Bool) {
        (self.planes, self.geometry, self.signed) = (planes, geometry, signed)
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = bytes(outputs[0]), s: Int32 = signed ? 1 : 0
        var win = geometry.window(channels: planes)
        pool.split(planes, cost: geometry.outH * geometry.outW * geometry.kernel.h * geometry.kernel.w) { r in
            ck_maxpool2d_q8(x, y, s, &win, Int32(r.lowerBound), Int32(r.upperBound))
        }
    }
}

/// GlobalAveragePool: the mean of each channel's spatial plane.
enum GlobalAveragePoolOp: Operator {
    static let opTypes = ["GlobalAveragePool"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        guard x.shape.count >= 3 else { throw ctx.fail("needs at least a 3-D input, got \(x.shape)") }
        return [ValueInfo(shape: Array(x.shape[..<2]) + [Int](repeating: 1, count: x.shape.count - 2))]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        return GlobalAveragePoolKernel(ctx, planes: x.shape[0] * x.shape[1], spatial: x.shape[2...].reduce(1, *))
    }
}

final class GlobalAveragePoolKernel: BoundKernel, @unchecked Sendable {
    let planes: Int, spatial: Int

    init(_ ctx: OpContext, planes: Int, spatial: Int) {
        (self.planes, self.spatial) = (planes, spatial)
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        pool.split(planes, cost: spatial) { r in
            ck_global_avgpool(x, y, Int32(spatial), Int32(r.lowerBound), Int32(r.upperBound))
        }
    }
}
