/// A growable little-endian byte sink for building MCAP records.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    mutating func u32(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Overwrites a previously reserved little-endian u64 (record lengths are known last).
    mutating func patchU64(at offset: Int, _ v: UInt64) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
    }

    mutating func patchU32(at offset: Int, _ v: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> UInt32(8 * i)) }
    }

    mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    mutating func raw(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }

    /// MCAP string: u32 byte length, then UTF-8.
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(truncatingIfNeeded: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// MCAP map<string,string>: u32 byte length of the entries, then key/value strings,
    /// sorted by key so the same metadata always produces the same bytes.
    mutating func stringMap(_ map: [String: String]) {
        let start = bytes.count
        u32(0)
        for key in map.keys.sorted() {
            string(key)
            string(map[key] ?? "")
        }
        patchU32(at: start, UInt32(truncatingIfNeeded: bytes.count - start - 4))
    }

    /// Starts a record: opcode plus a placeholder length; returns where the length sits.
    mutating func beginRecord(_ opcode: MCAPOpcode) -> Int {
        u8(opcode.rawValue)
        let at = bytes.count
        u64(0)
        return at
    }

    mutating func endRecord(lengthAt at: Int) {
        patchU64(at: at, UInt64(bytes.count - at - 8))
    }
}

/// A bounds-checked little-endian cursor over untrusted bytes. Every read checks the
/// remaining length first and throws instead of trapping.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        self.position = r.lowerBound
        self.end = r.upperBound
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    private mutating func need(_ n: Int, _ what: StaticString) throws(MCAPFormatError) {
        guard n >= 0, n <= remaining else {
            throw MCAPFormatError("\(what) needs \(n) bytes but only \(remaining) remain")
        }
    }

    mutating func u8() throws(MCAPFormatError) -> UInt8 {
        try need(1, "u8")
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws(MCAPFormatError) -> UInt16 {
        try need(2, "u16")
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    mutating func u32() throws(MCAPFormatError) -> UInt32 {
        try need(4, "u32")
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return v
    }

    mutating func u64() throws(MCAPFormatError) -> UInt64 {
        try need(8, "u64")
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return v
    }

    /// A length field converted to Int only if it fits in what is left.
    mutating func length32(_ what: StaticString) throws(MCAPFormatError) -> Int {
        let n = try u32()
        guard UInt64(n) <= UInt64(remaining) else {
            throw MCAPFormatError("\(what) length \(n) exceeds the \(remaining) bytes left")
        }
        return Int(n)
    }

    mutating func length64(_ what: StaticString) throws(MCAPFormatError) -> Int {
        let n = try u64()
        guard n <= UInt64(remaining) else {
            throw MCAPFormatError("\(what) length \(n) exceeds the \(remaining) bytes left")
        }
        return Int(n)
    }

    mutating func range(count n: Int) throws(MCAPFormatError) -> Range<Int> {
        try need(n, "bytes")
        defer { position += n }
        return position..<(position + n)
    }

    mutating func bytes(count n: Int) throws(MCAPFormatError) -> [UInt8] {
        let r = try range(count: n)
        return Array(bytes[r])
    }

    mutating func string() throws(MCAPFormatError) -> String {
        let n = try length32("string")
        let r = try range(count: n)
        return String(decoding: bytes[r], as: UTF8.self)
    }

    mutating func stringMap() throws(MCAPFormatError) -> [String: String] {
        let n = try length32("map")
        let stop = position + n
        var map: [String: String] = [:]
        while position < stop {
            let key = try string()
            let value = try string()
            guard position <= stop else { throw MCAPFormatError("map entry overruns its map") }
            map[key] = value
        }
        return map
    }
}

/// A structural problem inside one record's bytes.
struct MCAPFormatError: Error, CustomStringConvertible {
    let description: String
    /// How the reader classifies it when it becomes an issue.
    let kind: MCAPIssue.Kind
    init(_ description: String, kind: MCAPIssue.Kind = .malformed) {
        self.description = description
        self.kind = kind
    }
}
