/// fp32 exp and log built only from add, multiply, divide, compare/select and integer bit
/// operations, so loops that call them auto-vectorise (a libm call would keep every loop
/// scalar). Both are within a few ulp of the correctly rounded result over the ranges used.
enum FastMath {
    // ln 2 split so that n·ln2Hi is exact for |n| < 2^9 (Cody–Waite reduction).
    static let ln2Hi: Float = 0.693145751953125
    static let ln2Lo: Float = 1.428606765330187e-06
    /// Smallest normal float: log's argument floor, so p·ln p stays finite and is 0 at p = 0.
    static let smallestNormal: Float = .leastNormalMagnitude

    /// e^x; exactly 0 below −87 (true values there are < 1.7e-38 and only ever summed), e^88 above 88.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = x < -87 ? -87 : (x > 88 ? 88 : x)
        // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits; no float→int
        // conversion (which would trap on range checks and not vectorise) is needed.
        let shifter: Float = 12_582_912
        let shifted = clamped * 1.44269502 + shifter
        let n = shifted - shifter
        let r = (clamped - n * ln2Hi) - n * ln2Lo
        // Taylor series of e^r to degree 7: truncation < 5e-9 relative for |r| ≤ ln2/2.
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return x < -87 ? 0 : p * scale
    }

    /// ln x for positive normal x (callers clamp to `smallestNormal`).
    @inline(__always)
    static func log(_ x: Float) -> Float {
        let bits = x.bitPattern
        var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000)
        var e = Float(Int32(bitPattern: bits >> 23)) - 127
        let high = m > 1.41421354
        m = high ? m * 0.5 : m
        e = high ? e + 1 : e
        // ln(1+f) = 2 atanh(s), s = f/(2+f), |s| ≤ 0.172: the odd series to s^9 is below 3e-9.
        let f = m - 1
        let s = f / (2 + f)
        let s2 = s * s
        var q: Float = 1.0 / 9
        q = q * s2 + 1.0 / 7
        q = q * s2 + 1.0 / 5
        q = q * s2 + 1.0 / 3
        q = q * s2 + 1
        return e * ln2Hi + (e * ln2Lo + 2 * s * q)
    }

    /// p·ln p with 0·ln 0 = 0 (exactly 0 at p = 0, as the floor keeps ln finite).
    @inline(__always)
    static func xlogx(_ p: Float) -> Float {
        p * log(p > smallestNormal ? p : smallestNormal)
    }
}
