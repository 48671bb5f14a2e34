/// Constant and ConstantOfShape: values fixed at load time.
enum ConstantOp: Operator {
    static let opTypes = ["Constant"]

    static func value(_ ctx: OpContext) throws -> ConstTensor {
        switch ctx.attributes.values.first?.value {
        case .tensor(let t)?: return t
        case .float(let f)?: return ConstTensor(floats: [f], shape: [])
        case .floats(let f)?: return ConstTensor(floats: f, shape: [f.count])
        case .int(let i)?: return ConstTensor(ints: [Int64(i)], shape: [])
        case .ints(let i)?: return ConstTensor(ints: i.map { Int64($0) }, shape: [i.count])
        default: throw ctx.fail("has no supported value attribute")
        }
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] { [try value(ctx).info] }
    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] { [try value(ctx)] }
    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel { throw ctx.fail("is always folded") }
}

enum ConstantOfShapeOp: Operator {
    static let opTypes = ["ConstantOfShape"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let shape = try ctx.requireConstant(0, "the shape").ints.map { Int($0) }
        guard shape.count <= 8, ValueInfo.checkedCount(shape) != nil else { throw ctx.fail("invalid shape \(shape)") }
        var dtype = DType.float32
        if case .tensor(let t)? = ctx.attributes.values["value"] { dtype = t.dtype }
        return [ValueInfo(shape: shape, dtype: dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        var fill = ConstTensor(floats: [0], shape: [1])
        if case .tensor(let t)? = ctx.attributes.values["value"] { fill = t }
        let n = outputs[0].count
        switch fill.storage {
        case .float(let v): return [ConstTensor(floats: [Float](repeating: v.first ?? 0, count: n), shape: outputs[0].shape)]
        case .int(let v): return [ConstTensor(ints: [Int64](repeating: v.first ?? 0, count: n), shape: outputs[0].shape, dtype: fill.dtype)]
        }
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        throw ctx.fail("needs a constant shape")
    }
}
