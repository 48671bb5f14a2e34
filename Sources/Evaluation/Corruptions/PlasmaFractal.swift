/// The diamond-square height map behind fog: a toroidal `size`x`size` grid (size a power of
/// two) filled coarse to fine, each new point the mean of its four neighbours plus noise whose
/// amplitude shrinks by `decay` per level, then scaled to [0, 1].
enum PlasmaFractal {
    static func map(size: Int, decay: Double, random: inout CorruptionRandom) -> [Double] {
        precondition(size > 0 && size & (size - 1) == 0, "plasma map size must be a power of two")
        var m = [Double](repeating: 0, count: size * size)
        var step = size
        var wibble = 100.0
        // The package scales uniform(-wibble, wibble) by wibble again: noise of wibble^2.
        func noisy(_ sum: Double, _ random: inout CorruptionRandom) -> Double {
            sum / 4 + wibble * random.uniform(-wibble, wibble)
        }
        while step >= 2 {
            let half = step / 2
            // Squares: centres from the four corners.
            for y in stride(from: 0, to: size, by: step) {
                for x in stride(from: 0, to: size, by: step) {
                    let y1 = (y + step) % size, x1 = (x + step) % size
                    let sum = (m[y * size + x] + m[y1 * size + x]) + (m[y * size + x1] + m[y1 * size + x1])
                    m[(y + half) * size + x + half] = noisy(sum, &random)
                }
            }
            // Diamonds: the midpoints of the top and left edges of every square, each from the
            // two centres and two corners around it.
            for y in stride(from: 0, to: size, by: step) {
                for x in stride(from: 0, to: size, by: step) {
                    let above = (y - half + size) % size
                    let sum = (m[(y + half) * size + x + half] + m[above * size + x + half])
                        + (m[y * size + x] + m[y * size + (x + step) % size])
                    m[y * size + x + half] = noisy(sum, &random)
                }
            }
            for y in stride(from: 0, to: size, by: step) {
                for x in stride(from: 0, to: size, by: step) {
                    let left = (x - half + size) % size
                    let sum = (m[(y + half) * size + x + half] + m[(y + half) * size + left])
                        + (m[y * size + x] + m[((y + step) % size) * size + x])
                    m[(y + half) * size + x] = noisy(sum, &random)
                }
            }
            step /= 2
            wibble /= decay
        }
        let low = m.min() ?? 0
        for i in m.indices { m[i] -= low }
        let high = m.max() ?? 1
        if high > 0 { for i in m.indices { m[i] /= high } }
        return m
    }
}
