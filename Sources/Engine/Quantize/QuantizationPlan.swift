/// Which parts of a float model `moeseg quantize` turns into int8, decided on the imported graph
/// (constants folded, shapes known) the way onnxruntime's QDQ quantizer does it: Conv inputs,
/// weights (per output channel) and biases; the outputs of Conv (after a Relu/Clip it absorbs),
/// Add, Concat and GlobalAveragePool; Resize and MaxPool outputs in their input's encoding.
/// Everything else stays float between a DequantizeLinear and a QuantizeLinear.
struct QuantizationPlan {
    /// One quantized convolution.
    struct ConvLayer {
        let node: String
        let input: String
        let weight: String
        let bias: String?
        /// The Relu/Clip folded away, and the tensor the Conv then writes (its output otherwise).
        let activation: String?
        let output: String
    }

    var convs: [ConvLayer] = []
    /// Tensors given their own calibrated encoding, in graph order.
    var calibrated: [String] = []
    /// Tensors that take another tensor's encoding (Resize, MaxPool output → input).
    var shared: [String: String] = [:]
    /// Node labels that could be quantized (for --keep-float and reports).
    var candidates: [String] = []

    init(graph: Graph, keepFloat: Set<String>) {
        var producer: [String: Node] = [:]
        for node in graph.nodes { for o in node.outputs { producer[o] = node } }
        let consumers = graph.consumers()
        func isRuntime(_ v: String) -> Bool { !v.isEmpty && graph.constants[v] == nil && graph.infos[v]?.dtype == .float32 }
        var seen = Set<String>()
        func calibrate(_ v: String) {
            guard isRuntime(v), shared[v] == nil, seen.insert(v).inserted else { return }
            calibrated.append(v)
        }
        for node in graph.nodes {
            let label = node.label
            switch node.opType {
            case "Conv":
                guard node.inputs.count >= 2, isRuntime(node.inputs[0]), graph.constants[node.inputs[1]] != nil,
                      node.inputs.count < 3 || node.inputs[2].isEmpty || graph.constants[node.inputs[2]] != nil else { continue }
                candidates.append(label)
                guard !keepFloat.contains(label) else { continue }
                var output = node.outputs[0], activation: String? = nil
                if let users = consumers[output], users.count == 1, !graph.outputs.contains(output) {
                    let act = graph.nodes[users[0]]
                    if act.opType == "Relu" || (act.opType == "Clip" && act.inputs.dropFirst().allSatisfy { $0.isEmpty || graph.constants[$0] != nil }) {
                        activation = act.label
                        output = act.outputs[0]
                    }
                }
                calibrate(node.inputs[0])
                calibrate(output)
                convs.append(ConvLayer(node: label, input: node.inputs[0], weight: node.inputs[1],
                                       bias: node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil,
                                       activation: activation, output: output))
            case "Add", "Concat":
                guard node.inputs.allSatisfy(isRuntime), node.inputs.count >= 2 || node.opType == "Concat" else { continue }
                candidates.append(label)
                guard !keepFloat.contains(label) else { continue }
                node.inputs.forEach(calibrate)
                calibrate(node.outputs[0])
            case "GlobalAveragePool":
                guard isRuntime(node.inputs[0]) else { continue }
                candidates.append(label)
                guard !keepFloat.contains(label) else { continue }
                calibrate(node.inputs[0])
                calibrate(node.outputs[0])
            default:
                break
            }
        }
        // Resize and MaxPool keep their input's encoding when the input is quantized (in graph
        // order, so chains share one root), so the engines run them on the 8-bit codes.
        var quantized = Set(calibrated)
        for node in graph.nodes where ["Resize", "MaxPool"].contains(node.opType) && !keepFloat.contains(node.label) {
            guard let source = node.inputs.first, quantized.contains(source) || shared[source] != nil,
                  isRuntime(node.outputs[0]) else { continue }
            shared[node.outputs[0]] = shared[source] ?? source
            quantized.remove(node.outputs[0])
        }
        calibrated.removeAll { shared[$0] != nil }
    }
}
