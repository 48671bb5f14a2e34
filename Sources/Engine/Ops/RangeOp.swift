/// Range with constant start, limit and delta.
enum RangeOp: Operator {
    static let opTypes = ["Range"]

    static func values(_ ctx: OpContext) throws -> ConstTensor {
        let start = try ctx.requireConstant(0, "start"), limit = try ctx.requireConstant(1, "limit")
        let delta = try ctx.requireConstant(2, "delta")
        if start.dtype == .float32 {
            let s = start.floats[0], l = limit.floats[0], d = delta.floats[0]
            guard d != 0 else { throw ctx.fail("delta 0") }
            let n = max(0, Int(((l - s) / d).rounded(.up)))
            guard n <= 1 << 24 else { throw ctx.fail("range too long") }
            return ConstTensor(floats: (0..<n).map { s + Float($0) * d }, shape: [n])
        }
        let s = start.ints[0], l = limit.ints[0], d = delta.ints[0]
        guard d != 0 else { throw ctx.fail("delta 0") }
        let steps = ((Double(l) - Double(s)) / Double(d)).rounded(.up)
        guard steps < Double(1 << 24) else { throw ctx.fail("range too long") }
        let n = max(0, Int(steps))
        guard n <= 1 << 24 else { throw ctx.fail("range too long") }
        return ConstTensor(ints: (0..<n).map { s + Int64($0) * d }, shape: [n])
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] { [try values(ctx).info] }
    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] { [try values(ctx)] }
    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel { throw ctx.fail("needs constant inputs") }
}
