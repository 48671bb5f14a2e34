/// Numpy-style broadcasting, shared by the element-wise operators.
enum Broadcast {
    /// The broadcast shape of `shapes`, or nil when they are incompatible.
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for s in shapes {
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                let r = result[offset + i]
                if r == 1 { result[offset + i] = d } else if d != 1 && d != r { return nil }
            }
        }
        return result
    }

    /// Element strides of a tensor of `shape` read as `target` (0 on broadcast axes).
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let t = target.count - shape.count + i
            strides[t] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }

    /// Source element index for every element of `target`, for a tensor of `shape`.
    static func indices(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        indicesWithStrides(shape: target, strides: strides(of: shape, broadcastTo: target))
    }

    /// Element offsets for every index of `shape` (in C order) under arbitrary `strides`.
    static func indicesWithStrides(shape: [Int], strides: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        var result = [Int](repeating: 0, count: count)
        var counter = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for i in 0..<count {
            result[i] = offset
            var axis = shape.count - 1
            while axis >= 0 {
                counter[axis] += 1
                offset += strides[axis]
                if counter[axis] < shape[axis] { break }
                offset -= strides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Applies `f` element-wise over broadcast constant tensors of one kind.
    static func evaluate(_ tensors: [ConstTensor], dtype: DType? = nil,
                         ints f: ([Int64]) -> Int64, floats g: ([Float]) -> Float) throws -> ConstTensor {
        guard let target = shape(tensors.map(\.shape)) else {
            throw EngineError.shapeMismatch("cannot broadcast \(tensors.map(\.shape))")
        }
        let maps = tensors.map { indices(of: $0.shape, broadcastTo: target) }
        let count = target.reduce(1, *)
        if tensors.allSatisfy({ $0.dtype != .float32 }) {
            let values = tensors.map(\.ints)
            var args = [Int64](repeating: 0, count: tensors.count)
            let out = (0..<count).map { i -> Int64 in
                for k in tensors.indices { args[k] = values[k][maps[k][i]] }
                return f(args)
            }
            return ConstTensor(ints: out, shape: target, dtype: dtype ?? tensors[0].dtype)
        }
        let values = tensors.map(\.floats)
        var args = [Float](repeating: 0, count: tensors.count)
        let out = (0..<count).map { i -> Float in
            for k in tensors.indices { args[k] = values[k][maps[k][i]] }
            return g(args)
        }
        if let dtype, dtype != .float32 { return ConstTensor(ints: out.map { Int64($0) }, shape: target, dtype: dtype) }
        return ConstTensor(floats: out, shape: target)
    }
}

/// Splits `count` items of `cost` each into parallel work only when it pays.
extension ThreadPool {
    /// Runs `body` over 0..<count, in parallel when count × cost is large enough.
    func split(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        if count * cost < 16_384 || threads == 1 { body(0..<count) } else { parallelFor(count, body) }
    }
}
