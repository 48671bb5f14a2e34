/// Cast between the engine's element types; float→float at run time is a view.
enum CastOp: Operator {
    static let opTypes = ["Cast"]

    static func target(_ ctx: OpContext) throws -> DType {
        let to = try ctx.int("to")
        guard let type = ONNXDataType(rawValue: Int32(to)), type != .string else { throw ctx.fail("cannot cast to type \(to)") }
        return type.dtype
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        [ValueInfo(shape: try ctx.info(0).shape, dtype: try target(ctx))]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "input")
        switch try target(ctx) {
        case .float32: return [ConstTensor(floats: x.floats, shape: x.shape)]
        case .int64: return [ConstTensor(ints: x.ints, shape: x.shape)]
        case .bool: return [ConstTensor(ints: x.floats.map { $0 != 0 ? 1 : 0 }, shape: x.shape, dtype: .bool)]
        }
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        guard try ctx.info(0).dtype == .float32, try target(ctx) == .float32 else {
            throw ctx.fail("casting run-time values to integers is not supported")
        }
        return GatherIndicesKernel(ctx, indices: (0..<outputs[0].count).map { Int32($0) })
    }
}
