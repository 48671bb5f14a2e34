import CKernels

/// com.microsoft QLinearGlobalAveragePool (NCHW): the mean of each channel, requantised.
enum QLinearGlobalAveragePoolOp: Operator {
    static let opTypes = ["QLinearGlobalAveragePool"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.quantizedInput(0, "input")
        guard try ctx.int("channels_last", 0) == 0 else { throw ctx.fail("channels_last = 1 is not supported") }
        guard x.shape.count >= 3 else { throw ctx.fail("needs an N×C×spatial input, got \(x.shape)") }
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 4, "output")
        return [ValueInfo(shape: Array(x.shape[..<2]) + [Int](repeating: 1, count: x.shape.count - 2), dtype: signed ? .int8 : .uint8)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let xq = try QuantParams.read(ctx, scale: 1, zero: 2, "input")
        try ctx.checkEncoding(x, xq, "input")
        return QGlobalAveragePoolKernel(ctx, input: xq.c, output: try QuantParams.read(ctx, scale: 3, zero: 4, "output").c,
                                        channels: x.shape[0] * x.shape[1], spatial: x.shape[2...].reduce(1, *))
    }
}

final class QGlobalAveragePoolKernel: BoundKernel, @unchecked Sendable {
    let input: ck_qparams, output: ck_qparams
    let channels: Int, spatial: Int

    init(_ ctx: OpContext, input: ck_qparams, output: ck_qparams, channels: Int, spatial: Int) {
        (self.input, self.output, self.channels, self.spatial) = (input, output, channels, spatial)
        super.init(ctx, consumed: [1, 2, 3, 4])
    }

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = bytes(outputs[0])
        let (pi, po, spatial) = (input, output, Int32(spatial))
        pool.split(channels, cost: self.spatial) { r in
            ck_qglobal_avgpool(x, pi, y, po, spatial, Int32(r.lowerBound), Int32(r.upperBound))
        }
    }
}
