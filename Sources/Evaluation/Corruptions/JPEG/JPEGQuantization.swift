/// Baseline JPEG quantisation as libjpeg(-turbo) does it: the Annex K tables scaled by
/// `jpeg_set_quality` (Pillow passes force_baseline, so entries stop at 255), and the
/// encoder's divide-with-rounding done by reciprocal multiplication.
struct JPEGQuantization {
    /// ITU T.81 Annex K luminance table, row-major (natural order).
    static let luminanceBase: [Int32] = [
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99,
    ]
    /// ITU T.81 Annex K chrominance table.
    static let chrominanceBase: [Int32] = [
        17, 18, 24, 47, 99, 99, 99, 99,
        18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
    ]

    /// The 64 quantiser steps.
    let steps: [Int32]
    private let reciprocal: [UInt32]
    private let correction: [UInt32]
    private let shift: [UInt32]

    /// `jpeg_set_quality(quality, force_baseline: true)` applied to `base`.
    init(base: [Int32], quality: Int) {
        let q = min(max(quality, 1), 100)
        let scale = q < 50 ? 5000 / q : 200 - 2 * q
        steps = base.map { b in min(max((b * Int32(scale) + 50) / 100, 1), 255) }
        var reciprocal = [UInt32](repeating: 0, count: 64)
        var correction = [UInt32](repeating: 0, count: 64)
        var shift = [UInt32](repeating: 0, count: 64)
        for i in 0..<64 {
            // The islow DCT leaves its output 8x too large, so the divisor is step * 8.
            (reciprocal[i], correction[i], shift[i]) = Self.reciprocal(UInt32(steps[i]) << 3)
        }
        self.reciprocal = reciprocal
        self.correction = correction
        self.shift = shift
    }

    /// libjpeg-turbo's `compute_reciprocal` for 16-bit DCT elements: after it,
    /// `(x + correction) * reciprocal >> shift` is `x / divisor` rounded half up.
    private static func reciprocal(_ divisor: UInt32) -> (UInt32, UInt32, UInt32) {
        let b = 31 - UInt32(divisor.leadingZeroBitCount)
        var r = 16 + b
        var fq = (UInt32(1) << r) / divisor
        let fr = (UInt32(1) << r) % divisor
        var c = divisor / 2
        if fr == 0 {
            fq >>= 1
            r -= 1
        } else if fr <= divisor / 2 {
            c += 1
        } else {
            fq += 1
        }
        return (fq, c, r)
    }

    /// Quantises one block of DCT output (in place, natural order).
    func quantize(_ block: inout [Int32]) {
        for i in 0..<64 {
            let v = block[i]
            let magnitude = UInt32(v < 0 ? -v : v)
            let q = Int32(((magnitude + correction[i]) &* reciprocal[i]) >> shift[i])
            block[i] = v < 0 ? -q : q
        }
    }
}
