/// Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference): they change only
/// the shape, so at run time the output shares the input's storage and nothing runs.
enum ViewOp: Operator {
    static let opTypes = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"]
    static var isView: Bool { true }

    /// Axes from the opset-13 input or the older attribute.
    private static func axes(_ ctx: OpContext, rank: Int) throws -> [Int]? {
        if ctx.has(1) { return try ctx.requireConstant(1, "axes").ints.map { try ctx.axis(Int($0), rank: rank) } }
        if ctx.attributes.has("axes") { return try ctx.ints("axes").map { try ctx.axis($0, rank: rank) } }
        return nil
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        var shape = x.shape
        switch ctx.node.opType {
        case "Reshape":
            let target = try ctx.requireConstant(1, "the target shape").ints.map { Int($0) }
            guard target.count <= 8, target.allSatisfy({ $0 >= -1 && $0 <= ValueInfo.maxElements }) else {
                throw ctx.fail("invalid target shape \(target)")
            }
            let allowZero = try ctx.int("allowzero", 0) != 0
            shape = target.enumerated().map { i, d in d == 0 && !allowZero && i < x.shape.count ? x.shape[i] : d }
            guard let known = ValueInfo.checkedCount(shape.filter { $0 != -1 }) else {
                throw EngineError.shapeMismatch("node \(ctx.label): cannot reshape \(x.shape) to \(target)")
            }
            let unknown = shape.filter { $0 == -1 }.count
            guard unknown <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw ctx.fail("invalid target shape \(target)") }
            if unknown == 1 {
                guard known > 0, x.count % known == 0 else { throw EngineError.shapeMismatch("node \(ctx.label): cannot reshape \(x.shape) to \(target)") }
                shape = shape.map { $0 == -1 ? x.count / known : $0 }
            }
            guard shape.reduce(1, *) == x.count else { throw EngineError.shapeMismatch("node \(ctx.label): cannot reshape \(x.shape) to \(target)") }
        case "Flatten":
            let axis = try ctx.int("axis", 1)
            let a = axis < 0 ? axis + x.shape.count : axis
            guard a >= 0, a <= x.shape.count else { throw ctx.fail("axis \(axis) out of range") }
            shape = [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)]
        case "Squeeze":
            if let axes = try axes(ctx, rank: x.shape.count) {
                guard axes.allSatisfy({ x.shape[$0] == 1 }) else { throw ctx.fail("cannot squeeze non-unit axes \(axes) of \(x.shape)") }
                shape = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
            } else {
                shape = x.shape.filter { $0 != 1 }
            }
        case "Unsqueeze":
            guard let raw = ctx.has(1) ? try ctx.requireConstant(1, "axes").ints.map({ Int($0) }) : try? ctx.ints("axes") else {
                throw ctx.fail("needs axes")
            }
            let rank = x.shape.count + raw.count
            let axes = try raw.map { try ctx.axis($0, rank: rank) }.sorted()
            for a in axes { shape.insert(1, at: a) }
        default:
            break
        }
        return [ValueInfo(shape: shape, dtype: x.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        [try ctx.requireConstant(0, "data").reshaped(outputs[0].shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        BoundKernel(ctx, consumed: Set(ctx.inputInfos.indices))
    }
}

/// Transpose with any permutation.
enum TransposeOp: Operator {
    static let opTypes = ["Transpose"]

    static func perm(_ ctx: OpContext) throws -> [Int] {
        let rank = try ctx.info(0).shape.count
        let perm = try ctx.ints("perm", Array((0..<rank).reversed()))
        guard perm.sorted() == Array(0..<rank) else { throw ctx.fail("perm \(perm) is not a permutation of rank \(rank)") }
        return perm
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        return [ValueInfo(shape: try perm(ctx).map { x.shape[$0] }, dtype: x.dtype)]
    }

    /// For each output element, the input element it copies.
    static func sourceIndices(shape: [Int], perm: [Int]) -> [Int32] {
        let out = perm.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let permuted = perm.map { inStrides[$0] }
        let shapeOut = out.map { $0 }
        return Broadcast.indicesWithStrides(shape: shapeOut, strides: permuted).map { Int32($0) }
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let x = try ctx.requireConstant(0, "data")
        return [x.picking(sourceIndices(shape: x.shape, perm: try perm(ctx)), shape: outputs[0].shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        GatherIndicesKernel(ctx, indices: sourceIndices(shape: try ctx.info(0).shape, perm: try perm(ctx)))
    }
}

/// Copies input elements to the output through a precomputed index table.
final class GatherIndicesKernel: BoundKernel, @unchecked Sendable {
    let indices: [Int32]

    init(_ ctx: OpContext, indices: [Int32]) {
        self.indices = indices
        super.init(ctx, consumed: Set(ctx.inputInfos.indices.dropFirst()))
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        indices.withUnsafeBufferPointer { map in
            pool.split(map.count) { r in
                for i in r { y[i] = x[Int(map[i])] }
            }
        }
    }
}
