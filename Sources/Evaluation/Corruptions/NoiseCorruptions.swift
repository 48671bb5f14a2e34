/// Per-sample noise: gaussian, shot (Poisson), impulse (salt and pepper) and speckle.
/// Every channel of every pixel draws independently, as in the package.
enum NoiseCorruptions {
    /// Standard deviation of the added noise, in units of full scale.
    static let gaussianSigma = [0.08, 0.12, 0.18, 0.26, 0.38]
    /// Photons per full-scale level: fewer photons, more shot noise.
    static let shotPhotons = [60.0, 25, 12, 5, 3]
    /// Share of samples replaced by 0 or 255 (half each).
    static let impulseAmount = [0.03, 0.06, 0.09, 0.17, 0.27]
    /// Standard deviation of the multiplicative noise.
    static let speckleSigma = [0.15, 0.2, 0.35, 0.45, 0.6]

    static func gaussian(_ rgb: inout [UInt8], level: Int, random: inout CorruptionRandom) {
        let sigma = gaussianSigma[level]
        for i in rgb.indices {
            rgb[i] = PixelStore.fromUnit(Double(rgb[i]) / 255 + sigma * random.normal())
        }
    }

    static func shot(_ rgb: inout [UInt8], level: Int, random: inout CorruptionRandom) {
        let photons = shotPhotons[level]
        for i in rgb.indices {
            let count = random.poisson(Double(rgb[i]) / 255 * photons)
            rgb[i] = PixelStore.fromUnit(Double(count) / photons)
        }
    }

    static func impulse(_ rgb: inout [UInt8], level: Int, random: inout CorruptionRandom) {
        let amount = impulseAmount[level]
        for i in rgb.indices {
            // skimage draws "flipped" and "salt" as two independent masks.
            let flipped = random.unit() < amount
            let salt = random.unit() < 0.5
            rgb[i] = flipped ? (salt ? 255 : 0) : PixelStore.fromUnit(Double(rgb[i]) / 255)
        }
    }

    static func speckle(_ rgb: inout [UInt8], level: Int, random: inout CorruptionRandom) {
        let sigma = speckleSigma[level]
        for i in rgb.indices {
            let x = Double(rgb[i]) / 255
            rgb[i] = PixelStore.fromUnit(x + x * (sigma * random.normal()))
        }
    }
}
