import Foundation
@testable import Engine

/// Builds small ONNX models in memory for tests of the loader and the rewrite passes.
struct ModelBuilder {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var inputs: [(String, [Int])] = []
    var outputs: [String] = []
    var opset: Int64 = 17

    mutating func input(_ name: String, _ shape: [Int]) { inputs.append((name, shape)) }

    mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = 1
        t.floatData = values
        initializers.append(t)
    }

    /// A float initializer whose bytes live in an external file (ONNX external data); `entries`
    /// are the key/value pairs written, e.g. ["location": "w.bin", "offset": "16"].
    mutating func externalConstant(_ name: String, _ shape: [Int], _ entries: [(String, String)]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = 1
        t.dataLocation = .external
        t.externalData = entries.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        initializers.append(t)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], ints: [String: [Int]] = [:],
                       int: [String: Int] = [:], floats: [String: Float] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "\(op)_\(nodes.count)"
        n.input = inputs
        n.output = outputs
        for (k, v) in ints {
            var a = Onnx_AttributeProto()
            a.name = k
            a.type = .ints
            a.ints = v.map(Int64.init)
            n.attribute.append(a)
        }
        for (k, v) in int {
            var a = Onnx_AttributeProto()
            a.name = k
            a.type = .int
            a.i = Int64(v)
            n.attribute.append(a)
        }
        for (k, v) in floats {
            var a = Onnx_AttributeProto()
            a.name = k
            a.type = .float
            a.f = v
            n.attribute.append(a)
        }
        nodes.append(n)
    }

    func data() throws -> Data {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.version = opset
        m.opsetImport = [o]
        m.graph.node = nodes
        m.graph.initializer = initializers
        m.graph.input = inputs.map { name, shape in
            var v = Onnx_ValueInfoProto()
            v.name = name
            v.type.tensorType.elemType = 1
            v.type.tensorType.shape.dim = shape.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(d)
                return dim
            }
            return v
        }
        m.graph.output = outputs.map { name in
            var v = Onnx_ValueInfoProto()
            v.name = name
            return v
        }
        return try m.serializedData()
    }
}
