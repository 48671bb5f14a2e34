/// Concatenation along one axis; folds integer shape vectors too.
enum ConcatOp: Operator {
    static let opTypes = ["Concat"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let infos = try ctx.inputInfos.indices.filter { ctx.has($0) }.map { try ctx.info($0) }
        guard let first = infos.first else { throw ctx.fail("has no inputs") }
        let axis = try ctx.axis(try ctx.int("axis"), rank: first.shape.count)
        var shape = first.shape
        shape[axis] = 0
        for info in infos {
            guard info.shape.count == first.shape.count,
                  info.shape.indices.allSatisfy({ $0 == axis || info.shape[$0] == first.shape[$0] }) else {
                throw EngineError.shapeMismatch("node \(ctx.label): cannot concatenate \(infos.map(\.shape)) on axis \(axis)")
            }
            shape[axis] += info.shape[axis]
        }
        return [ValueInfo(shape: shape, dtype: first.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let parts = ctx.inputConstants.compactMap { $0 }
        let axis = try ctx.axis(try ctx.int("axis"), rank: outputs[0].shape.count)
        let outer = outputs[0].shape[..<axis].reduce(1, *)
        func join<T>(_ values: [[T]]) -> [T] {
            var out: [T] = []
            for o in 0..<outer {
                for (p, v) in zip(parts, values) {
                    let chunk = p.shape[axis...].reduce(1, *)
                    out.append(contentsOf: v[(o * chunk)..<((o + 1) * chunk)])
                }
            }
            return out
        }
        if outputs[0].dtype == .float32 {
            return [ConstTensor(floats: join(parts.map(\.floats)), shape: outputs[0].shape)]
        }
        return [ConstTensor(ints: join(parts.map(\.ints)), shape: outputs[0].shape, dtype: outputs[0].dtype)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let axis = try ctx.axis(try ctx.int("axis"), rank: outputs[0].shape.count)
        let chunks = try ctx.inputInfos.indices.map { ctx.has($0) ? try ctx.info($0).shape[axis...].reduce(1, *) : 0 }
        return ConcatKernel(ctx, outer: outputs[0].shape[..<axis].reduce(1, *), chunks: chunks)
    }
}

final class ConcatKernel: BoundKernel, @unchecked Sendable {
    let outer: Int
    let chunks: [Int]

    init(_ ctx: OpContext, outer: Int, chunks: [Int]) {
        self.outer = outer
        self.chunks = chunks
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let total = chunks.reduce(0, +)
        var offset = 0
        for (i, chunk) in chunks.enumerated() where chunk > 0 {
            let src = inputs[i]!, dst = outputs[0] + offset
            for o in 0..<outer {
                (dst + o * total).update(from: src + o * chunk, count: chunk)
            }
            offset += chunk
        }
    }
}
