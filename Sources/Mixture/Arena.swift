/// Zero-initialised buffers allocated once when a workspace is built and freed together
/// with it, so per-frame computation never allocates.
final class Arena {
    private var raw: [UnsafeMutableRawPointer] = []

    func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> { make(count, Float.self) }
    func doubles(_ count: Int) -> UnsafeMutableBufferPointer<Double> { make(count, Double.self) }
    func int32s(_ count: Int) -> UnsafeMutableBufferPointer<Int32> { make(count, Int32.self) }
    func int64s(_ count: Int) -> UnsafeMutableBufferPointer<Int64> { make(count, Int64.self) }

    private func make<T: Numeric>(_ count: Int, _: T.Type) -> UnsafeMutableBufferPointer<T> {
        // 64-byte alignment: whole cache lines, and aligned vector loads for every plane start.
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.append(pointer)
        let typed = pointer.bindMemory(to: T.self, capacity: max(count, 1))
        typed.initialize(repeating: 0, count: max(count, 1))
        return UnsafeMutableBufferPointer(start: typed, count: count)
    }

    deinit {
        for pointer in raw { pointer.deallocate() }
    }
}
