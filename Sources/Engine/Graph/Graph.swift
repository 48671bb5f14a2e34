/// One operator application. Inputs and outputs are value names; "" marks an omitted
/// optional input, as in ONNX.
struct Node: Sendable {
    var name: String
    var opType: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: Attributes

    /// A name for messages: the ONNX node name, or its first output when unnamed.
    var label: String { name.isEmpty ? "\(opType)(\(outputs.first ?? "?"))" : name }
}

/// The model as the engine sees it between import and planning: a topologically ordered
/// node list over named values, with constants known and every value's shape inferred.
struct Graph: Sendable {
    var nodes: [Node]
    var inputs: [String]
    var outputs: [String]
    var constants: [String: ConstTensor]
    var infos: [String: ValueInfo]
    var opsetVersion: Int

    /// Names of the nodes' consumers, for the rewriting passes.
    func consumers() -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                result[input, default: []].append(index)
            }
        }
        return result
    }
}
