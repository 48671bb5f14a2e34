import Foundation

/// Load-time rewrites that make the graph cheaper to run without changing its results
/// beyond float rounding: no-op removal, BatchNorm folding, and epilogue fusion of residual
/// Adds and activations into the producing convolution.
enum GraphRewrites {
    /// Activation fused into a Conv, stored on the node as private attributes.
    static let activationKind = "_act_kind", activationA = "_act_a", activationB = "_act_b"

    static func run(_ graph: inout Graph) throws {
        removeNoOps(&graph)
        try foldBatchNorm(&graph)
        fuseResidualAdd(&graph)
        try fuseActivation(&graph)
        ShapeInference.removeUnusedConstants(&graph)
    }

    /// Identity and inference-mode Dropout forward their input: rename their consumers.
    static func removeNoOps(_ graph: inout Graph) {
        var rename: [String: String] = [:]
        var kept: [Node] = []
        for var node in graph.nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            let isNoOp = node.opType == "Identity" || (node.opType == "Dropout" && node.outputs.count == 1)
            if isNoOp, let out = node.outputs.first, !graph.outputs.contains(out), let input = node.inputs.first {
                rename[out] = input
                continue
            }
            kept.append(node)
        }
        graph.nodes = kept
    }

    private static func singleConsumer(_ name: String, _ consumers: [String: [Int]], _ graph: Graph) -> Int? {
        guard !graph.outputs.contains(name), let users = consumers[name], users.count == 1 else { return nil }
        return users[0]
    }

    /// Conv → BatchNormalization becomes one Conv with scaled weights and shifted bias.
    static func foldBatchNorm(_ graph: inout Graph) throws {
        let consumers = graph.consumers()
        var removed = Set<Int>()
        for (ci, conv) in graph.nodes.enumerated() where conv.opType == "Conv" {
            guard let out = conv.outputs.first, let bi = singleConsumer(out, consumers, graph) else { continue }
            let bn = graph.nodes[bi]
            guard bn.opType == "BatchNormalization", bn.inputs.count >= 5, bn.outputs.count == 1 || bn.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let w = graph.constants[conv.inputs[1]], w.dtype == .float32,
                  let gamma = graph.constants[bn.inputs[1]], let beta = graph.constants[bn.inputs[2]],
                  let mean = graph.constants[bn.inputs[3]], let variance = graph.constants[bn.inputs[4]] else { continue }
            let m = w.shape[0]
            guard gamma.count == m, beta.count == m, mean.count == m, variance.count == m else { continue }
            let eps = try bn.attributes.float("epsilon", default: 1e-5, node: bn.label)
            var bias = [Float](repeating: 0, count: m)
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let b = graph.constants[conv.inputs[2]], b.count == m else { continue }
                bias = b.floats
            }
            let g = gamma.floats, be = beta.floats, mu = mean.floats, va = variance.floats
            var weights = w.floats
            let perFilter = weights.count / m
            for o in 0..<m {
                let scale = g[o] / (va[o] + eps).squareRoot()
                for k in 0..<perFilter { weights[o * perFilter + k] *= scale }
                bias[o] = (bias[o] - mu[o]) * scale + be[o]
            }
            let wName = "\(conv.inputs[1])#bnfolded\(ci)", bName = "\(out)#bnbias"
            graph.constants[wName] = ConstTensor(floats: weights, shape: w.shape)
            graph.constants[bName] = ConstTensor(floats: bias, shape: [m])
            graph.infos[wName] = graph.constants[wName]!.info
            graph.infos[bName] = graph.constants[bName]!.info
            var fused = conv
            fused.inputs = [conv.inputs[0], wName, bName]
            fused.outputs = [bn.outputs[0]]
            graph.nodes[ci] = fused
            removed.insert(bi)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Conv → Add(conv, r) with r produced earlier becomes Conv with a residual input.
    static func fuseResidualAdd(_ graph: inout Graph) {
        let consumers = graph.consumers()
        var producerIndex: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for o in node.outputs { producerIndex[o] = i } }
        for name in graph.inputs { producerIndex[name] = -1 }
        var removed = Set<Int>()
        for (ci, conv) in graph.nodes.enumerated() where conv.opType == "Conv" && conv.inputs.count <= 3 {
            guard !conv.attributes.has(activationKind), let out = conv.outputs.first,
                  let ai = singleConsumer(out, consumers, graph), !removed.contains(ai) else { continue }
            let add = graph.nodes[ai]
            guard add.opType == "Add", add.inputs.count == 2 else { continue }
            let other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0]
            guard other != out, graph.constants[other] == nil, let p = producerIndex[other], p < ci,
                  graph.infos[other]?.shape == graph.infos[out]?.shape,
                  graph.infos[add.outputs[0]]?.shape == graph.infos[out]?.shape else { continue }
            var fused = conv
            fused.inputs = [conv.inputs[0], conv.inputs[1], conv.inputs.count > 2 ? conv.inputs[2] : "", other]
            fused.outputs = [add.outputs[0]]
            graph.nodes[ci] = fused
            removed.insert(ai)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Conv → activation becomes one Conv whose epilogue applies the activation.
    static func fuseActivation(_ graph: inout Graph) throws {
        let consumers = graph.consumers()
        var removed = Set<Int>()
        for (ci, conv) in graph.nodes.enumerated() where conv.opType == "Conv" {
            guard !conv.attributes.has(activationKind), let out = conv.outputs.first,
                  let ai = singleConsumer(out, consumers, graph) else { continue }
            let act = graph.nodes[ai]
            let ctx = ShapeInference.context(for: act, in: graph)
            guard let spec = try ActivationOp.spec(for: ctx) else { continue }
            var fused = conv
            fused.attributes.values[activationKind] = .int(Int(spec.kind.rawValue))
            fused.attributes.values[activationA] = .float(spec.a)
            fused.attributes.values[activationB] = .float(spec.b)
            fused.outputs = [act.outputs[0]]
            graph.nodes[ci] = fused
            removed.insert(ai)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}
