/// libjpeg's "islow" 8x8 DCT pair (Loeffler-Ligtenberg-Moschytz, 13-bit fixed-point
/// constants, 2 extra bits between passes), the one Pillow's encoder and decoder use by
/// default. Written out here because PSNR agreement needs its exact rounding, which a
/// float DCT does not give.
enum JPEGDCT {
    private static let constBits: Int32 = 13
    private static let pass1Bits: Int32 = 2
    private static let c0_298631336: Int32 = 2446
    private static let c0_390180644: Int32 = 3196
    private static let c0_541196100: Int32 = 4433
    private static let c0_765366865: Int32 = 6270
    private static let c0_899976223: Int32 = 7373
    private static let c1_175875602: Int32 = 9633
    private static let c1_501321110: Int32 = 12299
    private static let c1_847759065: Int32 = 15137
    private static let c1_961570560: Int32 = 16069
    private static let c2_053119869: Int32 = 16819
    private static let c2_562915447: Int32 = 20995
    private static let c3_072711026: Int32 = 25172

    /// Rounding right shift (libjpeg's DESCALE; arithmetic shift, so it floors).
    @inline(__always)
    private static func descale(_ x: Int32, _ n: Int32) -> Int32 { (x + (1 << (n - 1))) >> n }

    /// Forward DCT of 64 level-shifted samples (sample - 128), in place; output is 8x a true DCT.
    static func forward(_ d: inout [Int32]) {
        for pass in 0..<2 {
            for line in 0..<8 {
                // Rows first, then columns.
                let base = pass == 0 ? line * 8 : line
                let step = pass == 0 ? 1 : 8
                @inline(__always) func at(_ k: Int) -> Int32 { d[base + k * step] }
                let tmp0 = at(0) + at(7), tmp7 = at(0) - at(7)
                let tmp1 = at(1) + at(6), tmp6 = at(1) - at(6)
                let tmp2 = at(2) + at(5), tmp5 = at(2) - at(5)
                let tmp3 = at(3) + at(4), tmp4 = at(3) - at(4)
                let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3
                let tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
                let evenShift = pass == 0 ? constBits - pass1Bits : constBits + pass1Bits
                if pass == 0 {
                    d[base] = (tmp10 + tmp11) << pass1Bits
                    d[base + 4 * step] = (tmp10 - tmp11) << pass1Bits
                } else {
                    d[base] = descale(tmp10 + tmp11, pass1Bits)
                    d[base + 4 * step] = descale(tmp10 - tmp11, pass1Bits)
                }
                let z1 = (tmp12 + tmp13) * c0_541196100
                d[base + 2 * step] = descale(z1 + tmp13 * c0_765366865, evenShift)
                d[base + 6 * step] = descale(z1 + tmp12 * -c1_847759065, evenShift)

                let z5 = (tmp4 + tmp6 + tmp5 + tmp7) * c1_175875602
                let a4 = tmp4 * c0_298631336, a5 = tmp5 * c2_053119869
                let a6 = tmp6 * c3_072711026, a7 = tmp7 * c1_501321110
                let o1 = (tmp4 + tmp7) * -c0_899976223
                let o2 = (tmp5 + tmp6) * -c2_562915447
                let o3 = (tmp4 + tmp6) * -c1_961570560 + z5
                let o4 = (tmp5 + tmp7) * -c0_390180644 + z5
                d[base + 7 * step] = descale(a4 + o1 + o3, evenShift)
                d[base + 5 * step] = descale(a5 + o2 + o4, evenShift)
                d[base + 3 * step] = descale(a6 + o2 + o3, evenShift)
                d[base + 1 * step] = descale(a7 + o1 + o4, evenShift)
            }
        }
    }

    /// libjpeg's post-IDCT range limit: `table[v & 1023]` is `clamp(v + 128, 0, 255)` for
    /// |v| < 512 and wraps beyond, as the library's does.
    static let rangeLimit: [UInt8] = (0..<1024).map { i in
        switch i {
        case 0..<128: UInt8(i + 128)
        case 128..<512: 255
        case 512..<896: 0
        default: UInt8(i - 896)
        }
    }

    /// Dequantises and inverse-transforms one block of coefficients into 64 samples.
    static func inverse(_ coefficients: [Int32], steps: [Int32], into out: inout [UInt8]) {
        var ws = [Int32](repeating: 0, count: 64)
        // Columns: coefficients times steps, results scaled up by pass1Bits.
        for col in 0..<8 {
            @inline(__always) func c(_ k: Int) -> Int32 { coefficients[k * 8 + col] * steps[k * 8 + col] }
            let even = evenPart(c(0), c(2), c(4), c(6))
            let odd = oddPart(c(1), c(3), c(5), c(7))
            let shift = constBits - pass1Bits
            ws[0 * 8 + col] = descale(even.0 + odd.3, shift)
            ws[7 * 8 + col] = descale(even.0 - odd.3, shift)
            ws[1 * 8 + col] = descale(even.1 + odd.2, shift)
            ws[6 * 8 + col] = descale(even.1 - odd.2, shift)
            ws[2 * 8 + col] = descale(even.2 + odd.1, shift)
            ws[5 * 8 + col] = descale(even.2 - odd.1, shift)
            ws[3 * 8 + col] = descale(even.3 + odd.0, shift)
            ws[4 * 8 + col] = descale(even.3 - odd.0, shift)
        }
        // Rows: back to samples, +128 and clamped through the range-limit table.
        for row in 0..<8 {
            let r = row * 8
            let even = evenPart(ws[r], ws[r + 2], ws[r + 4], ws[r + 6])
            let odd = oddPart(ws[r + 1], ws[r + 3], ws[r + 5], ws[r + 7])
            let shift = constBits + pass1Bits + 3
            @inline(__always) func limit(_ v: Int32) -> UInt8 { rangeLimit[Int(descale(v, shift) & 1023)] }
            out[r + 0] = limit(even.0 + odd.3)
            out[r + 7] = limit(even.0 - odd.3)
            out[r + 1] = limit(even.1 + odd.2)
            out[r + 6] = limit(even.1 - odd.2)
            out[r + 2] = limit(even.2 + odd.1)
            out[r + 5] = limit(even.2 - odd.1)
            out[r + 3] = limit(even.3 + odd.0)
            out[r + 4] = limit(even.3 - odd.0)
        }
    }

    /// Even half of the 1-D IDCT: (tmp10, tmp11, tmp12, tmp13), scaled by 2^constBits.
    @inline(__always)
    private static func evenPart(_ x0: Int32, _ x2: Int32, _ x4: Int32, _ x6: Int32) -> (Int32, Int32, Int32, Int32) {
        let z1 = (x2 + x6) * c0_541196100
        let tmp2 = z1 + x6 * -c1_847759065
        let tmp3 = z1 + x2 * c0_765366865
        let tmp0 = (x0 + x4) << constBits
        let tmp1 = (x0 - x4) << constBits
        return (tmp0 + tmp3, tmp1 + tmp2, tmp1 - tmp2, tmp0 - tmp3)
    }

    /// Odd half of the 1-D IDCT: (tmp0, tmp1, tmp2, tmp3) of libjpeg, for inputs 7, 5, 3, 1 paired with outputs.
    @inline(__always)
    private static func oddPart(_ x1: Int32, _ x3: Int32, _ x5: Int32, _ x7: Int32) -> (Int32, Int32, Int32, Int32) {
        let z1 = x7 + x1, z2 = x5 + x3, z3 = x7 + x3, z4 = x5 + x1
        let z5 = (z3 + z4) * c1_175875602
        let t0 = x7 * c0_298631336, t1 = x5 * c2_053119869
        let t2 = x3 * c3_072711026, t3 = x1 * c1_501321110
        let m1 = z1 * -c0_899976223, m2 = z2 * -c2_562915447
        let m3 = z3 * -c1_961570560 + z5, m4 = z4 * -c0_390180644 + z5
        return (t0 + m1 + m3, t1 + m2 + m4, t2 + m2 + m3, t3 + m1 + m4)
    }
}
