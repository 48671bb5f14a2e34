/// A growable byte buffer that keeps its storage between messages, with the few protobuf
/// wire-format writers the frame encoder needs. Steady state (same message sizes) never allocates.
final class ProtoBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes written since the last `reset()`.
    private(set) var count = 0
    /// The pool this buffer returns to after libzmq has sent it (nil: not pooled).
    var pool: SendBufferPool?

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    @inline(__always) func reset() { count = 0 }

    /// Makes room for `extra` more bytes (grows geometrically, copying what was written).
    @inline(__always) func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// A view of the bytes written so far (valid until the next write).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) func writeByte(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always) func writeVarint(_ value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always) func writeTag(_ field: Int, _ wireType: Int) {
        writeVarint(UInt64(field << 3 | wireType))
    }

    /// A proto3 varint field, skipped when zero (as the generated serializer does).
    @inline(__always) func writeVarintField(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, 0)
        writeVarint(value)
    }

    /// A proto3 float field (fixed32, little-endian), skipped when +0.
    @inline(__always) func writeFloatField(_ field: Int, _ value: Float) {
        guard value.bitPattern != 0 else { return }
        writeTag(field, 5)
        reserve(4)
        base.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    /// A proto3 string field, skipped when empty; iterating UTF-8 of a native string does not allocate.
    func writeStringField(_ field: Int, _ value: String) {
        let length = value.utf8.count
        guard length > 0 else { return }
        writeTag(field, 2)
        writeVarint(UInt64(length))
        reserve(length)
        var offset = count
        for byte in value.utf8 {
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        count = offset
    }

    /// Starts a length-delimited field of known length and returns where its payload goes;
    /// the caller writes exactly `length` bytes there.
    @inline(__always) func beginBytesField(_ field: Int, length: Int) -> UnsafeMutableRawPointer {
        writeTag(field, 2)
        writeVarint(UInt64(length))
        reserve(length)
        let start = base + count
        count += length
        return start
    }
}

/// Bytes a varint takes.
@inline(__always) func varintSize(_ value: UInt64) -> Int {
    var size = 1
    var v = value >> 7
    while v != 0 { size += 1; v >>= 7 }
    return size
}

@inline(__always) func varintFieldSize(_ field: Int, _ value: UInt64) -> Int {
    value == 0 ? 0 : varintSize(UInt64(field << 3)) + varintSize(value)
}

@inline(__always) func stringFieldSize(_ field: Int, _ value: String) -> Int {
    let length = value.utf8.count
    return length == 0 ? 0 : varintSize(UInt64(field << 3)) + varintSize(UInt64(length)) + length
}
