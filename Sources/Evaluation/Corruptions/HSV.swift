/// skimage's `rgb2hsv` and `hsv2rgb` for one pixel in [0, 1], including its tie rule
/// (blue beats green beats red when two channels share the maximum).
enum HSV {
    static func fromRGB(_ r: Double, _ g: Double, _ b: Double) -> (h: Double, s: Double, v: Double) {
        let v = max(r, g, b)
        let delta = v - min(r, g, b)
        guard delta != 0 else { return (0, 0, v) }
        var h6: Double
        if b == v {
            h6 = 4 + (r - g) / delta
        } else if g == v {
            h6 = 2 + (b - r) / delta
        } else {
            h6 = (g - b) / delta
        }
        h6 /= 6
        // numpy's % takes the sign of the divisor.
        var h = h6.truncatingRemainder(dividingBy: 1)
        if h < 0 { h += 1 }
        return (h, delta / v, v)
    }

    static func toRGB(_ h: Double, _ s: Double, _ v: Double) -> (r: Double, g: Double, b: Double) {
        let hi = (h * 6).rounded(.down)
        let f = h * 6 - hi
        let p = v * (1 - s)
        let q = v * (1 - f * s)
        let t = v * (1 - (1 - f) * s)
        switch Int(UInt8(truncatingIfNeeded: Int(hi))) % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}
