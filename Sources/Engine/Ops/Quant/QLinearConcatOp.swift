import CKernels

/// com.microsoft QLinearConcat: inputs (Y scale, Y zero point, then X, X scale, X zero point per
/// input); each input is requantised to the output's encoding (a copy when they agree).
enum QLinearConcatOp: Operator {
    static let opTypes = ["QLinearConcat"]

    static func parts(_ ctx: OpContext) throws -> Int {
        let n = ctx.node.inputs.count - 2
        guard n >= 3, n % 3 == 0 else { throw ctx.fail("needs 2 + 3·N inputs, got \(ctx.node.inputs.count)") }
        return n / 3
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let first = try ctx.quantizedInput(2, "input 0")
        let axis = try ctx.axis(try ctx.int("axis"), rank: first.shape.count)
        var shape = first.shape
        shape[axis] = 0
        for i in 0..<(try parts(ctx)) {
            let x = try ctx.quantizedInput(2 + 3 * i, "input \(i)")
            guard x.shape.count == first.shape.count,
                  x.shape.indices.allSatisfy({ $0 == axis || x.shape[$0] == first.shape[$0] }) else {
                throw EngineError.shapeMismatch("node \(ctx.label): input \(i) \(x.shape) does not fit \(first.shape) along axis \(axis)")
            }
            shape[axis] += x.shape[axis]
        }
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 1, "output")
        return [ValueInfo(shape: shape, dtype: signed ? .int8 : .uint8)]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let y = try QuantParams.read(ctx, scale: 0, zero: 1, "output")
        let out = outputs[0].shape
        let axis = try ctx.axis(try ctx.int("axis"), rank: out.count)
        let outer = out[..<axis].reduce(1, *), inner = out[(axis + 1)...].reduce(1, *)
        var pieces: [QConcatKernel.Piece] = []
        var offset = 0
        for i in 0..<(try parts(ctx)) {
            let x = try ctx.info(2 + 3 * i)
            let p = try QuantParams.read(ctx, scale: 3 + 3 * i, zero: 4 + 3 * i, "input \(i)")
            try ctx.checkEncoding(x, p, "input \(i)")
            let run = x.shape[axis] * inner
            pieces.append(.init(input: 2 + 3 * i, params: p.c, run: run, offset: offset))
            offset += run
        }
        let consumed = Set([0, 1] + pieces.flatMap { [$0.input + 1, $0.input + 2] })
        return QConcatKernel(ctx, pieces: pieces, output: y.c, outer: outer, stride: offset, consumed: consumed)
    }
}

final class QConcatKernel: BoundKernel, @unchecked Sendable {
    struct Piece { let input: Int; let params: ck_qparams; let run: Int; let offset: Int }
    let pieces: [Piece]
    let output: ck_qparams
    let outer: Int, stride: Int

    init(_ ctx: OpContext, pieces: [Piece], output: ck_qparams, outer: Int, stride: Int, consumed: Set<Int>) {
        (self.pieces, self.output, self.outer, self.stride) = (pieces, output, outer, stride)
        super.init(ctx, consumed: consumed)
    }

    override func run(pool: ThreadPool) {
        let y = bytes(outputs[0])
        for piece in pieces {
            let x = bytes(inputs[piece.input]!)
            for o in 0..<outer {
                ck_qrequantize(x + o * piece.run, piece.params, y + o * stride + piece.offset, output, piece.run)
            }
        }
    }
}
