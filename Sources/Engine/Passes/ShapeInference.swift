/// Fixes every value's shape for the chosen input shape and evaluates everything that does
/// not depend on the input (the Shape→Gather→Concat chains torch emits, weight transforms),
/// so that no shape arithmetic remains at run time.
enum ShapeInference {
    /// "OpType (first at node X)" for every op type the engine lacks, in graph order.
    static func unsupportedOperators(in graph: Graph) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for node in graph.nodes where OperatorRegistry.lookup(node.opType) == nil && seen.insert(node.opType).inserted {
            result.append("\(node.opType) (first at node \(node.label))")
        }
        return result
    }

    static func run(_ graph: inout Graph, inputShapes: [String: [Int]]) throws {
        let unsupported = unsupportedOperators(in: graph)
        guard unsupported.isEmpty else { throw EngineError.unsupportedOperators(unsupported) }
        for (name, shape) in inputShapes { graph.infos[name] = ValueInfo(shape: shape) }
        for (name, c) in graph.constants { graph.infos[name] = c.info }

        var kept: [Node] = []
        for node in graph.nodes {
            let op = OperatorRegistry.lookup(node.opType)!
            let ctx = context(for: node, in: graph)
            let outputs = try op.inferShapes(ctx)
            for info in outputs where ValueInfo.checkedCount(info.shape) == nil {
                throw EngineError.shapeMismatch("node \(node.label) (\(node.opType)) would produce an impossible tensor \(info.shape)")
            }
            guard outputs.count >= node.outputs.filter({ !$0.isEmpty }).count else {
                throw EngineError.invalidModel("node \(node.label) (\(node.opType)) declares \(node.outputs.count) outputs, the operator has \(outputs.count)")
            }
            for (name, info) in zip(node.outputs, outputs) where !name.isEmpty {
                graph.infos[name] = info
            }
            let foldable = op.dependsOnlyOnShapes
                || (node.inputs.allSatisfy { $0.isEmpty || graph.constants[$0] != nil }
                    && !graph.inputs.contains(where: node.inputs.contains))
            if foldable && !(node.opType == "Dropout" && node.outputs.count > 1) {
                let values = try op.fold(ctx, outputs: outputs)
                for (name, value) in zip(node.outputs, values) where !name.isEmpty {
                    graph.constants[name] = value
                    graph.infos[name] = value.info
                }
            } else {
                kept.append(node)
            }
        }
        graph.nodes = kept
        removeUnusedConstants(&graph)
    }

    /// The load-time context of `node` in `graph`.
    static func context(for node: Node, in graph: Graph) -> OpContext {
        OpContext(node: node,
                  inputInfos: node.inputs.map { $0.isEmpty ? nil : graph.infos[$0] },
                  inputConstants: node.inputs.map { $0.isEmpty ? nil : graph.constants[$0] },
                  opset: graph.opsetVersion)
    }

    /// Drops constants no remaining node or output reads, releasing their memory early.
    static func removeUnusedConstants(_ graph: inout Graph) {
        var used = Set(graph.outputs)
        for node in graph.nodes { used.formUnion(node.inputs) }
        for name in graph.constants.keys where !used.contains(name) {
            graph.constants[name] = nil
        }
    }
}
