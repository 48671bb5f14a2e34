import CKernels
import Foundation
import Testing

/// All kernel tests. Serialized because ck_set_dispatch is process-wide: a test that forces the
/// scalar path must not overlap one that expects the dispatched path.
@Suite(.serialized) struct KernelTests {}

/// Deterministic generator (SplitMix64), so a failing geometry reproduces.
struct KernelRNG {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in the closed range.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % span)
    }

    /// Uniform float in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        let unit = Float(next() >> 40) / Float(1 << 24)
        return lo + (hi - lo) * unit
    }

    mutating func floats(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<count).map { _ in float(lo, hi) }
    }

    mutating func pick<T>(_ options: [T]) -> T { options[int(0...(options.count - 1))] }
}

/// Runs `body` with the scalar path forced, then with automatic dispatch (AVX2 where present).
func forEachKernelPath(_ body: (String) throws -> Void) rethrows {
    defer { ck_set_dispatch(1) }
    ck_set_dispatch(0)
    try body("scalar")
    ck_set_dispatch(1)
    try body("dispatched")
}

func makeActivation(_ kind: ck_act_kind, _ a: Float = 0, _ b: Float = 0) -> ck_activation {
    ck_activation(kind: Int32(kind.rawValue), a: a, b: b)
}

/// Every activation kind, with the parameters real models use and some that are not.
let allKernelActivations: [ck_activation] = [
    makeActivation(CK_ACT_NONE),
    makeActivation(CK_ACT_RELU),
    makeActivation(CK_ACT_CLIP, 0, 6),
    makeActivation(CK_ACT_CLIP, -0.5, 0.7),
    makeActivation(CK_ACT_HARDSWISH),
    makeActivation(CK_ACT_HARDSIGMOID, 0.2, 0.5),
    makeActivation(CK_ACT_HARDSIGMOID, 1.0 / 6.0, 0.5),
    makeActivation(CK_ACT_SIGMOID),
    makeActivation(CK_ACT_LEAKYRELU, 0.1),
]

/// Reference activation in Double, straight from the ONNX operator definitions.
func kernelReferenceActivation(_ x: Double, _ act: ck_activation) -> Double {
    let a = Double(act.a), b = Double(act.b)
    switch UInt32(act.kind) {
    case CK_ACT_RELU.rawValue: return max(x, 0)
    case CK_ACT_CLIP.rawValue: return min(max(x, a), b)
    case CK_ACT_HARDSWISH.rawValue: return x * min(max(x / 6 + 0.5, 0), 1)
    case CK_ACT_HARDSIGMOID.rawValue: return min(max(a * x + b, 0), 1)
    case CK_ACT_SIGMOID.rawValue: return 1 / (1 + Foundation.exp(-x))
    case CK_ACT_LEAKYRELU.rawValue: return x >= 0 ? x : a * x
    default: return x
    }
}

/// Records one issue naming the first mismatch (and how many there are) instead of thousands.
func expectKernelClose(_ got: [Float], _ want: [Double], rtol: Double = 1e-5, atol: Double = 1e-5,
                 _ context: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard got.count == want.count else {
        Issue.record("\(context()): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
        return
    }
    var bad = 0
    var first = -1
    for i in got.indices {
        let g = Double(got[i]), w = want[i]
        let ok: Bool
        if w.isNaN {
            ok = g.isNaN
        } else if w.isInfinite {
            ok = g == w
        } else {
            ok = abs(g - w) <= atol + rtol * abs(w)
        }
        if !ok {
            bad += 1
            if first < 0 { first = i }
        }
    }
    if bad > 0 {
        Issue.record("\(context()): \(bad) of \(got.count) differ; first at \(first): got \(got[first]), want \(want[first])",
                     sourceLocation: sourceLocation)
    }
}

/// Exact comparison, NaN equal to NaN.
func expectKernelIdentical(_ got: [Float], _ want: [Float], _ context: @autoclosure () -> String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard got.count == want.count else {
        Issue.record("\(context()): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
        return
    }
    let bad = got.indices.filter { !(got[$0] == want[$0] || (got[$0].isNaN && want[$0].isNaN)) }
    if let first = bad.first {
        Issue.record("\(context()): \(bad.count) of \(got.count) differ; first at \(first): got \(got[first]), want \(want[first])",
                     sourceLocation: sourceLocation)
    }
}

/// Sentinel written into outputs before a call, to check that channels or rows outside the
/// requested range stay untouched.
let kernelSentinel: Float = -12345.5

/// A window geometry plus the bottom/right padding that ck_window leaves implicit.
struct KernelGeometry: CustomStringConvertible {
    var channels, inH, inW, kH, kW, strideH, strideW, dilH, dilW: Int
    var padTop, padLeft, padBottom, padRight: Int
    var outH, outW: Int

    var window: ck_window {
        ck_window(channels: Int32(channels), in_h: Int32(inH), in_w: Int32(inW),
                  out_h: Int32(outH), out_w: Int32(outW), kernel_h: Int32(kH), kernel_w: Int32(kW),
                  stride_h: Int32(strideH), stride_w: Int32(strideW),
                  pad_top: Int32(padTop), pad_left: Int32(padLeft),
                  dilation_h: Int32(dilH), dilation_w: Int32(dilW))
    }

    var description: String {
        "C\(channels) \(inH)x\(inW) k\(kH)x\(kW) s\(strideH),\(strideW) d\(dilH),\(dilW) " +
            "pads t\(padTop) l\(padLeft) b\(padBottom) r\(padRight) -> \(outH)x\(outW)"
    }

    /// Output length of one axis, ONNX floor or ceil mode; nil when no output fits.
    static func outputLength(size: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int,
                             padEnd: Int, ceilMode: Bool) -> Int? {
        let span = size + padBegin + padEnd - ((kernel - 1) * dilation + 1)
        guard span >= 0 else { return nil }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        // ONNX/PyTorch ceil mode: the last window must start inside the image or left padding.
        if ceilMode && (out - 1) * stride >= size + padBegin { out -= 1 }
        return out
    }

    /// A random geometry; nil when the draw leaves no output.
    static func random(_ rng: inout KernelRNG, channels: Int, sizes: [Int], kernels: [(Int, Int)],
                       strides: [Int], dilations: [Int], ceilMode: Bool = false,
                       padsBelowKernel: Bool = false) -> KernelGeometry? {
        let (kh, kw) = rng.pick(kernels)
        let sh = rng.pick(strides), sw = rng.pick(strides)
        let dh = rng.pick(dilations), dw = rng.pick(dilations)
        let inH = rng.pick(sizes), inW = rng.pick(sizes)
        let maxPadH = padsBelowKernel ? kh - 1 : (kh - 1) * dh
        let maxPadW = padsBelowKernel ? kw - 1 : (kw - 1) * dw
        let pt = rng.int(0...maxPadH), pb = rng.int(0...maxPadH)
        let pl = rng.int(0...maxPadW), pr = rng.int(0...maxPadW)
        guard let oh = outputLength(size: inH, kernel: kh, stride: sh, dilation: dh, padBegin: pt, padEnd: pb, ceilMode: ceilMode),
              let ow = outputLength(size: inW, kernel: kw, stride: sw, dilation: dw, padBegin: pl, padEnd: pr, ceilMode: ceilMode)
        else { return nil }
        return KernelGeometry(channels: channels, inH: inH, inW: inW, kH: kh, kW: kw,
                              strideH: sh, strideW: sw, dilH: dh, dilW: dw,
                              padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
                              outH: oh, outW: ow)
    }
}
