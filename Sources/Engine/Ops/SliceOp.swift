/// Slice with constant starts/ends/axes/steps (opset 10+ inputs).
enum SliceOp: Operator {
    static let opTypes = ["Slice"]

    static func plan(_ ctx: OpContext) throws -> (shape: [Int], map: [Int]) {
        let data = try ctx.info(0)
        let rank = data.shape.count
        let starts = try ctx.requireConstant(1, "starts").ints, ends = try ctx.requireConstant(2, "ends").ints
        let axes = ctx.has(3) ? try ctx.requireConstant(3, "axes").ints.map { try ctx.axis(Int($0), rank: rank) } : Array(0..<starts.count)
        let steps = ctx.has(4) ? try ctx.requireConstant(4, "steps").ints : [Int64](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw ctx.fail("starts, ends, axes and steps differ in length")
        }
        var begin = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank)
        var shape = data.shape
        for (k, a) in axes.enumerated() {
            let n = Int64(data.shape[a]), s = max(min(steps[k], n + 1), -(n + 1))
            guard s != 0 else { throw ctx.fail("step 0") }
            func clamp(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { min(max(v, lo), hi) }
            var b = starts[k] < 0 ? starts[k] + n : starts[k]
            var e = ends[k] < 0 ? ends[k] + n : ends[k]
            if s > 0 { b = clamp(b, 0, n); e = clamp(e, 0, n) } else { b = clamp(b, 0, n - 1); e = clamp(e, -1, n - 1) }
            let count = s > 0 ? max(0, (e - b + s - 1) / s) : max(0, (b - e + (-s) - 1) / (-s))
            begin[a] = Int(b)
            step[a] = Int(s)
            shape[a] = Int(count)
        }
        var strides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * data.shape[i + 1] }
        let base = zip(begin, strides).map(*).reduce(0, +)
        let map = Broadcast.indicesWithStrides(shape: shape, strides: zip(strides, step).map(*)).map { $0 + base }
        return (shape, map)
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
