import Evaluation
import Testing

/// Same seed, same bytes; another seed, other bytes (for the random corruptions only); and the
/// argument checks.
@Suite struct CorruptionDeterminismTests {
    @Test(arguments: Corruption.allCases)
    func seedDecidesTheOutput(_ corruption: Corruption) throws {
        let fixtures = try CorruptionFixtures.shared.get()
        let frame = fixtures.frames[0]
        func corrupted(seed: UInt64) throws -> [UInt8] {
            var image = frame
            try corruption.apply(to: &image, width: fixtures.width, height: fixtures.height, severity: 3, seed: seed)
            return image
        }
        let first = try corrupted(seed: 7)
        #expect(first != frame, "\(corruption.name) left the frame unchanged")
        #expect(try corrupted(seed: 7) == first, "\(corruption.name) is not deterministic for one seed")
        if corruption.isRandom {
            #expect(try corrupted(seed: 8) != first, "\(corruption.name) ignores its seed")
        } else {
            #expect(try corrupted(seed: 8) == first, "\(corruption.name) should not depend on the seed")
        }
    }

    @Test func namesAreThePackages() {
        #expect(Corruption.allCases.count == 19)
        #expect(Corruption(name: "gaussian_noise") == .gaussianNoise)
        #expect(Corruption(name: "jpeg_compression") == .jpegCompression)
        #expect(Corruption(name: "Gaussian_Noise") == nil)
        #expect(Corruption(name: "rain") == nil)
        #expect(Corruption.allCases.filter { $0.family == .extra }.map(\.name)
            == ["speckle_noise", "gaussian_blur", "spatter", "saturate"])
    }

    @Test func badArgumentsThrow() {
        var small = [UInt8](repeating: 128, count: 16 * 16 * 3)
        #expect(throws: CorruptionError.tooSmall(width: 16, height: 16)) {
            try Corruption.fog.apply(to: &small, width: 16, height: 16, severity: 1, seed: 0)
        }
        var image = [UInt8](repeating: 128, count: 32 * 32 * 3)
        #expect(throws: CorruptionError.severity(6)) {
            try Corruption.fog.apply(to: &image, width: 32, height: 32, severity: 6, seed: 0)
        }
        #expect(throws: CorruptionError.severity(0)) {
            try Corruption.fog.apply(to: &image, width: 32, height: 32, severity: 0, seed: 0)
        }
        #expect(throws: CorruptionError.geometry(bytes: 32 * 32 * 3, width: 32, height: 33)) {
            try Corruption.fog.apply(to: &image, width: 32, height: 33, severity: 1, seed: 0)
        }
    }

    /// Odd sizes exercise every edge rule (JPEG padding, pixelate rounding, zoom crops).
    @Test(arguments: Corruption.allCases)
    func oddSizesWork(_ corruption: Corruption) throws {
        let (width, height) = (37, 33)
        var image = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 97) }
        try corruption.apply(to: &image, width: width, height: height, severity: 5, seed: 3)
        #expect(image.count == width * height * 3)
    }
}
