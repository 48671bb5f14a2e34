import CKernels

/// com.microsoft QLinearAdd (and DequantizeLinear ×2 → Add → QuantizeLinear after QDQFusion):
/// c = requantised (a + b), element-wise over inputs of one shape.
enum QLinearAddOp: Operator {
    static let opTypes = ["QLinearAdd"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let a = try ctx.quantizedInput(0, "input A"), b = try ctx.quantizedInput(3, "input B")
        guard a.shape == b.shape else {
            throw ctx.fail("inputs of shapes \(a.shape) and \(b.shape): broadcasting QLinearAdd is not supported")
        }
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 7, "output")
        return [ValueInfo(shape: a.shape, dtype: signed ? .int8 : .uint8)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let a = try QuantParams.read(ctx, scale: 1, zero: 2, "input A")
        let b = try QuantParams.read(ctx, scale: 4, zero: 5, "input B")
        try ctx.checkEncoding(try ctx.info(0), a, "input A")
        try ctx.checkEncoding(try ctx.info(3), b, "input B")
        return QAddKernel(ctx, a: a.c, b: b.c, c: try QuantParams.read(ctx, scale: 6, zero: 7, "output").c,
                          count: outputs[0].count)
    }
}

final class QAddKernel: BoundKernel, @unchecked Sendable {
    let a: ck_qparams, b: ck_qparams, c: ck_qparams
    let count: Int

    init(_ ctx: OpContext, a: ck_qparams, b: ck_qparams, c: ck_qparams, count: Int) {
        (self.a, self.b, self.c, self.count) = (a, b, c, count)
        super.init(ctx, consumed: [1, 2, 4, 5, 6, 7])
    }

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = bytes(inputs[3]!), z = bytes(outputs[0])
        let (pa, pb, pc) = (a, b, c)
        pool.split(count, cost: 2) { r in
            ck_qadd(x + r.lowerBound, pa, y + r.lowerBound, pb, z + r.lowerBound, pc, r.count)
        }
    }
}
