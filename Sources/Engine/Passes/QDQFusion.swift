/// Turns the QDQ form onnxruntime's `quantize_static` writes into integer operators, before
/// shape inference folds the weights' DequantizeLinear into floats:
///   DQ(x), DQ(W), DQ(b) → Conv (→ Relu/Clip) → Q   becomes QLinearConv (clamp narrowed by the activation)
///   DQ(a), DQ(b) → Add → Q                          becomes QLinearAdd (same shapes only)
///   DQ(x₁…xₙ) → Concat → Q                          becomes QLinearConcat
///   DQ(x) → GlobalAveragePool → Q                   becomes QLinearGlobalAveragePool
///   DQ(x) → Resize → Q, one encoding                 becomes Resize of the 8-bit tensor (same arithmetic)
///   DQ(x) → MaxPool → Q, one encoding                becomes MaxPool of the 8-bit tensor (exact)
///   8-bit Resize → DQ                               becomes one Resize writing the dequantized floats
/// as onnxruntime's own QDQ transformer does, so both engines round at the same places. What no
/// pattern matches (HardSwish, Sigmoid, Softmax, a float gate…) runs in float between its DQ and Q.
enum QDQFusion {
    /// The encoding of a fused DQ → Resize → Q (private attributes read by ResizeOp).
    static let resizeScale = "_q_scale", resizeZero = "_q_zero"
    /// The encoding of a DequantizeLinear fused into the 8-bit Resize before it (float output).
    static let outputScale = "_dq_scale", outputZero = "_dq_zero"

    /// Rewrites `graph` in place; `inputShapes` are the fixed input shapes, used to check shapes.
    static func run(_ graph: inout Graph, inputShapes: [String: [Int]]) throws {
        guard graph.nodes.contains(where: { $0.opType == "DequantizeLinear" }) else { return }
        // Shapes decide whether an Add may be fused; infer them on a throwaway copy.
        var probe = graph
        try ShapeInference.run(&probe, inputShapes: inputShapes)
        var fusion = Fusion(graph: graph, infos: probe.infos)
        fusion.fuseAll()
        graph = fusion.graph
        removeDeadNodes(&graph)
        var outputs = Fusion(graph: graph, infos: probe.infos)
        outputs.fuseResizeDequantizeAll()
        graph = outputs.graph
        removeDeadNodes(&graph)
    }

    /// Drops nodes whose outputs nothing reads (the DequantizeLinear nodes fusion bypassed).
    static func removeDeadNodes(_ graph: inout Graph) {
        var used = Set(graph.outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() {
            guard node.outputs.contains(where: { used.contains($0) }) else { continue }
            used.formUnion(node.inputs)
            kept.append(node)
        }
        graph.nodes = kept.reversed()
    }

    private struct Fusion {
        var graph: Graph
        let infos: [String: ValueInfo]
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        var removed = Set<Int>()

        init(graph: Graph, infos: [String: ValueInfo]) {
            self.graph = graph
            self.infos = infos
            for (i, node) in graph.nodes.enumerated() { for o in node.outputs where !o.isEmpty { producer[o] = i } }
            consumers = graph.consumers()
        }

        /// A per-tensor DequantizeLinear producing `value` from a run-time tensor: its (q, scale, zero point) names.
        func activationDQ(_ value: String) -> (q: String, scale: String, zero: String)? {
            guard let i = producer[value], !removed.contains(i) else { return nil }
            let n = graph.nodes[i]
            guard n.opType == "DequantizeLinear", graph.constants[n.inputs[0]] == nil,
                  n.inputs.count >= 2, graph.constants[n.inputs[1]]?.count == 1 else { return nil }
            let zero = n.inputs.count > 2 ? n.inputs[2] : ""
            guard zero.isEmpty || graph.constants[zero]?.count == 1 else { return nil }
            return (n.inputs[0], n.inputs[1], zero)
        }

        /// A DequantizeLinear of a constant: its (q, scale, zero point) names.
        func constantDQ(_ value: String) -> (q: String, scale: String, zero: String)? {
            guard let i = producer[value] else { return nil }
            let n = graph.nodes[i]
            guard n.opType == "DequantizeLinear", graph.constants[n.inputs[0]] != nil, n.inputs.count >= 2,
                  graph.constants[n.inputs[1]] != nil else { return nil }
            return (n.inputs[0], n.inputs[1], n.inputs.count > 2 ? n.inputs[2] : "")
        }

        /// The only reader of `value` when it is not a graph output.
        func soleConsumer(_ value: String) -> Int? {
            guard !graph.outputs.contains(value), let users = consumers[value], users.count == 1,
                  !removed.contains(users[0]) else { return nil }
            return users[0]
        }

        /// The per-tensor QuantizeLinear that alone reads `value`: its index and (scale, zero point).
        func soleQuantize(_ value: String) -> (index: Int, scale: String, zero: String)? {
            guard let qi = soleConsumer(value) else { return nil }
            let q = graph.nodes[qi]
            guard q.opType == "QuantizeLinear", q.inputs.count >= 2, graph.constants[q.inputs[1]]?.count == 1 else { return nil }
            let zero = q.inputs.count > 2 ? q.inputs[2] : ""
            guard zero.isEmpty || graph.constants[zero]?.count == 1 else { return nil }
            return (qi, q.inputs[1], zero)
        }

        mutating func fuseAll() {
            for i in graph.nodes.indices where !removed.contains(i) {
                switch graph.nodes[i].opType {
                case "Conv": fuseConv(i)
                case "Add": fuseAdd(i)
                case "Concat": fuseConcat(i)
                case "GlobalAveragePool": fuseGlobalAveragePool(i)
                case "Resize": fuseResize(i)
                case "MaxPool": fuseMaxPool(i)
                default: break
                }
            }
            graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }

        /// A Resize on codes whose result is dequantized at once (the logits at the end of a
        /// segmentation net) writes the floats itself: one pass over the biggest tensor, not two.
        /// Runs on the already fused graph, whose consumers are what it must count.
        mutating func fuseResizeDequantizeAll() {
            for i in graph.nodes.indices where graph.nodes[i].opType == "Resize" { fuseResizeDequantize(i) }
            graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }

        mutating func fuseResizeDequantize(_ i: Int) {
            let resize = graph.nodes[i]
            guard infos[resize.inputs[0]]?.dtype.isQuantized == true || producer[resize.inputs[0]].map({ graph.nodes[$0].opType == "QuantizeLinear" }) == true,
                  let out = resize.outputs.first, let di = soleConsumer(out) else { return }
            let dq = graph.nodes[di]
            guard dq.opType == "DequantizeLinear", dq.inputs.count >= 2, let scale = graph.constants[dq.inputs[1]]?.floats,
                  scale.count == 1 else { return }
            let zero = dq.inputs.count > 2 && !dq.inputs[2].isEmpty ? graph.constants[dq.inputs[2]]?.ints : [0]
            guard let zero, zero.count == 1 else { return }
            var fused = resize
            fused.attributes.values[QDQFusion.outputScale] = .float(scale[0])
            fused.attributes.values[QDQFusion.outputZero] = .int(Int(zero[0]))
            fused.outputs = dq.outputs
            replace(i, with: fused, removing: [di])
        }

        /// Replaces node `i` by `node` and drops the nodes in `also` (the fused activation and Q).
        mutating func replace(_ i: Int, with node: Node, removing also: [Int]) {
            graph.nodes[i] = node
            removed.formUnion(also)
        }

        mutating func fuseConv(_ i: Int) {
            let conv = graph.nodes[i]
            guard conv.inputs.count >= 2, let x = activationDQ(conv.inputs[0]), let w = constantDQ(conv.inputs[1]),
                  let wq = graph.constants[w.q], wq.dtype.isQuantized, let out = conv.outputs.first else { return }
            // An activation between Conv and Q becomes a clamp in the quantized domain (exact:
            // rounding is monotonic, so clamping before or after it gives the same code).
            var activation: Int? = nil
            var last = out
            if let ai = soleConsumer(out), ["Relu", "Clip"].contains(graph.nodes[ai].opType) {
                activation = ai
                last = graph.nodes[ai].outputs[0]
            }
            guard let q = soleQuantize(last), let ys = graph.constants[q.scale]?.floats.first else { return }
            let yz = q.zero.isEmpty ? 0 : Int32(graph.constants[q.zero]!.ints[0])
            let ySigned = !q.zero.isEmpty && graph.constants[q.zero]!.dtype == .int8
            let yParams = QuantParams(scale: ys, zeroPoint: yz, isSigned: ySigned)
            var attributes = conv.attributes
            if let ai = activation {
                guard let (lo, hi) = clampRange(graph.nodes[ai], yParams) else { return }
                attributes.values[QLinearConvOp.clampMin] = .int(Int(lo))
                attributes.values[QLinearConvOp.clampMax] = .int(Int(hi))
            }
            var bias = ""
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let b = quantizedBias(conv.inputs[2], conv: conv, x: x, w: w) else { return }
                bias = b
            }
            let fused = Node(name: conv.name, opType: "QLinearConv", domain: "", inputs:
                                [x.q, x.scale, x.zero, w.q, w.scale, w.zero, q.scale, q.zero, bias],
                             outputs: graph.nodes[q.index].outputs, attributes: attributes)
            replace(i, with: fused, removing: [q.index] + (activation.map { [$0] } ?? []))
        }

        /// The output clamp a Relu or Clip node means for an output encoded with `y`.
        func clampRange(_ act: Node, _ y: QuantParams) -> (Int32, Int32)? {
            if act.opType == "Relu" { return (y.quantize(0), y.range.upperBound) }
            var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
            if graph.opsetVersion < 11 {
                guard case .float(let a)? = act.attributes.values["min"] ?? .float(lo),
                      case .float(let b)? = act.attributes.values["max"] ?? .float(hi) else { return nil }
                (lo, hi) = (a, b)
            } else {
                if act.inputs.count > 1, !act.inputs[1].isEmpty {
                    guard let v = graph.constants[act.inputs[1]]?.floats.first else { return nil }
                    lo = v
                }
                if act.inputs.count > 2, !act.inputs[2].isEmpty {
                    guard let v = graph.constants[act.inputs[2]]?.floats.first else { return nil }
                    hi = v
                }
            }
            return (y.quantize(lo), y.quantize(hi))
        }

        /// The int32 bias constant of a Conv: DQ(int32) as written, or a float bias quantized with
        /// scale x_scale · w_scale[m] (what onnxruntime's quantizer would have written).
        mutating func quantizedBias(_ value: String, conv: Node, x: (q: String, scale: String, zero: String),
                                    w: (q: String, scale: String, zero: String)) -> String? {
            if let b = constantDQ(value), let bq = graph.constants[b.q], !bq.dtype.isQuantized, bq.dtype != .float32 {
                return b.q
            }
            guard let b = graph.constants[value], b.dtype == .float32,
                  let xs = graph.constants[x.scale]?.floats.first, let ws = graph.constants[w.scale]?.floats,
                  ws.count == 1 || ws.count == b.count else { return nil }
            let values = b.floats.enumerated().map { m, v -> Int64 in
                let s = xs * ws[ws.count == 1 ? 0 : m]
                return Int64(max(-2_147_483_648, min(2_147_483_647, (v / s).rounded(.toNearestOrEven))))
            }
            let name = "\(value)#int32(\(conv.label))"
            graph.constants[name] = ConstTensor(ints: values, shape: b.shape)
            return name
        }

        mutating func fuseAdd(_ i: Int) {
            let add = graph.nodes[i]
            guard add.inputs.count == 2, let a = activationDQ(add.inputs[0]), let b = activationDQ(add.inputs[1]),
                  let out = add.outputs.first, let q = soleQuantize(out),
                  let sa = infos[add.inputs[0]]?.shape, sa == infos[add.inputs[1]]?.shape else { return }
            let fused = Node(name: add.name, opType: "QLinearAdd", domain: "com.microsoft",
                             inputs: [a.q, a.scale, a.zero, b.q, b.scale, b.zero, q.scale, q.zero],
                             outputs: graph.nodes[q.index].outputs, attributes: Attributes())
            replace(i, with: fused, removing: [q.index])
        }

        mutating func fuseConcat(_ i: Int) {
            let concat = graph.nodes[i]
            let parts = concat.inputs.map { activationDQ($0) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }), let out = concat.outputs.first,
                  let q = soleQuantize(out) else { return }
            let fused = Node(name: concat.name, opType: "QLinearConcat", domain: "com.microsoft",
                             inputs: [q.scale, q.zero] + parts.flatMap { [$0!.q, $0!.scale, $0!.zero] },
                             outputs: graph.nodes[q.index].outputs, attributes: concat.attributes)
            replace(i, with: fused, removing: [q.index])
        }

        /// Whether two (scale, zero point) name pairs hold the same encoding.
        func sameEncoding(_ a: (scale: String, zero: String), _ b: (scale: String, zero: String)) -> Bool {
            func zero(_ name: String) -> (Int64, Bool) {
                guard let z = graph.constants[name] else { return (0, false) }
                return (z.ints[0], z.dtype == .int8)
            }
            return graph.constants[a.scale]?.floats == graph.constants[b.scale]?.floats && zero(a.zero) == zero(b.zero)
        }

        mutating func fuseResize(_ i: Int) {
            let resize = graph.nodes[i]
            guard let x = activationDQ(resize.inputs[0]), let out = resize.outputs.first, let q = soleQuantize(out),
                  sameEncoding((x.scale, x.zero), (q.scale, q.zero)) else { return }
            var fused = resize
            fused.inputs[0] = x.q
            // Linear modes stay the float arithmetic of the QDQ graph, done on the codes' values.
            if let scale = graph.constants[x.scale]?.floats.first {
                fused.attributes.values[QDQFusion.resizeScale] = .float(scale)
                fused.attributes.values[QDQFusion.resizeZero] = .int(x.zero.isEmpty ? 0 : Int(graph.constants[x.zero]!.ints[0]))
            }
            fused.outputs = graph.nodes[q.index].outputs
            replace(i, with: fused, removing: [q.index])
        }

        mutating func fuseMaxPool(_ i: Int) {
            let pool = graph.nodes[i]
            guard pool.outputs.count == 1 || pool.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let x = activationDQ(pool.inputs[0]), let q = soleQuantize(pool.outputs[0]),
                  sameEncoding((x.scale, x.zero), (q.scale, q.zero)) else { return }
            var fused = pool
            fused.inputs[0] = x.q
            fused.outputs = graph.nodes[q.index].outputs
            replace(i, with: fused, removing: [q.index])
        }

        mutating func fuseGlobalAveragePool(_ i: Int) {
            let pool = graph.nodes[i]
            guard let x = activationDQ(pool.inputs[0]), let out = pool.outputs.first, let q = soleQuantize(out) else { return }
            let fused = Node(name: pool.name, opType: "QLinearGlobalAveragePool", domain: "com.microsoft",
                             inputs: [x.q, x.scale, x.zero, q.scale, q.zero],
                             outputs: graph.nodes[q.index].outputs, attributes: Attributes())
            replace(i, with: fused, removing: [q.index])
        }
    }
}
