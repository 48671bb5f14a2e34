import Foundation

/// Element-wise operators that appear only in load-time shape arithmetic (Floor of a
/// scaled size, Equal/Where of a dynamic reshape…); they fold and never run per frame.
enum ElementwiseIntOp: Operator {
    static let opTypes = ["Floor", "Ceil", "Neg", "Abs", "Sqrt", "Not", "Equal", "Less", "Greater",
                          "LessOrEqual", "GreaterOrEqual", "Min", "Max", "Mod", "And", "Or", "Pow"]

    private static var comparisons: Set<String> { ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or"] }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let infos = try ctx.inputInfos.indices.filter { ctx.has($0) }.map { try ctx.info($0) }
        guard let shape = Broadcast.shape(infos.map(\.shape)), let first = infos.first else {
            throw ctx.fail("inputs do not broadcast")
        }
        return [ValueInfo(shape: shape, dtype: comparisons.contains(ctx.node.opType) ? .bool : first.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let args = ctx.inputConstants.compactMap { $0 }
        let op = ctx.node.opType
        let dtype: DType? = comparisons.contains(op) ? .bool : nil
        return [try Broadcast.evaluate(args, dtype: dtype, ints: { v in
            switch op {
            case "Neg": -v[0]
            case "Abs": abs(v[0])
            case "Not": v[0] == 0 ? 1 : 0
            case "Equal": v[0] == v[1] ? 1 : 0
            case "Less": v[0] < v[1] ? 1 : 0
            case "Greater": v[0] > v[1] ? 1 : 0
            case "LessOrEqual": v[0] <= v[1] ? 1 : 0
            case "GreaterOrEqual": v[0] >= v[1] ? 1 : 0
            case "Min": v.min()!
            case "Max": v.max()!
            case "Mod": v[1] == 0 ? 0 : v[0] % v[1]
            case "And": (v[0] != 0 && v[1] != 0) ? 1 : 0
            case "Or": (v[0] != 0 || v[1] != 0) ? 1 : 0
            case "Pow": Int64(pow(Double(v[0]), Double(v[1])))
            default: v[0]
            }
        }, floats: { v in
            switch op {
            case "Floor": v[0].rounded(.down)
            case "Ceil": v[0].rounded(.up)
            case "Neg": -v[0]
            case "Abs": abs(v[0])
            case "Sqrt": v[0].squareRoot()
            case "Not": v[0] == 0 ? 1 : 0
            case "Equal": v[0] == v[1] ? 1 : 0
            case "Less": v[0] < v[1] ? 1 : 0
            case "Greater": v[0] > v[1] ? 1 : 0
            case "LessOrEqual": v[0] <= v[1] ? 1 : 0
            case "GreaterOrEqual": v[0] >= v[1] ? 1 : 0
            case "Min": v.min()!
            case "Max": v.max()!
            case "Mod": fmodf(v[0], v[1])
            case "And": (v[0] != 0 && v[1] != 0) ? 1 : 0
            case "Or": (v[0] != 0 || v[1] != 0) ? 1 : 0
            default: powf(v[0], v[1])
            }
        })]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        throw ctx.fail("is supported only on values known at load time")
    }
}

/// Where with constant inputs.
enum WhereOp: Operator {
    static let opTypes = ["Where"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let c = try ctx.info(0), a = try ctx.info(1), b = try ctx.info(2)
        guard let shape = Broadcast.shape([c.shape, a.shape, b.shape]) else { throw ctx.fail("inputs do not broadcast") }
        return [ValueInfo(shape: shape, dtype: a.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let c = try ctx.requireConstant(0, "condition"), a = try ctx.requireConstant(1, "X"), b = try ctx.requireConstant(2, "Y")
        let cond = ConstTensor(ints: c.ints, shape: c.shape)
        if a.dtype == .float32 || b.dtype == .float32 {
            let cf = ConstTensor(floats: cond.floats, shape: c.shape)
            return [try Broadcast.evaluate([cf, ConstTensor(floats: a.floats, shape: a.shape), ConstTensor(floats: b.floats, shape: b.shape)],
                                           ints: { _ in 0 }, floats: { v in v[0] != 0 ? v[1] : v[2] })]
        }
        return [try Broadcast.evaluate([cond, a, b], dtype: a.dtype, ints: { v in v[0] != 0 ? v[1] : v[2] }, floats: { _ in 0 })]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        throw ctx.fail("is supported only on values known at load time")
    }
}

/// Expand: broadcast to a constant shape.
enum ExpandOp: Operator {
    static let opTypes = ["Expand"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        let target = try ctx.requireConstant(1, "the shape").ints.map { Int($0) }
        guard let shape = Broadcast.shape([x.shape, target]) else { throw ctx.fail("cannot expand \(x.shape) to \(target)") }
        return [ValueInfo(shape: shape, dtype: x.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "input")
        return [x.picking(Broadcast.indices(of: x.shape, broadcastTo: outputs[0].shape), shape: outputs[0].shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        return GatherIndicesKernel(ctx, indices: Broadcast.indices(of: x.shape, broadcastTo: outputs[0].shape).map { Int32($0) })
    }
}
