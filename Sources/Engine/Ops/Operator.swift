/// What an operator sees at load time: its node, its inputs' shapes and any constant values.
struct OpContext {
    let node: Node
    let inputInfos: [ValueInfo?]
    let inputConstants: [ConstTensor?]
    let opset: Int

    var label: String { node.label }
    var attributes: Attributes { node.attributes }

    /// Whether optional input `i` is present.
    func has(_ i: Int) -> Bool { i < inputInfos.count && inputInfos[i] != nil }

    /// Shape of required input `i`.
    func info(_ i: Int) throws -> ValueInfo {
        guard i < inputInfos.count, let info = inputInfos[i] else {
            throw EngineError.invalidModel("node \(label) (\(node.opType)) lacks required input \(i)")
        }
        return info
    }

    /// Constant value of input `i`, if known at load time.
    func constant(_ i: Int) -> ConstTensor? { i < inputConstants.count ? inputConstants[i] : nil }

    /// Constant value of input `i`, which this operator requires to be known at load time.
    func requireConstant(_ i: Int, _ what: String) throws -> ConstTensor {
        guard let c = constant(i) else {
            throw EngineError.invalidModel("node \(label) (\(node.opType)): \(what) must be a constant (computed at load time), but it depends on the input")
        }
        return c
    }

    func int(_ name: String, _ value: Int? = nil) throws -> Int { try attributes.int(name, default: value, node: label) }
    func float(_ name: String, _ value: Float? = nil) throws -> Float { try attributes.float(name, default: value, node: label) }
    func string(_ name: String, _ value: String? = nil) throws -> String { try attributes.string(name, default: value, node: label) }
    func ints(_ name: String, _ value: [Int]? = nil) throws -> [Int] { try attributes.ints(name, default: value, node: label) }

    func fail(_ why: String) -> EngineError {
        .invalidModel("node \(label) (\(node.opType)): \(why)")
    }

    /// Normalises a possibly negative axis against `rank`.
    func axis(_ axis: Int, rank: Int) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < max(rank, 1) else { throw fail("axis \(axis) is out of range for rank \(rank)") }
        return a
    }
}

/// One ONNX operator type (or a family sharing one implementation): shape inference,
/// load-time folding, and the runtime kernel.
protocol Operator {
    /// The ONNX op types this implementation handles.
    static var opTypes: [String] { get }
    /// Output shapes from input shapes (and constant inputs such as target shapes).
    static func inferShapes(_ ctx: OpContext) throws -> [ValueInfo]
    /// Output values when every input is constant; the default runs the kernel once.
    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor]
    /// The prepared runtime kernel (weights packed, tables built).
    static func makeKernel(_ ctx: OpContext, outputs: [ValueInfo]) throws -> BoundKernel
    /// True for pure views (Reshape, Flatten…) whose output shares the input's storage.
    static var isView: Bool { get }
    /// True when the outputs follow from input shapes alone (Shape), so they fold even
    /// when the input's values are unknown.
    static var dependsOnlyOnShapes: Bool { get }
    /// Floating-point operations for one run, for `inspect`.
    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int
}

extension Operator {
    static var isView: Bool { false }
    static var dependsOnlyOnShapes: Bool { false }
    static func flops(_ ctx: OpContext, outputs: [ValueInfo]) -> Int { outputs.reduce(0) { $0 + $1.count } }

    static func fold(_ ctx: OpContext, outputs: [ValueInfo]) throws -> [ConstTensor] {
        guard ctx.inputConstants.allSatisfy({ $0 == nil || $0?.dtype == .float32 }),
              outputs.allSatisfy({ $0.dtype == .float32 }) else {
            throw ctx.fail("cannot be evaluated on integer constants")
        }
        let kernel = try makeKernel(ctx, outputs: outputs)
        let buffers = outputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0.count)) }
        defer { buffers.forEach { $0.deallocate() } }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, kernel.scratchPerThread))
        defer { scratch.deallocate() }
        kernel.bind(inputs: ctx.inputInfos.map { _ in nil }, outputs: buffers, scratch: [scratch])
        kernel.run(pool: ThreadPool(threads: 1))
        return zip(outputs, buffers).map { info, buffer in
            ConstTensor(floats: Array(UnsafeBufferPointer(start: buffer, count: info.count)), shape: info.shape)
        }
    }
}

/// A prepared operator bound to its buffers. Subclasses override `run`; inputs that were
/// constant at load time and not consumed while preparing (e.g. a bias operand of Add) are
/// copied into storage the kernel owns, so `inputs[i]` is always a valid pointer.
class BoundKernel: @unchecked Sendable {
    /// Pointers to input data, by input index (nil only for omitted optional inputs).
    var inputs: [UnsafeMutablePointer<Float>?] = []
    /// Pointers to output buffers, by output index.
    var outputs: [UnsafeMutablePointer<Float>] = []
    /// One scratch area of `scratchPerThread` floats per pool thread.
    var scratch: [UnsafeMutablePointer<Float>] = []
    /// Floats of per-thread scratch this kernel needs while running.
    var scratchPerThread: Int { 0 }

    private var owned: [Int: UnsafeMutablePointer<Float>] = [:]

    /// Keeps copies of constant inputs except those in `consumed`, which the subclass
    /// already turned into its own prepared form.
    init(_ ctx: OpContext, consumed: Set<Int> = []) {
        for (i, c) in ctx.inputConstants.enumerated() {
            guard let c, !consumed.contains(i) else { continue }
            let values = c.floats
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
            for (k, v) in values.enumerated() { (p + k).initialize(to: v) }
            owned[i] = p
        }
    }

    deinit { owned.values.forEach { $0.deallocate() } }

    /// Called once after memory planning; constant inputs arrive as nil.
    func bind(inputs: [UnsafeMutablePointer<Float>?], outputs: [UnsafeMutablePointer<Float>],
              scratch: [UnsafeMutablePointer<Float>]) {
        self.inputs = inputs.enumerated().map { i, p in p ?? owned[i] }
        self.outputs = outputs
        self.scratch = scratch
    }

    /// Computes the outputs from the inputs; called once per frame.
    func run(pool: ThreadPool) {}
}
