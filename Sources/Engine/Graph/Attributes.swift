/// One attribute value of a node, decoded from ONNX.
enum AttributeValue: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(ConstTensor)
    case unsupported(String)
}

/// A node's attributes with typed, defaulted accessors that fail with the node's name.
struct Attributes: Sendable, Equatable {
    var values: [String: AttributeValue] = [:]

    func int(_ name: String, default value: Int? = nil, node: String) throws -> Int {
        switch values[name] {
        case .int(let v): return v
        case nil: if let value { return value }
        default: break
        }
        throw EngineError.invalidModel("node \(node): attribute \(name) must be an int")
    }

    func float(_ name: String, default value: Float? = nil, node: String) throws -> Float {
        switch values[name] {
        case .float(let v): return v
        case .int(let v): return Float(v)
        case nil: if let value { return value }
        default: break
        }
        throw EngineError.invalidModel("node \(node): attribute \(name) must be a float")
    }

    func string(_ name: String, default value: String? = nil, node: String) throws -> String {
        switch values[name] {
        case .string(let v): return v
        case nil: if let value { return value }
        default: break
        }
        throw EngineError.invalidModel("node \(node): attribute \(name) must be a string")
    }

    func ints(_ name: String, default value: [Int]? = nil, node: String) throws -> [Int] {
        switch values[name] {
        case .ints(let v): return v
        case .int(let v): return [v]
        case nil: if let value { return value }
        default: break
        }
        throw EngineError.invalidModel("node \(node): attribute \(name) must be a list of ints")
    }

    func floats(_ name: String, node: String) throws -> [Float]? {
        switch values[name] {
        case .floats(let v): return v
        case nil: return nil
        default: throw EngineError.invalidModel("node \(node): attribute \(name) must be a list of floats")
        }
    }

    func has(_ name: String) -> Bool { values[name] != nil }
}
