import CKernels

/// Softmax along one axis (opset 13 semantics; older opsets flatten from the axis on).
enum SoftmaxOp: Operator {
    static let opTypes = ["Softmax"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] { [try ctx.info(0)] }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let shape = try ctx.info(0).shape
        let axis = try ctx.axis(try ctx.int("axis", ctx.opset >= 13 ? -1 : 1), rank: shape.count)
        let outer = shape[..<axis].reduce(1, *), len = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        return SoftmaxKernel(ctx, outer: outer, length: len, inner: inner)
    }
}

final class SoftmaxKernel: BoundKernel, @unchecked Sendable {
    let outer: Int, length: Int, inner: Int

    init(_ ctx: OpContext, outer: Int, length: Int, inner: Int) {
        (self.outer, self.length, self.inner) = (outer, length, inner)
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0], block = length * inner
        pool.split(outer, cost: block) { r in
            ck_softmax(x + r.lowerBound * block, y + r.lowerBound * block, Int32(r.count), Int32(length), Int32(inner))
        }
    }
}

/// ReduceMean over constant axes (attribute before opset 18, input from 18 on).
enum ReduceMeanOp: Operator {
    static let opTypes = ["ReduceMean"]

    static func axes(_ ctx: OpContext, rank: Int) throws -> [Int] {
        var raw: [Int]? = nil
        if ctx.opset >= 18 {
            if ctx.has(1) { raw = try ctx.requireConstant(1, "axes").ints.map { Int($0) } }
        } else if ctx.attributes.has("axes") {
            raw = try ctx.ints("axes")
        }
        if raw == nil || raw!.isEmpty {
            return try ctx.int("noop_with_empty_axes", 0) != 0 ? [] : Array(0..<rank)
        }
        return try Set(raw!.map { try ctx.axis($0, rank: rank) }).sorted()
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        let axes = try axes(ctx, rank: x.shape.count)
        let keep = try ctx.int("keepdims", 1) != 0
        var shape: [Int] = []
        for (i, d) in x.shape.enumerated() {
            if axes.contains(i) { if keep { shape.append(1) } } else { shape.append(d) }
        }
        return [ValueInfo(shape: shape)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let axes = try axes(ctx, rank: x.shape.count)
        // Output index of every input element; each output is the mean of its group.
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let map = Broadcast.indices(of: kept, broadcastTo: x.shape).map { Int32($0) }
        let groupSize = axes.map { x.shape[$0] }.reduce(1, *)
        return ReduceMeanKernel(ctx, map: map, outCount: outputs[0].count, groupSize: groupSize)
    }
}

final class ReduceMeanKernel: BoundKernel, @unchecked Sendable {
    let map: [Int32]
    let outCount: Int
    let groupSize: Int

    init(_ ctx: OpContext, map: [Int32], outCount: Int, groupSize: Int) {
        (self.map, self.outCount, self.groupSize) = (map, outCount, groupSize)
        super.init(ctx, consumed: [1])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        y.update(repeating: 0, count: outCount)
        map.withUnsafeBufferPointer { m in
            for i in 0..<m.count { y[Int(m[i])] += x[i] }
        }
        let scale = 1 / Float(max(groupSize, 1))
        for i in 0..<outCount { y[i] *= scale }
    }
}

/// BatchNormalization that could not be folded into a preceding Conv: a per-channel affine map.
enum BatchNormalizationOp: Operator {
    static let opTypes = ["BatchNormalization"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        guard x.shape.count >= 2 else { throw ctx.fail("needs an input of rank >= 2") }
        if try ctx.int("training_mode", 0) != 0 { throw ctx.fail("training_mode is not supported") }
        return [x]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let x = try ctx.info(0)
        let c = x.shape[1]
        let gamma = try ctx.requireConstant(1, "scale").floats, beta = try ctx.requireConstant(2, "B").floats
        let mean = try ctx.requireConstant(3, "mean").floats, variance = try ctx.requireConstant(4, "var").floats
        guard [gamma, beta, mean, variance].allSatisfy({ $0.count == c }) else {
            throw EngineError.shapeMismatch("node \(ctx.label): parameters do not match \(c) channels")
        }
        let eps = try ctx.float("epsilon", 1e-5)
        let scale = (0..<c).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
        let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
        return AffineKernel(ctx, outer: x.shape[0], channels: c, inner: x.shape[2...].reduce(1, *), scale: scale, shift: shift)
    }
}

final class AffineKernel: BoundKernel, @unchecked Sendable {
    let outer: Int, channels: Int, inner: Int
    let scale: [Float], shift: [Float]

    init(_ ctx: OpContext, outer: Int, channels: Int, inner: Int, scale: [Float], shift: [Float]) {
        (self.outer, self.channels, self.inner, self.scale, self.shift) = (outer, channels, inner, scale, shift)
        super.init(ctx, consumed: [1, 2, 3, 4])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0]
        pool.split(outer * channels, cost: inner) { r in
            for row in r {
                let c = row % channels, s = scale[c], t = shift[c], base = row * inner
                for i in 0..<inner { y[base + i] = x[base + i] * s + t }
            }
        }
    }
}
