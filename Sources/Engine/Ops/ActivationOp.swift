import CKernels

/// An activation as the C kernels understand it.
struct ActivationSpec: Equatable {
    var kind: ck_act_kind
    var a: Float = 0
    var b: Float = 0

    static let none = ActivationSpec(kind: CK_ACT_NONE)
    var c: ck_activation { ck_activation(kind: Int32(kind.rawValue), a: a, b: b) }
}

/// Relu, Clip, HardSwish, HardSigmoid, Sigmoid, LeakyRelu: one element-wise kernel.
enum ActivationOp: Operator {
    static let opTypes = ["Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "LeakyRelu"]

    /// The activation a node computes; nil for other op types. Clip bounds must be constant.
    static func spec(for ctx: OpContext) throws -> ActivationSpec? {
        switch ctx.node.opType {
        case "Relu": return ActivationSpec(kind: CK_ACT_RELU)
        case "HardSwish": return ActivationSpec(kind: CK_ACT_HARDSWISH)
        case "Sigmoid": return ActivationSpec(kind: CK_ACT_SIGMOID)
        case "HardSigmoid":
            return ActivationSpec(kind: CK_ACT_HARDSIGMOID, a: try ctx.float("alpha", 0.2), b: try ctx.float("beta", 0.5))
        case "LeakyRelu":
            return ActivationSpec(kind: CK_ACT_LEAKYRELU, a: try ctx.float("alpha", 0.01))
        case "Clip":
            var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
            if ctx.opset < 11 {
                lo = try ctx.float("min", lo)
                hi = try ctx.float("max", hi)
            } else {
                if ctx.has(1) { lo = try ctx.requireConstant(1, "Clip min").floats.first ?? lo }
                if ctx.has(2) { hi = try ctx.requireConstant(2, "Clip max").floats.first ?? hi }
            }
            return ActivationSpec(kind: CK_ACT_CLIP, a: lo, b: hi)
        default:
            return nil
        }
    }

    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo] {
        let x = try ctx.info(0)
        guard x.dtype == .float32 else { throw ctx.fail("needs a float input") }
        return [x]
    }

    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel {
        guard let spec = try spec(for: ctx) else { throw ctx.fail("not an activation") }
        return ActivationKernel(ctx, spec: spec, count: outputs[0].count)
    }
}

final class ActivationKernel: BoundKernel, @unchecked Sendable {
    let spec: ActivationSpec
    let count: Int

    init(_ ctx: OpContext, spec: ActivationSpec, count: Int) {
        self.spec = spec
        self.count = count
        super.init(ctx, consumed: [1, 2])
    }

    override func run(pool: ThreadPool) {
        let x = inputs[0]!, y = outputs[0], act = spec.c
        pool.split(count, cost: 4) { r in
            ck_activation_apply(x + r.lowerBound, y + r.lowerBound, r.count, act)
        }
    }
}
