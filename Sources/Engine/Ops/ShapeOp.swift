/// Shape: known at load time for a fixed input, so it always folds.
enum ShapeOp: Operator {
    static let opTypes = ["Shape", "Size"]
    static var dependsOnlyOnShapes: Bool { true }

    private static func values(_ ctx: OpContext) throws -> [Int64] {
        let shape = try ctx.info(0).shape
        if ctx.node.opType == "Size" { return [Int64(shape.reduce(1, *))] }
        let rank = shape.count
        func clampAxis(_ a: Int) -> Int { min(max(a < 0 ? a + rank : a, 0), rank) }
        let start = clampAxis(try ctx.int("start", 0)), end = clampAxis(try ctx.int("end", rank))
        return start < end ? shape[start..<end].map { Int64($0) } : []
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let v = try values(ctx)
        return [ValueInfo(shape: ctx.node.opType == "Size" ? [] : [v.count], dtype: .int64)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        [ConstTensor(ints: try values(ctx), shape: outputs[0].shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        throw ctx.fail("is always folded")
    }
}
