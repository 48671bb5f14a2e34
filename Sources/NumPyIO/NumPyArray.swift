import Foundation

/// A float32 array in NumPy's .npy format (version 1/2/3, C order), the exchange format of
/// `moeseg infer` and the test fixtures.
public struct NumPyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Why a .npy file could not be used.
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a float32 (or float64/uint8, converted) C-order .npy file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(description: "cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        try self.init(data: data, name: url.path)
    }

    /// Parses .npy bytes.
    public init(data: Data, name: String = "array") throws {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> FormatError { FormatError(description: "\(name) is not a usable .npy file: \(why)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3, bytes.count >= 12 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        } else { throw fail("unknown version \(major)") }
        guard headerLength >= 0, headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), let q = descr.dropFirst().firstIndex(of: "'") else { throw fail("no descr") }
        let type = String(descr[descr.index(after: descr.startIndex)..<q])
        if let order = field("fortran_order"), order.hasPrefix("True") { throw fail("Fortran order is not supported; save with np.ascontiguousarray") }
        guard let shapeText = field("shape"), let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw fail("no shape")
        }
        let dims = shapeText[shapeText.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0, v < 1 << 31 else { throw fail("bad dimension \(d)") }
            shape.append(v)
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p < 1 << 31 else { throw fail("too large") }
            count = p
        }
        let body = headerStart + headerLength
        let size: Int
        switch type {
        case "<f4": size = 4
        case "<f8": size = 8
        case "|u1", "<u1": size = 1
        default: throw fail("element type \(type) is not supported (use float32)")
        }
        guard bytes.count - body >= count * size else { throw fail("data ends early (\(bytes.count - body) of \(count * size) bytes)") }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                switch size {
                case 4: values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: body + 4 * i, as: UInt32.self)))
                case 8: values[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: body + 8 * i, as: UInt64.self))))
                default: values[i] = Float(raw[body + i])
                }
            }
        }
        self.shape = shape
        self.values = values
    }

    /// The .npy encoding (version 1, little-endian float32, C order).
    public func encoded() -> Data {
        Self.encode(shape: shape, descr: "<f4", body: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    /// A .npy of unsigned bytes (class-id maps).
    public static func encodeBytes(shape: [Int], values: [UInt8]) -> Data {
        encode(shape: shape, descr: "|u1", body: Data(values))
    }

    private static func encode(shape: [Int], descr: String, body: Data) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        return data
    }

    /// Writes the array as a .npy file.
    public func write(to url: URL) throws {
        try encoded().write(to: url)
    }
}

extension NumPyArray {
    /// The file name (without .npy) for a tensor name: every character outside
    /// [A-Za-z0-9._-] becomes '_', so graph names like "out:0" or "a/b" stay one file.
    public static func fileStem(for name: String) -> String {
        let stem = String(name.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") ? c : "_"
        })
        return stem.isEmpty || stem == "." || stem == ".." ? "_" + stem : stem
    }
}
