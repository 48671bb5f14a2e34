/// Cast between the engine's element types; float→float at run time is a view.
enum CastOp: Operator {
    static let opTypes = ["Cast"]

    static func target(_ ctx: OpContext) throws -> DType {
        let to = try ctx.int("to")
        guard let type = ONNXDataType(rawValue: Int32(to)), type != .string else { throw ctx.fail("cannot cast to type \(to)") }
        // 8-bit casts are integers like any other at load time, not quantized run-time tensors.
        return type.dtype.isQuantized ? .int64 : type.dtype
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        [ValueInfo(shape: try ctx.info(0).shape, dtype: try target(ctx))]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "input")
        switch try target(ctx) {
        case .float32: return [ConstTensor(floats: x.floats, shape: x.shape)]
        case .int64, .uint8, .int8: return [ConstTensor(ints: x.ints, shape: x.shape)]
        case .bool: return [ConstTensor(ints: x.floats.map { $0 != 0 ? 1 : 0 }, shape: x.shape, dtype: .bool)]
        }
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        CastKernel(ctx, target: try target(ctx), count: outputs[0].count)
    }
}

/// Run-time Cast. Integer and boolean run-time tensors are stored as floats (exact up to
/// 2^24), so casting is truncation toward zero, a 0/1 test, or a copy.
final class CastKernel: BoundKernel, @unchecked Sendable {
    let target: DType
    let count: Int

    init(_ ctx: OpContext, target: DType, count: Int) {
        (self.target, self.count) = (target, count)
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        switch target {
        case .float32: y.update(from: x, count: count)
        case .int64, .uint8, .int8: for i in 0..<count { y[i] = x[i].rounded(.towardZero) }
        case .bool: for i in 0..<count { y[i] = x[i] != 0 ? 1 : 0 }
        }
    }
}
