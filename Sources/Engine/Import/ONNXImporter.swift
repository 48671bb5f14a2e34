import Foundation
import SwiftProtobuf

/// Reads an ONNX ModelProto into the engine's graph form, validating what the format
/// leaves to the reader: opsets, references to undefined values, cycles.
enum ONNXImporter {
    static let supportedOpsets = 13...18

    /// Parses a model file. The protobuf bytes are released before returning.
    /// The com.microsoft operators onnxruntime's quantizer writes in QOperator models.
    static let microsoftOps: Set<String> = ["QLinearAdd", "QLinearConcat", "QLinearGlobalAveragePool"]

    static func load(path: String) throws -> (graph: Graph, declaredInputs: [String: [Int?]]) {
        // The mapped file is unmapped when loadProto returns, before the weights are decoded:
        // the file, the parsed protobuf and the decoded floats never coexist.
        try convert(try loadProto(path: path), baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// The parsed protobuf of the model at `path` (also for rewriting it, e.g. quantization).
    static func loadProto(path: String) throws -> Onnx_ModelProto {
        let data: Data
        do {
            data = try RegularFile(path: path).mapAll(limit: maximumFileBytes)
        } catch {
            throw EngineError.unreadableFile(path: path, reason: error.reason)
        }
        return try parse(data)
    }

    /// Protobuf cannot encode a message over 2 GiB; ONNX keeps larger weights in external data.
    static let maximumFileBytes = Int(Int32.max)

    /// Parses a model held in memory; external data is resolved against `baseDirectory`.
    static func load(data: Data, baseDirectory: URL?) throws -> (graph: Graph, declaredInputs: [String: [Int?]]) {
        try convert(try parse(data), baseDirectory: baseDirectory)
    }

    private static func parse(_ data: Data) throws -> Onnx_ModelProto {
        guard !data.isEmpty else { throw EngineError.corruptModel("the file is empty") }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        do {
            return try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw EngineError.corruptModel("protobuf decoding failed (\(error)); is this an ONNX file, and is it complete?")
        }
    }

    /// The graph of an already parsed model (external data resolved against `baseDirectory`).
    static func convert(_ proto: Onnx_ModelProto, baseDirectory: URL?) throws -> (graph: Graph, declaredInputs: [String: [Int?]]) {
        var model = proto
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw EngineError.corruptModel("the file has no graph (not an ONNX model, or truncated)")
        }
        var opset: Int? = nil
        for entry in model.opsetImport where entry.domain.isEmpty || entry.domain == "ai.onnx" {
            opset = Int(entry.version)
        }
        guard let opsetVersion = opset else {
            throw EngineError.invalidModel("the model imports no ai.onnx opset")
        }
        guard supportedOpsets.contains(opsetVersion) else {
            throw EngineError.unsupportedOpset(domain: "", version: opsetVersion)
        }

        let decoder = TensorDecoder(baseDirectory: baseDirectory)
        var constants: [String: ConstTensor] = [:]
        // Move initializers out of the proto one by one so weights exist only once at a time.
        var initializers = model.graph.initializer
        model.graph.initializer = []
        while let tensor = initializers.popLast() {
            constants[tensor.name] = try decoder.decode(tensor, name: tensor.name)
        }

        var declared: [String: [Int?]] = [:]
        var inputs: [String] = []
        for value in model.graph.input where constants[value.name] == nil {
            inputs.append(value.name)
            let dims = value.type.tensorType.shape.dim.map { dim -> Int? in
                if case .dimValue(let v)? = dim.value, v > 0 { return Int(v) }
                return nil
            }
            declared[value.name] = dims
            let elem = value.type.tensorType.elemType
            guard elem == ONNXDataType.float.rawValue else {
                throw EngineError.invalidModel("graph input \(value.name) has element type \(elem); only float32 inputs are supported")
            }
        }
        guard !inputs.isEmpty else { throw EngineError.invalidModel("the graph has no runtime input") }

        var nodes: [Node] = []
        nodes.reserveCapacity(model.graph.node.count)
        for proto in model.graph.node {
            var attributes = Attributes()
            for attr in proto.attribute {
                attributes.values[attr.name] = try decodeAttribute(attr, decoder: decoder)
            }
            nodes.append(Node(name: proto.name, opType: proto.opType, domain: proto.domain,
                              inputs: proto.input, outputs: proto.output, attributes: attributes))
        }
        for node in nodes where !(node.domain.isEmpty || node.domain == "ai.onnx")
            && !(node.domain == "com.microsoft" && microsoftOps.contains(node.opType)) {
            throw EngineError.unsupportedOperators(["\(node.domain).\(node.opType) (first at node \(node.label))"])
        }
        let outputs = model.graph.output.map(\.name)
        let ordered = try topologicalOrder(nodes, available: Set(inputs).union(constants.keys), outputs: outputs)
        let graph = Graph(nodes: ordered, inputs: inputs, outputs: outputs, constants: constants,
                          infos: [:], opsetVersion: opsetVersion)
        return (graph, declared)
    }

    private static func decodeAttribute(_ attr: Onnx_AttributeProto, decoder: TensorDecoder) throws -> AttributeValue {
        switch attr.type {
        case .int: return .int(clampedInt(attr.i))
        case .float: return .float(attr.f)
        case .string: return .string(String(decoding: attr.s, as: UTF8.self))
        case .ints: return .ints(attr.ints.map(clampedInt))
        case .floats: return .floats(attr.floats)
        case .strings: return .strings(attr.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try decoder.decode(attr.t, name: attr.name))
        default:
            // Older writers leave `type` unset; fall back on which field is filled.
            if attr.hasI { return .int(clampedInt(attr.i)) }
            if attr.hasF { return .float(attr.f) }
            if attr.hasS { return .string(String(decoding: attr.s, as: UTF8.self)) }
            if !attr.ints.isEmpty { return .ints(attr.ints.map(clampedInt)) }
            if !attr.floats.isEmpty { return .floats(attr.floats) }
            if attr.hasT { return .tensor(try decoder.decode(attr.t, name: attr.name)) }
            return .unsupported("\(attr.type)")
        }
    }

    /// Attribute integers bounded so that sums and products of a few of them cannot
    /// overflow; real models never come near the bound.
    private static func clampedInt(_ v: Int64) -> Int { Int(max(min(v, 1 << 32), -(1 << 32))) }

    /// Orders nodes so every input is produced before use (ONNX requires it, not every
    /// writer obeys), and rejects references to values nobody produces.
    static func topologicalOrder(_ nodes: [Node], available: Set<String>, outputs: [String]) throws -> [Node] {
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for out in node.outputs where !out.isEmpty {
                if producer[out] != nil || available.contains(out) {
                    throw EngineError.invalidModel("value \(out) is produced twice (node \(node.label))")
                }
                producer[out] = i
            }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var users: [[Int]] = Array(repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                if let p = producer[input] {
                    pending[i] += 1
                    users[p].append(i)
                } else if !available.contains(input) {
                    throw EngineError.invalidModel("node \(node.label) reads \(input), which no node, input or initializer provides")
                }
            }
        }
        for out in outputs where producer[out] == nil && !available.contains(out) {
            throw EngineError.invalidModel("graph output \(out) is never produced")
        }
        // Keep the writer's order when it is valid: exporters emit depth-first, which keeps
        // fewer activations alive than any reordering would.
        var seen = available
        var inOrder = true
        for node in nodes where inOrder {
            inOrder = node.inputs.allSatisfy { $0.isEmpty || seen.contains($0) }
            seen.formUnion(node.outputs)
        }
        if inOrder { return nodes }
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }
        var order: [Node] = []
        order.reserveCapacity(nodes.count)
        var head = 0
        while head < ready.count {
            let i = ready[head]
            head += 1
            order.append(nodes[i])
            for u in users[i] {
                pending[u] -= 1
                if pending[u] == 0 { ready.append(u) }
            }
        }
        guard order.count == nodes.count else {
            throw EngineError.invalidModel("the graph has a cycle")
        }
        return order
    }
}
