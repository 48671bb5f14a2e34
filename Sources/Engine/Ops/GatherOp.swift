/// Gather along one axis with constant indices (the `x.shape[2]` of torch's size chains,
/// and tensor indexing at run time).
enum GatherOp: Operator {
    static let opTypes = ["Gather"]

    static func plan(_ ctx: OpContext) throws -> (shape: [Int], map: [Int]) {
        let data = try ctx.info(0)
        let indices = try ctx.requireConstant(1, "the indices")
        let axis = try ctx.axis(try ctx.int("axis", 0), rank: data.shape.count)
        let n = data.shape[axis]
        let idx = try indices.ints.map { i -> Int in
            let j = Int(i) < 0 ? Int(i) + n : Int(i)
            guard j >= 0, j < n else { throw ctx.fail("index \(i) out of range for axis of \(n)") }
            return j
        }
        let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        var map: [Int] = []
        map.reserveCapacity(outer * idx.count * inner)
        for o in 0..<outer { for j in idx { for i in 0..<inner { map.append((o * n + j) * inner + i) } } }
        return (Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]), map)
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        [ValueInfo(shape: try plan(ctx).shape, dtype: try ctx.info(0).dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let p = try plan(ctx)
        return [try ctx.requireConstant(0, "data").picking(p.map, shape: p.shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        GatherIndicesKernel(ctx, indices: try plan(ctx).map.map { Int32($0) })
    }
}
