import Foundation

/// A procedural stand-in for the package's frost photographs: ridged multi-octave value noise
/// (a mottled ice film) with short faint needles drawn all over it (the crystals), ranked and
/// mapped through the per-channel quantiles of a crop of one photograph (`FrostProfiles`). The
/// blend in `WeatherCorruptions.frost` only sees each channel's value distribution, which is
/// that crop's, so its PSNR follows the package's; the spatial pattern is ours.
enum FrostTexture {
    /// Cell sizes of the noise octaves, coarse to fine, and the weight of each.
    private static let octaves: [(cell: Int, weight: Double)] = [(48, 1), (24, 0.6), (12, 0.36), (6, 0.22), (3, 0.13)]

    /// `width * height * 3` interleaved levels (0...255) following `profile` (R, G, B quantiles).
    static func make(width: Int, height: Int, profile: [[Float]], random: inout CorruptionRandom) -> [Double] {
        let count = width * height
        var field = [Double](repeating: 0, count: count)
        for octave in octaves {
            let cols = width / octave.cell + 2, rows = height / octave.cell + 2
            let lattice = (0..<(cols * rows)).map { _ in random.unit() }
            // A random sub-cell offset per octave so the lattices of different octaves do not align.
            let offsetX = random.unit() * Double(octave.cell), offsetY = random.unit() * Double(octave.cell)
            for y in 0..<height {
                let gy = (Double(y) + offsetY) / Double(octave.cell)
                let y0 = min(Int(gy), rows - 2)
                let ty = smooth(gy - Double(y0))
                for x in 0..<width {
                    let gx = (Double(x) + offsetX) / Double(octave.cell)
                    let x0 = min(Int(gx), cols - 2)
                    let tx = smooth(gx - Double(x0))
                    let top = lattice[y0 * cols + x0] * (1 - tx) + lattice[y0 * cols + x0 + 1] * tx
                    let bottom = lattice[(y0 + 1) * cols + x0] * (1 - tx) + lattice[(y0 + 1) * cols + x0 + 1] * tx
                    let n = top * (1 - ty) + bottom * ty
                    // Ridges: bright where the noise crosses its middle value.
                    field[y * width + x] += octave.weight * (1 - abs(2 * n - 1))
                }
            }
        }
        drawNeedles(into: &field, width: width, height: height, random: &random)
        // Ranks give every pixel a uniform probability; the quantiles turn it into the photograph's colours.
        let order = (0..<count).sorted { field[$0] < field[$1] || (field[$0] == field[$1] && $0 < $1) }
        var out = [Double](repeating: 0, count: count * 3)
        let last = Double(profile[0].count - 1)
        for (rank, pixel) in order.enumerated() {
            let position = (Double(rank) + 0.5) / Double(count) * last
            let i = min(Int(position), Int(last) - 1)
            let t = position - Double(i)
            for c in 0..<3 {
                let q = profile[c]
                out[pixel * 3 + c] = Double(q[i]) * (1 - t) + Double(q[i + 1]) * t
            }
        }
        return out
    }

    /// Short straight needles everywhere, faint each, their direction drifting slowly across
    /// the frame (frost grows in locally aligned streaks).
    private static func drawNeedles(into field: inout [Double], width: Int, height: Int,
                                    random: inout CorruptionRandom) {
        let drift = (0..<9).map { _ in random.unit() * 2 * Double.pi }
        for _ in 0..<(width * height / 30) {
            let x0 = random.unit() * Double(width), y0 = random.unit() * Double(height)
            // The local direction: a bilinear blend of nine random angles on a 3x3 grid.
            let gx = x0 / Double(width) * 2, gy = y0 / Double(height) * 2
            let ix = min(Int(gx), 1), iy = min(Int(gy), 1)
            let tx = gx - Double(ix), ty = gy - Double(iy)
            let base = (drift[iy * 3 + ix] * (1 - tx) + drift[iy * 3 + ix + 1] * tx) * (1 - ty)
                + (drift[(iy + 1) * 3 + ix] * (1 - tx) + drift[(iy + 1) * 3 + ix + 1] * tx) * ty
            let angle = base + random.uniform(-0.5, 0.5)
            let length = random.uniform(4, 24)
            let strength = random.uniform(0.1, 0.4)
            let (dx, dy) = (Foundation.cos(angle), Foundation.sin(angle))
            var t = 0.0
            while t < length {
                let x = Int(x0 + dx * t), y = Int(y0 + dy * t)
                if x >= 0, y >= 0, x < width, y < height { field[y * width + x] += strength }
                t += 0.7
            }
        }
    }

    private static func smooth(_ t: Double) -> Double { t * t * (3 - 2 * t) }
}
