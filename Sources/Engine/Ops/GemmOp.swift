import COpenBLAS

/// Gemm: Y = alpha·op(A)·op(B) + beta·C with C broadcast; the fully connected layers of
/// the gate and classifier heads.
enum GemmOp: Operator {
    static let opTypes = ["Gemm"]

    static func dims(_ ctx: OpContext) throws -> (m: Int, n: Int, k: Int) {
        let a = try ctx.info(0), b = try ctx.info(1)
        guard a.shape.count == 2, b.shape.count == 2 else { throw ctx.fail("A and B must be 2-D, got \(a.shape) and \(b.shape)") }
        let ta = try ctx.int("transA", 0) != 0, tb = try ctx.int("transB", 0) != 0
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1]
        guard k == kb else { throw EngineError.shapeMismatch("node \(ctx.label): Gemm inner dimensions \(k) and \(kb) differ") }
        if ctx.has(2), Broadcast.shape([try ctx.info(2).shape, [m, n]]) != [m, n] {
            throw EngineError.shapeMismatch("node \(ctx.label): C \(try ctx.info(2).shape) does not broadcast to [\(m), \(n)]")
        }
        return (m, n, k)
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let d = try dims(ctx)
        return [ValueInfo(shape: [d.m, d.n])]
    }

    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int {
        guard let d = try? dims(ctx) else { return 0 }
        return 2 * d.m * d.n * d.k
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let d = try dims(ctx)
        var c: [Float]? = nil
        if ctx.has(2) {
            let cc = try ctx.requireConstant(2, "C")
            let beta = try ctx.float("beta", 1)
            let values = cc.floats
            c = Broadcast.indices(of: cc.shape, broadcastTo: [d.m, d.n]).map { beta * values[$0] }
        }
        return GemmKernel(ctx, m: d.m, n: d.n, k: d.k, transA: try ctx.int("transA", 0) != 0,
                          transB: try ctx.int("transB", 0) != 0, alpha: try ctx.float("alpha", 1), c: c)
    }
}

final class GemmKernel: BoundKernel, @unchecked Sendable {
    let m: Int, n: Int, k: Int
    let transA: Bool, transB: Bool
    let alpha: Float
    let c: [Float]?

    init(_ ctx: OpContext, m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, c: [Float]?) {
        (self.m, self.n, self.k, self.transA, self.transB, self.alpha, self.c) = (m, n, k, transA, transB, alpha, c)
        super.init(ctx, consumed: [2])
    }

    override func run(pool: ThreadPool) {
        let a = inputs[0]!, b = inputs[1]!, y = outputs[0]
        if let c { c.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: m * n) } }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    c == nil ? 0 : 1, y, Int32(n))
    }
}

/// MatMul with numpy semantics (batched, broadcast batch axes, 1-D operands promoted).
enum MatMulOp: Operator {
    static let opTypes = ["MatMul"]

    struct Plan {
        var m: Int, n: Int, k: Int
        var batch: [Int]
        var aOffsets: [Int], bOffsets: [Int]
        var out: [Int]
    }

    static func plan(_ ctx: OpContext) throws -> Plan {
        var a = try ctx.info(0).shape, b = try ctx.info(1).shape
        let aVector = a.count == 1, bVector = b.count == 1
        if aVector { a = [1] + a }
        if bVector { b = b + [1] }
        guard a.count >= 2, b.count >= 2, a[a.count - 1] == b[b.count - 2] else {
            throw EngineError.shapeMismatch("node \(ctx.label): cannot multiply \(try ctx.info(0).shape) by \(try ctx.info(1).shape)")
        }
        let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
        let aBatch = Array(a.dropLast(2)), bBatch = Array(b.dropLast(2))
        guard let batch = Broadcast.shape([aBatch, bBatch]) else {
            throw EngineError.shapeMismatch("node \(ctx.label): batch axes \(aBatch) and \(bBatch) do not broadcast")
        }
        var out = batch
        if !aVector { out.append(m) }
        if !bVector { out.append(n) }
        return Plan(m: m, n: n, k: k, batch: batch,
                    aOffsets: Broadcast.indices(of: aBatch, broadcastTo: batch).map { $0 * m * k },
                    bOffsets: Broadcast.indices(of: bBatch, broadcastTo: batch).map { $0 * k * n }, out: out)
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] { [ValueInfo(shape: try plan(ctx).out)] }

    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int {
        guard let p = try? plan(ctx) else { return 0 }
        return 2 * p.m * p.n * p.k * p.batch.reduce(1, *)
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        MatMulKernel(ctx, plan: try plan(ctx))
    }
}

final class MatMulKernel: BoundKernel, @unchecked Sendable {
    let plan: MatMulOp.Plan

    init(_ ctx: OpContext, plan: MatMulOp.Plan) {
        self.plan = plan
        super.init(ctx)
    }

    override func run(pool: ThreadPool) {
        let a = inputs[0]!, b = inputs[1]!, y = outputs[0], p = plan
        for i in 0..<p.aOffsets.count {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(p.m), Int32(p.n), Int32(p.k), 1,
                        a + p.aOffsets[i], Int32(p.k), b + p.bOffsets[i], Int32(p.n), 0, y + i * p.m * p.n, Int32(p.n))
        }
    }
}
