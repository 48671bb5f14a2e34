import CKernels
import COpenBLAS
import Foundation

/// A loaded, optimised and planned ONNX model ready to run frame after frame. All memory
/// is allocated here, at load time; `run()` allocates nothing.
public final class InferenceSession: @unchecked Sendable {
    /// Load-time settings.
    public struct Options: Sendable {
        /// Threads that share each layer, the caller's included.
        public var threads: Int = 1
        /// Shapes for inputs whose ONNX declaration leaves dimensions open (by input name).
        public var inputShapes: [String: [Int]] = [:]
        /// Shape for the first input, whatever its name (what a .npy file provides).
        public var firstInputShape: [Int]? = nil
        /// Records the time of every node, for `profile()`; costs a clock read per node.
        public var profile: Bool = false
        /// Intermediate values to expose as extra outputs after the model's own (calibration,
        /// layer-by-layer comparison); they are kept out of fusion, so the graph runs slower.
        public var keepValues: [String] = []

        public init(threads: Int = 1, inputShapes: [String: [Int]] = [:], firstInputShape: [Int]? = nil,
                    profile: Bool = false, keepValues: [String] = []) {
            self.keepValues = keepValues
            self.threads = threads
            self.inputShapes = inputShapes
            self.firstInputShape = firstInputShape
            self.profile = profile
        }
    }

    /// A graph input or output.
    public struct Port: Sendable {
        public let name: String
        public let info: ValueInfo
    }

    public let inputs: [Port]
    public let outputs: [Port]
    /// Bytes of the activation arena (all intermediate tensors, reused by lifetime).
    public let arenaBytes: Int
    /// Bytes of weights and other constants the kernels hold.
    public let weightBytes: Int
    /// Seconds spent loading, optimising and planning.
    public let loadSeconds: Double
    /// What the model looked like before and after optimisation.
    public let statistics: ModelStatistics

    private let pool: ThreadPool
    private let kernels: [BoundKernel]
    private let nodeLabels: [String]
    private let nodeTypes: [String]
    private let arena: UnsafeMutablePointer<Float>
    private let scratch: UnsafeMutablePointer<Float>
    private let inputPointers: [UnsafeMutablePointer<Float>]
    private let outputPointers: [UnsafeMutablePointer<Float>]
    private var constantOutputs: [UnsafeMutablePointer<Float>] = []
    private let profiling: Bool
    private var nodeNanos: [UInt64]
    private var runs = 0

    /// Loads the model at `path`.
    public convenience init(path: String, options: Options = Options()) throws {
        let start = DispatchTime.now()
        let (graph, declared) = try ONNXImporter.load(path: path)
        try self.init(graph: graph, declared: declared, options: options, start: start)
    }

    /// Loads a model from bytes (external data is not available this way).
    public convenience init(data: Data, options: Options = Options()) throws {
        let start = DispatchTime.now()
        let (graph, declared) = try ONNXImporter.load(data: data, baseDirectory: nil)
        try self.init(graph: graph, declared: declared, options: options, start: start)
    }

    /// Builds a session from a graph the importer already read (for `ModelReport`); `start`
    /// is when reading began, so the load time includes it.
    convenience init(imported: Graph, declared: [String: [Int?]], options: Options, start: DispatchTime) throws {
        try self.init(graph: imported, declared: declared, options: options, start: start)
    }

    private init(graph imported: Graph, declared: [String: [Int?]], options: Options, start: DispatchTime) throws {
        // OpenBLAS must not start threads of its own: the pool is the only parallelism.
        openblas_set_num_threads(1)
        var graph = imported
        var shapes: [String: [Int]] = [:]
        for (index, name) in graph.inputs.enumerated() {
            let dims = declared[name] ?? []
            if let given = options.inputShapes[name] ?? (index == 0 ? options.firstInputShape : nil) {
                guard given.count == dims.count, given.allSatisfy({ $0 > 0 }),
                      zip(given, dims).allSatisfy({ $1 == nil || $0 == $1! }) else {
                    throw EngineError.wrongInput("input \(name) has shape \(dims.map { $0.map(String.init) ?? "?" }.joined(separator: "x")); the given \(given.map(String.init).joined(separator: "x")) does not fit")
                }
                shapes[name] = given
            } else if dims.allSatisfy({ $0 != nil }) {
                shapes[name] = dims.map { $0! }
            } else {
                throw EngineError.wrongInput("input \(name) has open dimensions \(dims.map { $0.map(String.init) ?? "?" }.joined(separator: "x")); give its shape (--input-shape)")
            }
        }
        let originalHistogram = Dictionary(graph.nodes.map { ($0.opType, 1) }, uniquingKeysWith: +)
        let parameters = graph.constants.values.reduce(0) { $0 + $1.count }
        let known = Set(graph.nodes.flatMap(\.outputs)).union(graph.inputs)
        if let missing = options.keepValues.first(where: { !known.contains($0) }) {
            throw EngineError.invalidModel("no value named \(missing) in the model")
        }
        graph.outputs += options.keepValues.filter { !graph.outputs.contains($0) }
        try QDQFusion.run(&graph, inputShapes: shapes)
        try ShapeInference.run(&graph, inputShapes: shapes)
        try GraphRewrites.run(&graph)
        for name in graph.inputs + graph.outputs where graph.infos[name]?.dtype.isQuantized == true {
            throw EngineError.invalidModel("\(graph.inputs.contains(name) ? "input" : "output") \(name) is \(graph.infos[name]!.dtype.rawValue); moeseg's model inputs and outputs are float (quantize and dequantize inside the model)")
        }

        let threads = max(1, options.threads)
        pool = ThreadPool(threads: threads)
        var kernels: [BoundKernel] = []
        var flops = 0
        var viewFlags: [Bool] = []
        let weightBytes = graph.constants.values.reduce(0) { $0 + $1.count * ($1.dtype.isQuantized ? 1 : 4) }
        // Each constant is released as soon as the last kernel that reads it has taken its
        // own (packed) copy, so weights never exist twice over the whole model.
        var lastUse: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where graph.constants[input] != nil { lastUse[input] = i }
        }
        for name in graph.outputs { lastUse[name] = nil }
        let constantNames = Set(graph.constants.keys)
        for (index, node) in graph.nodes.enumerated() {
            let op = OperatorRegistry.lookup(node.opType)!
            let ctx = ShapeInference.context(for: node, in: graph)
            let outs = node.outputs.map { graph.infos[$0] ?? ValueInfo(shape: [0]) }
            let handlesQuantized = OperatorRegistry.quantizedTypes.contains(node.opType) || op.isView
            if !handlesQuantized, let i = node.inputs.indices.first(where: { ctx.inputInfos[$0]?.dtype.isQuantized == true && ctx.inputConstants[$0] == nil }) {
                throw EngineError.invalidModel("node \(node.label) (\(node.opType)) reads the \(ctx.inputInfos[i]!.dtype.rawValue) tensor \(node.inputs[i]); it needs float input (a DequantizeLinear before it)")
            }
            if node.opType != "Cast", let bad = outs.first(where: { $0.dtype != .float32 && !($0.dtype.isQuantized && handlesQuantized) }) {
                throw EngineError.invalidModel("node \(node.label) (\(node.opType)) computes a \(bad.dtype.rawValue) tensor from the input at run time; only float32 run-time tensors (and Cast between float and integer values) are supported")
            }
            kernels.append(try op.makeKernel(ctx, outputs: outs))
            flops += op.flops(ctx, outputs: outs)
            viewFlags.append(op.isView)
            for input in node.inputs where lastUse[input] == index { graph.constants[input] = nil }
        }
        let plan = MemoryPlan.make(nodes: graph.nodes, inputs: graph.inputs, outputs: graph.outputs,
                                   infos: graph.infos, constants: constantNames, isView: { viewFlags[$0] })
        let arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.arenaFloats, 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(plan.arenaFloats, 16))
        arena.initialize(repeating: 0, count: max(plan.arenaFloats, 1))
        self.arena = arena
        // Per-thread scratch areas start on 64-byte boundaries (the packed GEMM wants them).
        let scratchPerThread = ((kernels.map(\.scratchPerThread).max() ?? 0) + 15) / 16 * 16
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, scratchPerThread * threads * 4), alignment: 64)
            .bindMemory(to: Float.self, capacity: max(16, scratchPerThread * threads))
        self.scratch = scratch
        let scratches = (0..<threads).map { scratch + $0 * scratchPerThread }
        func pointer(_ name: String) -> UnsafeMutablePointer<Float>? {
            plan.offsets[name].map { arena + $0 }
        }
        for (node, kernel) in zip(graph.nodes, kernels) {
            kernel.bind(inputs: node.inputs.map { $0.isEmpty || constantNames.contains($0) ? nil : pointer($0) },
                        outputs: node.outputs.map { pointer($0) ?? arena }, scratch: scratches)
        }
        let infos = graph.infos
        inputs = graph.inputs.map { Port(name: $0, info: infos[$0]!) }
        inputPointers = graph.inputs.map { pointer($0)! }
        var outs: [UnsafeMutablePointer<Float>] = []
        var owned: [UnsafeMutablePointer<Float>] = []
        for name in graph.outputs {
            if let c = graph.constants[name] {
                // A graph output that does not depend on the input: computed once, here.
                let values = c.floats
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
                for (i, v) in values.enumerated() { p[i] = v }
                owned.append(p)
                outs.append(p)
            } else {
                outs.append(pointer(name)!)
            }
        }
        constantOutputs = owned
        outputPointers = outs
        outputs = graph.outputs.map { Port(name: $0, info: infos[$0]!) }
        self.kernels = kernels
        nodeLabels = graph.nodes.map(\.label)
        nodeTypes = graph.nodes.map(\.opType)
        profiling = options.profile
        nodeNanos = [UInt64](repeating: 0, count: kernels.count)
        arenaBytes = plan.arenaFloats * 4
        self.weightBytes = weightBytes
        statistics = ModelStatistics(
            originalOpHistogram: originalHistogram,
            optimisedOpHistogram: Dictionary(graph.nodes.map { ($0.opType, 1) }, uniquingKeysWith: +),
            parameterCount: parameters, flops: flops, scratchBytes: scratchPerThread * threads * 4)
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        // Loading freed the protobuf and unfolded weights; give that memory back now rather
        // than carrying it as resident set for the daemon's lifetime.
        ck_release_free_memory()
    }

    deinit {
        arena.deallocate()
        scratch.deallocate()
        constantOutputs.forEach { $0.deallocate() }
    }

    /// Threads sharing each layer.
    public var threads: Int { pool.threads }

    /// Where to write input `index` before `run()` (its declared shape, C order). The buffer
    /// is part of the arena: write the input again before every run.
    public func inputBuffer(_ index: Int = 0) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: inputPointers[index], count: inputs[index].info.count)
    }

    /// Output `index` of the last `run()`, valid until the next one.
    public func outputBuffer(_ index: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: outputPointers[index], count: outputs[index].info.count)
    }

    /// Runs the model on what the input buffers hold. Allocation-free.
    public func run() {
        if profiling {
            for (i, kernel) in kernels.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                kernel.run(pool: pool)
                nodeNanos[i] &+= DispatchTime.now().uptimeNanoseconds - t0
            }
        } else {
            for kernel in kernels { kernel.run(pool: pool) }
        }
        runs += 1
    }

    /// Convenience: copies `values` into input 0, runs, and returns copies of all outputs.
    public func run(_ values: [Float]) throws -> [[Float]] {
        let buffer = inputBuffer(0)
        guard values.count == buffer.count else {
            throw EngineError.wrongInput("input \(inputs[0].name) needs \(buffer.count) values (\(inputs[0].info)), got \(values.count)")
        }
        _ = buffer.update(fromContentsOf: values)
        run()
        return outputs.indices.map { Array(outputBuffer($0)) }
    }

    /// Time per op type over all profiled runs, slowest first.
    public func profile() -> [ProfileEntry] {
        var byType: [String: (UInt64, Int)] = [:]
        for (i, t) in nodeNanos.enumerated() {
            byType[nodeTypes[i], default: (0, 0)].0 += t
            byType[nodeTypes[i], default: (0, 0)].1 += 1
        }
        let total = max(1, nodeNanos.reduce(0, +))
        return byType.map { type, v in
            ProfileEntry(opType: type, nodes: v.1, milliseconds: Double(v.0) / 1e6 / Double(max(runs, 1)),
                         share: Double(v.0) / Double(total))
        }.sorted { $0.milliseconds > $1.milliseconds }
    }

    /// The slowest individual nodes over all profiled runs.
    public func slowestNodes(_ count: Int) -> [(label: String, opType: String, milliseconds: Double)] {
        nodeNanos.indices.sorted { nodeNanos[$0] > nodeNanos[$1] }.prefix(count).map {
            (nodeLabels[$0], nodeTypes[$0], Double(nodeNanos[$0]) / 1e6 / Double(max(runs, 1)))
        }
    }
}

/// Per-op-type share of a profiled run.
public struct ProfileEntry: Sendable {
    public let opType: String
    public let nodes: Int
    public let milliseconds: Double
    public let share: Double
}

/// Static facts about a loaded model.
public struct ModelStatistics: Sendable {
    /// Op types of the ONNX graph as written.
    public let originalOpHistogram: [String: Int]
    /// Op types left to run after folding and fusion.
    public let optimisedOpHistogram: [String: Int]
    public let parameterCount: Int
    /// Floating-point operations per run (multiply-add = 2).
    public let flops: Int
    public let scratchBytes: Int
}
