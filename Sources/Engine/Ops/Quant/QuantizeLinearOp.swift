import CKernels

/// ONNX QuantizeLinear: float to uint8/int8, round half to even, as onnxruntime does it.
/// Run-time tensors take per-tensor parameters; constants may be quantized per axis.
enum QuantizeLinearOp: Operator {
    static let opTypes = ["QuantizeLinear"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        guard x.dtype == .float32 else { throw ctx.fail("needs a float input, got \(x.dtype.rawValue)") }
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 2, "output")
        return [ValueInfo(shape: x.shape, dtype: signed ? .int8 : .uint8)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "input")
        let scales = try QuantParams.readScales(ctx, 1, "output")
        let (zeros, signed) = try QuantParams.readZeroPoints(ctx, 2, "output")
        let axis = try PerAxis(ctx, shape: x.shape, count: scales.count, zeroCount: zeros.count)
        let values = x.floats
        let q = values.indices.map { i -> Int64 in
            let c = axis.channel(of: i)
            return Int64(QuantParams(scale: scales[c], zeroPoint: zeros[zeros.count == 1 ? 0 : c], isSigned: signed).quantize(values[i]))
        }
        return [ConstTensor(ints: q, shape: x.shape, dtype: signed ? .int8 : .uint8)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        QuantizeKernel(ctx, params: try QuantParams.read(ctx, scale: 1, zero: 2, "output"), count: outputs[0].count)
    }
}

/// Which scale applies to element i of a tensor quantized per tensor or along one axis.
struct PerAxis {
    let inner: Int, length: Int

    init(_ ctx: OpContext, shape: [Int], count: Int, zeroCount: Int) throws {
        guard zeroCount == 1 || zeroCount == count else {
            throw ctx.fail("scale has \(count) values but the zero point \(zeroCount)")
        }
        if count == 1 {
            (inner, length) = (max(1, shape.reduce(1, *)), 1)
            return
        }
        let axis = try ctx.axis(try ctx.int("axis", 1), rank: shape.count)
        guard shape[axis] == count else {
            throw EngineError.shapeMismatch("node \(ctx.label): \(count) scales along axis \(axis) of a \(shape) tensor")
        }
        (inner, length) = (shape[(axis + 1)...].reduce(1, *), count)
    }

    func channel(of i: Int) -> Int { length == 1 ? 0 : (i / inner) % length }
}

final class QuantizeKernel: BoundKernel, @unchecked Sendable {
    let params: ck_qparams
    let count: Int

    init(_ ctx: OpContext, params: QuantParams, count: Int) {
        self.params = params.c
        self.count = count
        super.init(ctx, consumed: [1, 2])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = bytes(outputs[0]), p = params
        pool.split(count, cost: 2) { r in
            ck_quantize(x + r.lowerBound, y + r.lowerBound, r.count, p)
        }
    }
}
