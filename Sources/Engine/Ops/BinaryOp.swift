import CKernels

/// Add, Sub, Mul, Div with numpy broadcasting. Integer tensors (shape arithmetic) are folded
/// at load time; float tensors run with fast paths for equal shapes, scalars and
/// per-channel operands, and a general strided loop otherwise.
enum BinaryOp: Operator {
    static let opTypes = ["Add", "Sub", "Mul", "Div"]

    static func kind(_ opType: String) -> Int32 {
        switch opType {
        case "Add": Int32(CK_ADD.rawValue)
        case "Sub": Int32(CK_SUB.rawValue)
        case "Mul": Int32(CK_MUL.rawValue)
        default: Int32(CK_DIV.rawValue)
        }
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let a = try ctx.info(0), b = try ctx.info(1)
        guard let shape = Broadcast.shape([a.shape, b.shape]) else {
            throw ctx.fail("cannot broadcast \(a.shape) with \(b.shape)")
        }
        return [ValueInfo(shape: shape, dtype: a.dtype == .float32 || b.dtype == .float32 ? .float32 : a.dtype)]
    }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        let a = try ctx.requireConstant(0, "A"), b = try ctx.requireConstant(1, "B")
        let op = ctx.node.opType
        return [try Broadcast.evaluate([a, b], ints: { v in
            switch op {
            case "Add": v[0] &+ v[1]
            case "Sub": v[0] &- v[1]
            case "Mul": v[0] &* v[1]
            default: v[1] == 0 ? 0 : v[0] / v[1]
            }
        }, floats: { v in
            switch op {
            case "Add": v[0] + v[1]
            case "Sub": v[0] - v[1]
            case "Mul": v[0] * v[1]
            default: v[0] / v[1]
            }
        })]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        let a = try ctx.info(0), b = try ctx.info(1)
        guard a.dtype == .float32, b.dtype == .float32 else {
            throw ctx.fail("integer arithmetic on run-time values is not supported")
        }
        return BinaryKernel(ctx, kind: kind(ctx.node.opType), a: a.shape, b: b.shape, out: outputs[0].shape)
    }
}

final class BinaryKernel: BoundKernel, @unchecked Sendable {
    enum Plan {
        case same(Int)
        case scalar(count: Int, scalarIsA: Bool)
        /// The small operand holds one value per channel of [outer, channels, inner].
        case perChannel(outer: Int, channels: Int, inner: Int, smallIsA: Bool)
        case general(aIndex: [Int32], bIndex: [Int32])
    }

    let kind: Int32
    let plan: Plan

    init(_ ctx: OpContext, kind: Int32, a: [Int], b: [Int], out: [Int]) {
        self.kind = kind
        let na = a.reduce(1, *), nb = b.reduce(1, *), n = out.reduce(1, *)
        if na == n && nb == n {
            plan = .same(n)
        } else if nb == 1 && na == n {
            plan = .scalar(count: n, scalarIsA: false)
        } else if na == 1 && nb == n {
            plan = .scalar(count: n, scalarIsA: true)
        } else if let p = BinaryKernel.channelPlan(big: na == n ? a : b, small: na == n ? b : a, out: out, smallIsA: na != n) {
            plan = p
        } else {
            plan = .general(aIndex: Broadcast.indices(of: a, broadcastTo: out).map { Int32($0) },
                            bIndex: Broadcast.indices(of: b, broadcastTo: out).map { Int32($0) })
        }
        super.init(ctx)
    }

    /// Recognises a small operand that varies along exactly one contiguous run of axes.
    static func channelPlan(big: [Int], small: [Int], out: [Int], smallIsA: Bool) -> Plan? {
        guard big == out else { return nil }
        let padded = [Int](repeating: 1, count: out.count - small.count) + small
        let varying = padded.indices.filter { padded[$0] != 1 }
        guard let first = varying.first, let last = varying.last,
              (first...last).allSatisfy({ padded[$0] == out[$0] }) else { return nil }
        let outer = out[..<first].reduce(1, *), channels = out[first...last].reduce(1, *)
        let inner = out[(last + 1)...].reduce(1, *)
        return .perChannel(outer: outer, channels: channels, inner: inner, smallIsA: smallIsA)
    }

    override func run(pool: ThreadPool) {
        let a = inputs[0]!, b = inputs[1]!, y = outputs[0], kind = kind
        switch plan {
        case .same(let n):
            pool.split(n) { r in ck_binary_same(a + r.lowerBound, b + r.lowerBound, y + r.lowerBound, r.count, kind) }
        case .scalar(let n, let scalarIsA):
            let big = scalarIsA ? b : a, s = scalarIsA ? a[0] : b[0]
            pool.split(n) { r in ck_binary_scalar(big + r.lowerBound, s, y + r.lowerBound, r.count, kind, scalarIsA ? 1 : 0) }
        case .perChannel(let outer, let channels, let inner, let smallIsA):
            let big = smallIsA ? b : a, small = smallIsA ? a : b
            pool.split(outer * channels, cost: inner) { r in
                for row in r {
                    let base = row * inner
                    ck_binary_scalar(big + base, small[row % channels], y + base, inner, kind, smallIsA ? 1 : 0)
                }
            }
        case .general(let ai, let bi):
            ai.withUnsafeBufferPointer { ai in
                bi.withUnsafeBufferPointer { bi in
                    for i in 0..<ai.count {
                        let x = a[Int(ai[i])], z = b[Int(bi[i])]
                        switch kind {
                        case 0: y[i] = x + z
                        case 1: y[i] = x - z
                        case 2: y[i] = x * z
                        default: y[i] = x / z
                        }
                    }
                }
            }
        }
    }
}
