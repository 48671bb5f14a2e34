import Foundation

/// Writes the standard QDQ form of a float ONNX model for a `QuantizationPlan`: per-channel
/// symmetric int8 weights and int32 biases behind DequantizeLinear, a QuantizeLinear →
/// DequantizeLinear pair on every planned activation (the producer's output is renamed, so
/// consumers and graph outputs keep their names), and the absorbed Relu/Clip removed. onnxruntime
/// runs the result as it runs its own `quantize_static` output; moeseg fuses it into int8 kernels.
struct QDQWriter {
    var model: Onnx_ModelProto
    private var nodes: [Onnx_NodeProto]
    private var initializers: [Onnx_TensorProto] = []

    init(model: Onnx_ModelProto) {
        self.model = model
        nodes = model.graph.node
    }

    /// The engine's label of a protobuf node (Node.label).
    static func label(_ n: Onnx_NodeProto) -> String { n.name.isEmpty ? "\(n.opType)(\(n.output.first ?? "?"))" : n.name }

    mutating func apply(plan: QuantizationPlan, graph: Graph, encodings: [String: QuantParams]) throws -> Onnx_ModelProto {
        for (i, layer) in plan.convs.enumerated() {
            guard let ci = nodes.firstIndex(where: { Self.label($0) == layer.node }) else {
                throw EngineError.invalidModel("quantize: node \(layer.node) not found in the model")
            }
            if let act = layer.activation, let ai = nodes.firstIndex(where: { Self.label($0) == act }) {
                nodes[ci].output[0] = nodes[ai].output[0]
                nodes.remove(at: ai)
            }
            guard let x = encodings[layer.input], let w = graph.constants[layer.weight] else {
                throw EngineError.invalidModel("quantize: no calibration range for the input of \(layer.node)")
            }
            // The weight and bias DequantizeLinear nodes go first, so look the Conv up again after each.
            let (weightName, scales) = addWeight(w, name: "\(layer.weight)_w\(i)")
            nodes[nodes.firstIndex(where: { Self.label($0) == layer.node })!].input[1] = weightName
            if let b = layer.bias, let bias = graph.constants[b] {
                let biasName = addBias(bias, name: "\(b)_b\(i)", scales: scales.map { $0 * x.scale })
                nodes[nodes.firstIndex(where: { Self.label($0) == layer.node })!].input[2] = biasName
            }
        }
        for name in plan.calibrated { try quantize(name, encodings[name]) }
        for (name, root) in plan.shared.sorted(by: { $0.key < $1.key }) { try quantize(name, encodings[root]) }
        model.graph.node = nodes
        model.graph.initializer.append(contentsOf: initializers)
        model.graph.valueInfo = []
        removeUnused()
        if let i = model.opsetImport.firstIndex(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }), model.opsetImport[i].version < 13 {
            model.opsetImport[i].version = 13
        }
        return model
    }

    /// Per-output-channel symmetric int8 weights: scale = max|w| / 127.
    private mutating func addWeight(_ w: ConstTensor, name: String) -> (String, [Float]) {
        let filters = w.shape[0], per = w.count / max(1, filters)
        let values = w.floats
        var scales = [Float](repeating: 1, count: filters)
        var q = [Int8](repeating: 0, count: w.count)
        for m in 0..<filters {
            let peak = values[(m * per)..<((m + 1) * per)].reduce(Float(0)) { max($0, abs($1)) }
            scales[m] = peak > 0 ? peak / 127 : 1
            for k in 0..<per {
                q[m * per + k] = Int8(max(-127, min(127, (values[m * per + k] / scales[m]).rounded(.toNearestOrEven))))
            }
        }
        let out = "\(name)_DequantizeLinear_Output"
        initializers.append(Self.tensor("\(name)_quantized", dims: w.shape, type: 3, bytes: q.withUnsafeBytes { Data($0) }))
        initializers.append(Self.tensor("\(name)_scale", dims: [filters], floats: scales))
        initializers.append(Self.tensor("\(name)_zero_point", dims: [filters], type: 3, bytes: Data(count: filters)))
        nodes.append(Self.node("DequantizeLinear", ["\(name)_quantized", "\(name)_scale", "\(name)_zero_point"], [out], axis: 0))
        hoistLast()
        return (out, scales)
    }

    /// int32 bias with scale input scale × weight scale, as QLinearConv expects.
    private mutating func addBias(_ b: ConstTensor, name: String, scales: [Float]) -> String {
        let q = b.floats.enumerated().map { m, v in Int32(max(-2_147_483_648, min(2_147_483_647, (v / scales[m]).rounded(.toNearestOrEven)))) }
        let out = "\(name)_DequantizeLinear_Output"
        initializers.append(Self.tensor("\(name)_quantized", dims: [q.count], type: 6, bytes: q.withUnsafeBytes { Data($0) }))
        initializers.append(Self.tensor("\(name)_scale", dims: [q.count], floats: scales))
        initializers.append(Self.tensor("\(name)_zero_point", dims: [q.count], type: 6, bytes: Data(count: 4 * q.count)))
        nodes.append(Self.node("DequantizeLinear", ["\(name)_quantized", "\(name)_scale", "\(name)_zero_point"], [out], axis: 0))
        hoistLast()
        return out
    }

    /// Weight DQ nodes read only initializers; they go first so the order stays topological.
    private mutating func hoistLast() {
        nodes.insert(nodes.removeLast(), at: 0)
    }

    /// Inserts Q → DQ on activation `name` right after its producer.
    private mutating func quantize(_ name: String, _ e: QuantParams?) throws {
        guard let e else { throw EngineError.invalidModel("quantize: no calibration range for \(name)") }
        let scale = "\(name)_scale", zero = "\(name)_zero_point"
        initializers.append(Self.tensor(scale, dims: [], floats: [e.scale]))
        let z = e.isSigned ? Data([UInt8(bitPattern: Int8(e.zeroPoint))]) : Data([UInt8(e.zeroPoint)])
        initializers.append(Self.tensor(zero, dims: [], type: e.isSigned ? 3 : 2, bytes: z))
        let quantized = "\(name)_QuantizeLinear_Output"
        if let p = nodes.firstIndex(where: { $0.output.contains(name) }) {
            let raw = "\(name)_QuantizeLinear_Input"
            for o in nodes[p].output.indices where nodes[p].output[o] == name { nodes[p].output[o] = raw }
            nodes.insert(Self.node("QuantizeLinear", [raw, scale, zero], [quantized]), at: p + 1)
            nodes.insert(Self.node("DequantizeLinear", [quantized, scale, zero], [name]), at: p + 2)
        } else {
            // A graph input: its readers switch to the dequantized copy.
            let dq = "\(name)_DequantizeLinear_Output"
            for i in nodes.indices { for k in nodes[i].input.indices where nodes[i].input[k] == name { nodes[i].input[k] = dq } }
            nodes.insert(Self.node("DequantizeLinear", [quantized, scale, zero], [dq]), at: 0)
            nodes.insert(Self.node("QuantizeLinear", [name, scale, zero], [quantized]), at: 0)
        }
    }

    /// Drops initializers and Constant nodes nothing reads any more (the float weights, Clip bounds).
    private mutating func removeUnused() {
        var changed = true
        while changed {
            var used = Set(model.graph.output.map(\.name))
            for n in model.graph.node { used.formUnion(n.input) }
            let before = model.graph.node.count + model.graph.initializer.count
            model.graph.node.removeAll { $0.opType == "Constant" && !$0.output.contains(where: used.contains) }
            model.graph.initializer.removeAll { !used.contains($0.name) }
            changed = model.graph.node.count + model.graph.initializer.count != before
        }
    }

    static func tensor(_ name: String, dims: [Int], type: Int32, bytes: Data) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = type
        t.rawData = bytes
        return t
    }

    static func tensor(_ name: String, dims: [Int], floats: [Float]) -> Onnx_TensorProto {
        tensor(name, dims: dims, type: 1, bytes: floats.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0) })
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], axis: Int? = nil) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "\(outputs[0])_\(op)"
        n.input = inputs
        n.output = outputs
        if let axis {
            var a = Onnx_AttributeProto()
            a.name = "axis"
            a.type = .int
            a.i = Int64(axis)
            n.attribute = [a]
        }
        return n
    }
}
