import Glibc

/// The road's centreline as a smooth function of distance z along the drive: a sum of a
/// few long sinusoids with seeded wavelengths and phases, kept gentle enough that the
/// curvature stays within what the domain's roads allow.
struct RoadCurve {
    private var amplitudes: (Double, Double, Double) = (0, 0, 0)
    private var wavenumbers: (Double, Double, Double) = (1, 1, 1)
    private var phases: (Double, Double, Double) = (0, 0, 0)

    /// A straight road along z = 0.
    static let straight = RoadCurve()

    private init() {}

    /// Curves whose radius stays above roughly `minimumRadius` metres.
    init(seed: UInt64, minimumRadius: Double, wavelengths: ClosedRange<Double>) {
        var rng = SceneRandom(sceneHash(seed, SceneSalt.curve.rawValue))
        var a = [Double](), k = [Double](), p = [Double]()
        for _ in 0..<3 {
            let wavelength = rng.uniform(wavelengths.lowerBound, wavelengths.upperBound)
            let wavenumber = 2 * Double.pi / wavelength
            // Curvature of A sin(kz) peaks at A k^2; three terms share the budget.
            let maxAmplitude = 1 / (3 * minimumRadius * wavenumber * wavenumber)
            a.append(rng.uniform(0.3, 1.0) * maxAmplitude)
            k.append(wavenumber)
            p.append(rng.uniform(0, 2 * Double.pi))
        }
        amplitudes = (a[0], a[1], a[2])
        wavenumbers = (k[0], k[1], k[2])
        phases = (p[0], p[1], p[2])
    }

    /// Lateral position of the centreline at distance z.
    @inline(__always)
    func x(at z: Double) -> Double {
        amplitudes.0 * sin(wavenumbers.0 * z + phases.0)
            + amplitudes.1 * sin(wavenumbers.1 * z + phases.1)
            + amplitudes.2 * sin(wavenumbers.2 * z + phases.2)
    }

    /// dx/dz of the centreline at distance z.
    @inline(__always)
    func slope(at z: Double) -> Double {
        amplitudes.0 * wavenumbers.0 * cos(wavenumbers.0 * z + phases.0)
            + amplitudes.1 * wavenumbers.1 * cos(wavenumbers.1 * z + phases.1)
            + amplitudes.2 * wavenumbers.2 * cos(wavenumbers.2 * z + phases.2)
    }
}
