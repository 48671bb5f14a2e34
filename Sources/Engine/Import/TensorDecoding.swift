import Foundation

/// ONNX TensorProto.DataType codes the importer understands.
enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7,
         string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13

    /// Bytes per element in raw_data.
    var size: Int {
        switch self {
        case .float, .int32, .uint32: 4
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16: 2
        case .int64, .double, .uint64: 8
        case .string: 0
        }
    }

    /// The engine's element type for values of this ONNX type.
    var dtype: DType {
        switch self {
        case .float, .float16, .double: .float32
        case .bool: .bool
        // Kept apart from other integers: a zero point's type decides QuantizeLinear's output type.
        case .uint8: .uint8
        case .int8: .int8
        default: .int64
        }
    }
}

/// Turns TensorProtos (inline, typed fields or external files) into ConstTensors.
struct TensorDecoder {
    /// Folder of the model file, for external data; nil when loading from memory.
    var baseDirectory: URL?

    func decode(_ proto: Onnx_TensorProto, name: String) throws -> ConstTensor {
        guard let type = ONNXDataType(rawValue: proto.dataType), type != .string else {
            throw EngineError.invalidModel("tensor \(name) has unsupported data type \(proto.dataType)")
        }
        var shape: [Int] = []
        var count = 1
        for dim in proto.dims {
            guard dim >= 0, dim < Int64(Int32.max) else {
                throw EngineError.corruptModel("tensor \(name) has dimension \(dim)")
            }
            shape.append(Int(dim))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= ValueInfo.maxElements else {
                throw EngineError.corruptModel("tensor \(name) is impossibly large (\(proto.dims))")
            }
            count = product
        }
        if proto.dataLocation == .external {
            let bytes = try externalBytes(proto, name: name, expected: count * type.size)
            return try fromRaw(bytes, type: type, shape: shape, count: count, name: name)
        }
        if proto.hasRawData {
            guard proto.rawData.count == count * type.size else {
                throw EngineError.corruptModel("tensor \(name): raw_data has \(proto.rawData.count) bytes, shape \(shape) needs \(count * type.size)")
            }
            return try fromRaw(proto.rawData, type: type, shape: shape, count: count, name: name)
        }
        return try fromTyped(proto, type: type, shape: shape, count: count, name: name)
    }

    private func fromTyped(_ p: Onnx_TensorProto, type: ONNXDataType, shape: [Int], count: Int,
                           name: String) throws -> ConstTensor {
        func check(_ n: Int) throws {
            guard n == count else {
                throw EngineError.corruptModel("tensor \(name) has \(n) values, shape \(shape) needs \(count)")
            }
        }
        switch type {
        case .float:
            try check(p.floatData.count)
            return ConstTensor(floats: p.floatData, shape: shape)
        case .double:
            try check(p.doubleData.count)
            return ConstTensor(floats: p.doubleData.map { Float($0) }, shape: shape)
        case .float16:
            try check(p.int32Data.count)
            return ConstTensor(floats: p.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }, shape: shape)
        case .int64:
            try check(p.int64Data.count)
            return ConstTensor(ints: p.int64Data, shape: shape)
        case .uint64, .uint32:
            try check(p.uint64Data.count)
            return ConstTensor(ints: p.uint64Data.map { Int64(truncatingIfNeeded: $0) }, shape: shape)
        case .int32, .int16, .int8, .uint16, .uint8, .bool:
            try check(p.int32Data.count)
            return ConstTensor(ints: p.int32Data.map { Int64($0) }, shape: shape, dtype: type.dtype)
        case .string:
            throw EngineError.invalidModel("tensor \(name): string tensors are not supported")
        }
    }

    private func fromRaw(_ data: Data, type: ONNXDataType, shape: [Int], count: Int,
                         name: String) throws -> ConstTensor {
        data.withUnsafeBytes { raw -> ConstTensor in
            func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
                (0..<count).map { Int64(T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
            }
            switch type {
            case .float:
                let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count {
                        buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    }
                    initialized = count
                }
                return ConstTensor(floats: floats, shape: shape)
            case .double:
                return ConstTensor(floats: (0..<count).map {
                    Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))))
                }, shape: shape)
            case .float16:
                return ConstTensor(floats: (0..<count).map {
                    Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))))
                }, shape: shape)
            case .int64: return ConstTensor(ints: load(Int64.self), shape: shape)
            case .uint64: return ConstTensor(ints: load(UInt64.self).map { $0 }, shape: shape)
            case .int32: return ConstTensor(ints: load(Int32.self), shape: shape)
            case .uint32: return ConstTensor(ints: load(UInt32.self), shape: shape)
            case .int16: return ConstTensor(ints: load(Int16.self), shape: shape)
            case .uint16: return ConstTensor(ints: load(UInt16.self), shape: shape)
            case .int8: return ConstTensor(ints: load(Int8.self), shape: shape, dtype: .int8)
            case .uint8: return ConstTensor(ints: load(UInt8.self), shape: shape, dtype: .uint8)
            case .bool: return ConstTensor(ints: load(UInt8.self).map { $0 != 0 ? 1 : 0 }, shape: shape, dtype: .bool)
            case .string: return ConstTensor(ints: [], shape: [0])
            }
        }
    }

    private func externalBytes(_ p: Onnx_TensorProto, name: String, expected: Int) throws -> Data {
        var location = "", offsetText: String? = nil, lengthText: String? = nil
        for entry in p.externalData {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offsetText = entry.value
            case "length": lengthText = entry.value
            default: break
            }
        }
        guard let base = baseDirectory else {
            throw EngineError.invalidModel("tensor \(name) uses external data, which needs a model loaded from a file")
        }
        func fail(_ problem: String) -> EngineError { .externalData(tensor: name, file: location, problem: problem) }
        guard !location.isEmpty else { throw EngineError.invalidModel("tensor \(name) uses external data but names no location") }
        // External files must live beside the model: no absolute paths, no climbing out.
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw fail("the location must be a relative path inside the model's folder")
        }
        func number(_ text: String?, _ what: String) throws -> Int? {
            guard let text else { return nil }
            guard let value = Int(text), value >= 0, text.allSatisfy(\.isASCII) else {
                throw fail("\(what) '\(text)' is not a byte count (a non-negative integer)")
            }
            return value
        }
        let offset = try number(offsetText, "offset") ?? 0
        let want = try number(lengthText, "length") ?? expected
        guard want == expected else {
            throw fail("length is \(want) bytes, the tensor's shape and type need \(expected)")
        }
        let folder: String, path: String
        switch (Self.realPath(base.path), Self.realPath(base.appendingPathComponent(location).path)) {
        case (.success(let resolvedFolder), .success(let resolved)): (folder, path) = (resolvedFolder, resolved)
        case (.failure(let error), _): throw fail("the model's folder \(base.path): \(error.reason)")
        case (.success(let resolvedFolder), .failure(let error)): throw fail("\(error.reason) (looked in \(resolvedFolder))")
        }
        // A symbolic link beside the model may still point anywhere.
        guard path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
            throw fail("resolves to \(path), outside the model's folder \(folder)")
        }
        let data: Data
        do {
            let file = try RegularFile(path: path)
            guard want <= file.size, offset <= file.size - want else {
                throw fail("the file has \(file.size) bytes; the tensor needs \(want) bytes at offset \(offset)")
            }
            data = try file.read(offset: offset, count: want)
        } catch let error as RegularFileError {
            throw fail(error.reason)
        }
        guard data.count == want else {
            throw fail("the file ended after \(data.count) of \(want) bytes at offset \(offset) (it shrank while being read)")
        }
        return data
    }

    /// `path` with symbolic links, `.` and `..` resolved, or why it cannot be.
    private static func realPath(_ path: String) -> Result<String, RealPathError> {
        guard let resolved = realpath(path, nil) else {
            let code = errno
            return .failure(RealPathError(reason: code == ENOENT ? "no such file" : String(cString: strerror(code)).lowercased()))
        }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }
}

/// Why `realpath` failed, as a phrase.
private struct RealPathError: Error {
    let reason: String
}
