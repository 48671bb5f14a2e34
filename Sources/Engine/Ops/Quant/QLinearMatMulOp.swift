/// ONNX QLinearMatMul with a constant 2-D right-hand side (a quantized head's weights):
/// y = requantised Σ_k (a - za)(b - zb), exact in int32, per-tensor or per-column b scales.
enum QLinearMatMulOp: Operator {
    static let opTypes = ["QLinearMatMul"]

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let a = try ctx.quantizedInput(0, "input A"), b = try ctx.info(3)
        guard a.shape.count >= 1, b.shape.count == 2, a.shape.last == b.shape[0] else {
            throw EngineError.shapeMismatch("node \(ctx.label): QLinearMatMul of \(a.shape) by \(b.shape) (B must be 2-D)")
        }
        let (_, signed) = try QuantParams.readZeroPoints(ctx, 7, "output")
        return [ValueInfo(shape: a.shape.dropLast() + [b.shape[1]], dtype: signed ? .int8 : .uint8)]
    }

    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int {
        guard let b = try? ctx.info(3) else { return 0 }
        return 2 * outputs[0].count * b.shape[0]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let aq = try QuantParams.read(ctx, scale: 1, zero: 2, "input A")
        try ctx.checkEncoding(try ctx.info(0), aq, "input A")
        let yq = try QuantParams.read(ctx, scale: 6, zero: 7, "output")
        let b = try ctx.requireConstant(3, "input B")
        let (k, n) = (b.shape[0], b.shape[1])
        let bScales = try QuantParams.readScales(ctx, 4, "input B")
        let (bZeros, _) = try QuantParams.readZeroPoints(ctx, 5, "input B")
        guard bScales.count == 1 || bScales.count == n, bZeros.count == 1 || bZeros.count == n else {
            throw ctx.fail("input B scale/zero point must have 1 or \(n) values")
        }
        let raw = b.ints
        // Stored transposed (n rows of k) with zero points removed, so each output is one dot product.
        var weights = [Int32](repeating: 0, count: k * n)
        for kk in 0..<k {
            for j in 0..<n { weights[j * k + kk] = Int32(raw[kk * n + j]) - bZeros[bZeros.count == 1 ? 0 : j] }
        }
        let scales = (0..<n).map { aq.scale * bScales[bScales.count == 1 ? 0 : $0] / yq.scale }
        return QMatMulKernel(ctx, weights: weights, scales: scales, input: aq, output: yq,
                             rows: outputs[0].count / n, k: k, n: n)
    }
}

final class QMatMulKernel: BoundKernel, @unchecked Sendable {
    let weights: [Int32], scales: [Float]
    let input: QuantParams, output: QuantParams
    let rows: Int, k: Int, n: Int
    /// The output encoding with scale 1: rounds an already scaled accumulator and adds the zero point.
    let rounding: QuantParams

    init(_ ctx: OpContext, weights: [Int32], scales: [Float], input: QuantParams, output: QuantParams,
         rows: Int, k: Int, n: Int) {
        (self.weights, self.scales, self.input, self.output) = (weights, scales, input, output)
        (self.rows, self.k, self.n) = (rows, k, n)
        rounding = QuantParams(scale: 1, zeroPoint: output.zeroPoint, isSigned: output.isSigned)
        super.init(ctx, consumed: [1, 2, 3, 4, 5, 6, 7])
    }

    override func run(pool: ThreadPool) {
        let x = bytes(inputs[0]!), y = bytes(outputs[0])
        for r in 0..<rows {
            for j in 0..<n {
                var acc: Int32 = 0
                for kk in 0..<k {
                    let v = input.isSigned ? Int32(x.load(fromByteOffset: r * k + kk, as: Int8.self))
                        : Int32(x.load(fromByteOffset: r * k + kk, as: UInt8.self))
                    acc &+= (v - input.zeroPoint) * weights[j * k + kk]
                }
                let q = rounding.quantize(Float(acc) * scales[j])
                if output.isSigned { y.storeBytes(of: Int8(q), toByteOffset: r * n + j, as: Int8.self) }
                else { y.storeBytes(of: UInt8(q), toByteOffset: r * n + j, as: UInt8.self) }
            }
        }
    }
}
