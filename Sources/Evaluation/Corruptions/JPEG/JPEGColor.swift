/// libjpeg's 16-bit fixed-point RGB <-> YCbCr (JFIF, full range) tables.
enum JPEGColor {
    private static let scaleBits: Int32 = 16
    private static let half: Int32 = 1 << 15

    private static func fix(_ x: Double) -> Int32 { Int32(x * 65536 + 0.5) }

    private static let rY = (0..<256).map { fix(0.29900) * Int32($0) }
    private static let gY = (0..<256).map { fix(0.58700) * Int32($0) }
    private static let bY = (0..<256).map { fix(0.11400) * Int32($0) + half }
    private static let rCb = (0..<256).map { -fix(0.16874) * Int32($0) }
    private static let gCb = (0..<256).map { -fix(0.33126) * Int32($0) }
    // B => Cb and R => Cr share one table; the "- 1" keeps 255 from rounding to 256.
    private static let bCbrCr = (0..<256).map { fix(0.5) * Int32($0) + (128 << 16) + half - 1 }
    private static let gCr = (0..<256).map { -fix(0.41869) * Int32($0) }
    private static let bCr = (0..<256).map { -fix(0.08131) * Int32($0) }

    /// Encoder side: one RGB pixel to (Y, Cb, Cr).
    @inline(__always)
    static func ycc(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (UInt8, UInt8, UInt8) {
        let (r, g, b) = (Int(r), Int(g), Int(b))
        let y = (rY[r] + gY[g] + bY[b]) >> scaleBits
        let cb = (rCb[r] + gCb[g] + bCbrCr[b]) >> scaleBits
        let cr = (bCbrCr[r] + gCr[g] + bCr[b]) >> scaleBits
        return (UInt8(y), UInt8(cb), UInt8(cr))
    }

    private static let crR = (0..<256).map { (fix(1.40200) * Int32($0 - 128) + half) >> scaleBits }
    private static let cbB = (0..<256).map { (fix(1.77200) * Int32($0 - 128) + half) >> scaleBits }
    private static let crG = (0..<256).map { -fix(0.71414) * Int32($0 - 128) }
    private static let cbG = (0..<256).map { -fix(0.34414) * Int32($0 - 128) + half }

    @inline(__always)
    private static func clamp(_ v: Int32) -> UInt8 { v < 0 ? 0 : v > 255 ? 255 : UInt8(v) }

    /// Decoder side: (Y, Cb, Cr) to RGB, clamped as libjpeg's range-limit table does.
    @inline(__always)
    static func rgb(_ y: UInt8, _ cb: UInt8, _ cr: UInt8) -> (UInt8, UInt8, UInt8) {
        let y = Int32(y), cb = Int(cb), cr = Int(cr)
        return (clamp(y + crR[cr]), clamp(y + ((cbG[cb] + crG[cr]) >> scaleBits)), clamp(y + cbB[cb]))
    }
}
