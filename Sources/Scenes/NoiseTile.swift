/// A square, tileable field of fractal value noise, precomputed once so that texturing a
/// pixel costs a table lookup instead of evaluating noise. Values are roughly in [-1, 1]
/// with zero mean.
final class NoiseTile {
    /// Side length in texels (a power of two, so wrapping is a mask).
    let size: Int
    private let mask: Int
    let values: UnsafeMutablePointer<Float>

    /// Builds `octaves` layers of smoothly interpolated lattice noise; the coarsest layer
    /// has `baseCells` lattice cells across the tile, each next layer twice as many at
    /// `persistence` times the amplitude.
    init(seed: UInt64, sizeLog2: Int = 8, baseCells: Int = 4, octaves: Int = 5, persistence: Float = 0.5) {
        size = 1 << sizeLog2
        mask = size - 1
        values = .allocate(capacity: size * size)
        values.initialize(repeating: 0, count: size * size)
        var amplitude: Float = 1
        var cells = baseCells
        for octave in 0..<octaves where cells <= size {
            let lattice = (0..<(cells * cells)).map { index -> Float in
                let h = sceneHash(seed, UInt64(octave), UInt64(index))
                return Float(Double(h >> 11) * 0x1.0p-53) * 2 - 1
            }
            let texelsPerCell = Float(cells) / Float(size)
            for y in 0..<size {
                let fy = Float(y) * texelsPerCell
                let y0 = Int(fy)
                let ty = smooth(fy - Float(y0))
                let y1 = (y0 + 1) % cells
                for x in 0..<size {
                    let fx = Float(x) * texelsPerCell
                    let x0 = Int(fx)
                    let tx = smooth(fx - Float(x0))
                    let x1 = (x0 + 1) % cells
                    let top = lattice[y0 * cells + x0] + (lattice[y0 * cells + x1] - lattice[y0 * cells + x0]) * tx
                    let bottom = lattice[y1 * cells + x0] + (lattice[y1 * cells + x1] - lattice[y1 * cells + x0]) * tx
                    values[y * size + x] += amplitude * (top + (bottom - top) * ty)
                }
            }
            amplitude *= persistence
            cells *= 2
        }
        // Normalise so the tile spans about [-1, 1] whatever the octave count.
        var mean: Float = 0
        for i in 0..<(size * size) { mean += values[i] }
        mean /= Float(size * size)
        var peak: Float = 1e-6
        for i in 0..<(size * size) { peak = max(peak, abs(values[i] - mean)) }
        let scale = 1 / peak
        for i in 0..<(size * size) { values[i] = (values[i] - mean) * scale }
    }

    deinit { values.deallocate() }

    /// Bilinear sample at texel coordinates (wrapping).
    @inline(__always)
    func sample(_ x: Float, _ y: Float) -> Float {
        let fx = x.rounded(.down)
        let fy = y.rounded(.down)
        let tx = x - fx
        let ty = y - fy
        let ix = Int(Int32(clampingFloat: fx)) & mask
        let iy = Int(Int32(clampingFloat: fy)) & mask
        let ix1 = (ix + 1) & mask
        let iy1 = (iy + 1) & mask
        let a = values[iy * size + ix]
        let b = values[iy * size + ix1]
        let c = values[iy1 * size + ix]
        let d = values[iy1 * size + ix1]
        let top = a + (b - a) * tx
        let bottom = c + (d - c) * tx
        return top + (bottom - top) * ty
    }

    /// Nearest-texel sample at texel coordinates (wrapping); cheaper, for fine grain.
    @inline(__always)
    func nearest(_ x: Float, _ y: Float) -> Float {
        let ix = Int(Int32(clampingFloat: x.rounded(.down))) & mask
        let iy = Int(Int32(clampingFloat: y.rounded(.down))) & mask
        return values[iy * size + ix]
    }
}

@inline(__always)
private func smooth(_ t: Float) -> Float { t * t * (3 - 2 * t) }

extension Int32 {
    /// Converts a float to Int32, saturating out-of-range values and mapping NaN to 0
    /// (a plain `Int32(x)` traps on those).
    @inline(__always)
    init(clampingFloat x: Float) {
        if x.isNaN { self = 0; return }
        if x >= 2_147_483_520 { self = .max; return }
        if x <= -2_147_483_520 { self = .min; return }
        self = Int32(x)
    }
}
