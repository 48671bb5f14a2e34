import CKernels

/// ONNX DequantizeLinear: (q - zero point) * scale. Constant inputs (weights, int32 biases) fold
/// at load time, per axis too; run-time 8-bit tensors dequantize per tensor or per axis.
enum DequantizeLinearOp: Operator {
    static let opTypes = ["DequantizeLinear"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        guard x.dtype != .float32, x.dtype != .bool else { throw ctx.fail("needs an integer input, got \(x.dtype.rawValue)") }
        return [ValueInfo(shape: x.shape)]
    }

    /// Scales and zero points per element channel, checked against the input's shape.
    private static func parameters(_ ctx: OpContext, shape: [Int]) throws -> (scales: [Float], zeros: [Int32], axis: PerAxis) {
        let scales = try QuantParams.readScales(ctx, 1, "input")
        var zeros: [Int32] = [0]
        if ctx.has(2) { zeros = try ctx.requireConstant(2, "input zero point").ints.map { Int32(clamping: $0) } }
        return (scales, zeros, try PerAxis(ctx, shape: shape, count: scales.count, zeroCount: zeros.count))
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "input")
        let (scales, zeros, axis) = try parameters(ctx, shape: x.shape)
        let q = x.ints
        let values = q.indices.map { i -> Float in
            let c = axis.channel(of: i)
            return Float(Int32(clamping: q[i]) - zeros[zeros.count == 1 ? 0 : c]) * scales[c]
        }
        return [ConstTensor(floats: values, shape: x.shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.quantizedInput(0, "a run-time DequantizeLinear input")
        let (scales, zeros, axis) = try parameters(ctx, shape: x.shape)
        let params = scales.indices.map {
            ck_qparams(scale: scales[$0], zero_point: zeros[zeros.count == 1 ? 0 : $0], is_signed: x.dtype == .int8 ? 1 : 0)
        }
        return DequantizeKernel(ctx, params: params, inner: axis.inner, count: x.count)
    }
}

final class DequantizeKernel: BoundKernel, @unchecked Sendable {
    /// One encoding per channel of `inner` contiguous elements (one for per-tensor).
    let params: [ck_qparams]
    let inner: Int
    let count: Int

    init(_ ctx: OpContext, params: [ck_qparams], inner: Int, count: Int) {
        (self.params, self.inner, self.count) = (params, inner, count)
        super.init(ctx, consumed: [1, 2])
    }

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = outputs[0]
        if params.count == 1 {
            let p = params[0]
            pool.split(count, cost: 2) { r in ck_dequantize(x + r.lowerBound, y + r.lowerBound, r.count, p) }
            return
        }
        params.withUnsafeBufferPointer { ps in
            let inner = self.inner, channels = ps.count
            pool.split(count / inner, cost: inner) { r in
                for block in r {
                    ck_dequantize(x + block * inner, y + block * inner, inner, ps[block % channels])
                }
            }
        }
    }
}
