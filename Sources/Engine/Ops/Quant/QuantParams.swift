import CKernels

/// The encoding of an 8-bit tensor, real = (q - zeroPoint) * scale, read from a node's constant
/// scale and zero-point inputs.
struct QuantParams: Equatable {
    var scale: Float
    var zeroPoint: Int32
    var isSigned: Bool

    var c: ck_qparams { ck_qparams(scale: scale, zero_point: zeroPoint, is_signed: isSigned ? 1 : 0) }
    var dtype: DType { isSigned ? .int8 : .uint8 }
    /// The stored type's range.
    var range: ClosedRange<Int32> { isSigned ? -128...127 : 0...255 }

    /// Per-tensor parameters from inputs `scaleIndex` and (optional) `zeroIndex` of `ctx`.
    static func read(_ ctx: OpContext, scale scaleIndex: Int, zero zeroIndex: Int, _ what: String) throws -> QuantParams {
        let scales = try readScales(ctx, scaleIndex, what)
        guard scales.count == 1 else {
            throw ctx.fail("\(what) scale has \(scales.count) values; only per-tensor quantization is supported here")
        }
        let (zeros, signed) = try readZeroPoints(ctx, zeroIndex, what)
        guard zeros.count == 1 else { throw ctx.fail("\(what) zero point has \(zeros.count) values, its scale 1") }
        return QuantParams(scale: scales[0], zeroPoint: zeros[0], isSigned: signed)
    }

    /// The scale values of input `i`: constant, finite and positive.
    static func readScales(_ ctx: OpContext, _ i: Int, _ what: String) throws -> [Float] {
        let scales = try ctx.requireConstant(i, "\(what) scale").floats
        guard !scales.isEmpty, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ctx.fail("\(what) scale must be finite and positive")
        }
        return scales
    }

    /// The zero points of input `i` (absent: one uint8 zero) and whether their type is int8.
    static func readZeroPoints(_ ctx: OpContext, _ i: Int, _ what: String) throws -> ([Int32], Bool) {
        guard ctx.has(i) else { return ([0], false) }
        let z = try ctx.requireConstant(i, "\(what) zero point")
        guard z.dtype.isQuantized else {
            throw ctx.fail("\(what) zero point is \(z.dtype.rawValue); moeseg runs uint8 and int8 quantization only")
        }
        return (z.ints.map { Int32(clamping: $0) }, z.dtype == .int8)
    }

    /// round_half_even(x / scale) + zeroPoint, clamped to the type's range (QuantizeLinear).
    func quantize(_ x: Float) -> Int32 {
        let v = (x / scale).rounded(.toNearestOrEven)
        guard v.isFinite else { return v > 0 ? range.upperBound : range.lowerBound }
        return Int32(max(Float(range.lowerBound), min(Float(range.upperBound), v + Float(zeroPoint))))
    }
}

extension OpContext {
    /// The 8-bit type of required run-time input `i`, which must be quantized.
    func quantizedInput(_ i: Int, _ what: String) throws -> ValueInfo {
        let x = try info(i)
        guard x.dtype.isQuantized else { throw fail("\(what) must be a uint8 or int8 tensor, got \(x.dtype.rawValue)") }
        return x
    }

    /// Checks that a quantized tensor's stored type matches its zero point's type.
    func checkEncoding(_ x: ValueInfo, _ p: QuantParams, _ what: String) throws {
        guard x.dtype == p.dtype else {
            throw fail("\(what) is \(x.dtype.rawValue) but its zero point is \(p.dtype.rawValue)")
        }
    }
}

/// Raw byte view of a kernel buffer (the arena is typed as floats; 8-bit tensors use its bytes).
@inline(__always) func bytes(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(p) }
