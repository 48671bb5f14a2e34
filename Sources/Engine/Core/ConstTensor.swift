/// Element types the engine understands. Run-time tensors are `float32`, or `uint8`/`int8` in
/// quantized models (the activations between QuantizeLinear and DequantizeLinear); other integer
/// and boolean tensors exist only at load time, in the shape computations that get folded away.
public enum DType: String, Sendable, Equatable {
    case float32, int64, bool, uint8, int8

    /// Bytes per element of a run-time tensor of this type.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .float32: 4
        case .int64: 8
        }
    }

    /// True for the 8-bit types of quantized tensors.
    public var isQuantized: Bool { self == .uint8 || self == .int8 }
}

/// A load-time tensor with known contents: an initializer, a folded constant, or the value
/// of a shape computation.
struct ConstTensor: Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case float([Float])
        case int([Int64])
    }

    var shape: [Int]
    var dtype: DType
    var storage: Storage

    init(floats: [Float], shape: [Int]) {
        precondition(floats.count == shape.reduce(1, *))
        self.shape = shape
        self.dtype = .float32
        self.storage = .float(floats)
    }

    init(ints: [Int64], shape: [Int], dtype: DType = .int64) {
        precondition(ints.count == shape.reduce(1, *))
        self.shape = shape
        self.dtype = dtype
        self.storage = .int(ints)
    }

    var count: Int { shape.reduce(1, *) }

    /// Values as floats (integers converted).
    var floats: [Float] {
        switch storage {
        case .float(let v): v
        case .int(let v): v.map { Float($0) }
        }
    }

    /// Values as integers (floats truncated toward zero, as ONNX Cast does).
    var ints: [Int64] {
        switch storage {
        case .int(let v): v
        case .float(let v): v.map { $0.isFinite ? Int64(clamping: Int($0)) : 0 }
        }
    }

    /// The tensor viewed with another shape of the same element count.
    func reshaped(_ newShape: [Int]) -> ConstTensor {
        var copy = self
        copy.shape = newShape
        return copy
    }

    var info: ValueInfo { ValueInfo(shape: shape, dtype: dtype) }

    /// A tensor of `shape` whose i-th element is this tensor's element `map[i]` (the load-time
    /// form of Gather, Slice, Transpose and Expand).
    func picking<C: Collection>(_ map: C, shape: [Int]) -> ConstTensor where C.Element: BinaryInteger {
        switch storage {
        case .float(let v): ConstTensor(floats: map.map { v[Int($0)] }, shape: shape)
        case .int(let v): ConstTensor(ints: map.map { v[Int($0)] }, shape: shape, dtype: dtype)
        }
    }
}

/// Shape and element type of a graph value.
public struct ValueInfo: Sendable, Equatable, CustomStringConvertible {
    public var shape: [Int]
    public var dtype: DType

    public init(shape: [Int], dtype: DType = .float32) {
        self.shape = shape
        self.dtype = dtype
    }

    public var count: Int { shape.reduce(1, *) }

    /// Bytes of a run-time tensor of this shape and type.
    public var byteCount: Int { count * dtype.byteSize }

    /// Largest tensor the engine accepts (2^28 elements, 1 GiB of floats): anything bigger
    /// in a segmentation model is a corrupt file, and checking it keeps shape arithmetic
    /// from overflowing.
    public static let maxElements = 1 << 28

    /// Element count of `shape`, or nil when a dimension is negative or the product
    /// exceeds `maxElements`.
    static func checkedCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0, d <= maxElements else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else { return nil }
            count = p
        }
        return count
    }

    public var description: String { "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: "x"))]" }
}
