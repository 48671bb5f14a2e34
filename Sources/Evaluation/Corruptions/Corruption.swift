/// The 19 image corruptions of ImageNet-C and the `imagecorruptions` package (15 common ones
/// plus 4 held out for validation), at severities 1-5 with the package's parameters.
///
/// Every corruption works in place on interleaved RGB8 pixels. The random ones are driven by
/// `seed` alone: the same seed gives the same bytes. They follow the package statistically
/// (same distributions and parameters, not the same random numbers); the deterministic ones
/// follow it to within rounding. docs/evaluation.md has the measured agreement.
public enum Corruption: String, CaseIterable, Sendable {
    case gaussianNoise = "gaussian_noise"
    case shotNoise = "shot_noise"
    case impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur"
    case glassBlur = "glass_blur"
    case motionBlur = "motion_blur"
    case zoomBlur = "zoom_blur"
    case snow
    case frost
    case fog
    case brightness
    case contrast
    case elasticTransform = "elastic_transform"
    case pixelate
    case jpegCompression = "jpeg_compression"
    case speckleNoise = "speckle_noise"
    case gaussianBlur = "gaussian_blur"
    case spatter
    case saturate

    /// The corruption called `name` in the package (e.g. `gaussian_noise`), nil for others.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// The package's name, e.g. `gaussian_noise`.
    public var name: String { rawValue }

    /// Severities the package defines.
    public static let severities: ClosedRange<Int> = 1...5

    /// Smallest side the package accepts (its `corrupt` refuses smaller images).
    public static let minimumSide = 32

    /// The package's grouping: noise, blur, weather, digital; the last four are "extra".
    public var family: CorruptionFamily {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise: .noise
        case .defocusBlur, .glassBlur, .motionBlur, .zoomBlur: .blur
        case .snow, .frost, .fog, .brightness: .weather
        case .contrast, .elasticTransform, .pixelate, .jpegCompression: .digital
        case .speckleNoise, .gaussianBlur, .spatter, .saturate: .extra
        }
    }

    /// True when the output depends on the seed.
    public var isRandom: Bool {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise, .speckleNoise, .glassBlur, .motionBlur, .snow, .frost, .fog,
             .elasticTransform, .spatter:
            true
        case .defocusBlur, .zoomBlur, .brightness, .contrast, .pixelate, .jpegCompression, .gaussianBlur, .saturate:
            false
        }
    }

    /// Corrupts `rgb` (interleaved RGB8, `width * height * 3` bytes) in place.
    public func apply(to rgb: inout [UInt8], width: Int, height: Int, severity: Int,
                      seed: UInt64) throws(CorruptionError) {
        guard Corruption.severities.contains(severity) else { throw CorruptionError.severity(severity) }
        guard width >= Corruption.minimumSide, height >= Corruption.minimumSide else {
            throw CorruptionError.tooSmall(width: width, height: height)
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= Int.max / 3, rgb.count == pixels * 3 else {
            throw CorruptionError.geometry(bytes: rgb.count, width: width, height: height)
        }
        let image = RGBImage(width: width, height: height)
        var random = CorruptionRandom(seed: seed)
        let level = severity - 1
        switch self {
        case .gaussianNoise: NoiseCorruptions.gaussian(&rgb, level: level, random: &random)
        case .shotNoise: NoiseCorruptions.shot(&rgb, level: level, random: &random)
        case .impulseNoise: NoiseCorruptions.impulse(&rgb, level: level, random: &random)
        case .speckleNoise: NoiseCorruptions.speckle(&rgb, level: level, random: &random)
        case .defocusBlur: BlurCorruptions.defocus(&rgb, image, level: level)
        case .glassBlur: BlurCorruptions.glass(&rgb, image, level: level, random: &random)
        case .motionBlur: BlurCorruptions.motion(&rgb, image, level: level, random: &random)
        case .zoomBlur: BlurCorruptions.zoom(&rgb, image, level: level)
        case .gaussianBlur: BlurCorruptions.gaussian(&rgb, image, level: level)
        case .snow: WeatherCorruptions.snow(&rgb, image, level: level, random: &random)
        case .frost: WeatherCorruptions.frost(&rgb, image, level: level, random: &random)
        case .fog: WeatherCorruptions.fog(&rgb, image, level: level, random: &random)
        case .spatter: SpatterCorruption.apply(&rgb, image, level: level, random: &random)
        case .brightness: WeatherCorruptions.brightness(&rgb, level: level)
        case .contrast: DigitalCorruptions.contrast(&rgb, level: level)
        case .saturate: DigitalCorruptions.saturate(&rgb, level: level)
        case .elasticTransform: DigitalCorruptions.elastic(&rgb, image, level: level, random: &random)
        case .pixelate: DigitalCorruptions.pixelate(&rgb, image, level: level)
        case .jpegCompression: JPEGRoundTrip.apply(&rgb, image, quality: DigitalCorruptions.jpegQuality[level])
        }
    }
}

/// How the package groups its corruptions (`get_corruption_names(subset)`).
public enum CorruptionFamily: String, Sendable, CaseIterable {
    case noise, blur, weather, digital
    /// speckle_noise, gaussian_blur, spatter, saturate: the package's validation set.
    case extra
}

/// Why a corruption cannot be applied.
public enum CorruptionError: Error, Equatable, CustomStringConvertible {
    /// Severity outside 1...5.
    case severity(Int)
    /// A side shorter than `Corruption.minimumSide`.
    case tooSmall(width: Int, height: Int)
    /// The byte count is not `width * height * 3`.
    case geometry(bytes: Int, width: Int, height: Int)
    /// A frame encoding the corruptions cannot work on.
    case pixelFormat(String)

    public var description: String {
        switch self {
        case let .severity(s): "severity must be in 1...5, got \(s)"
        case let .tooSmall(w, h): "corruptions need at least \(Corruption.minimumSide)x\(Corruption.minimumSide) pixels, got \(w)x\(h)"
        case let .geometry(n, w, h): "\(n) bytes are not a \(w)x\(h) RGB8 image (\(w)*\(h)*3)"
        case let .pixelFormat(f): "corruptions work on rgb8 or bgr8 frames, got \(f)"
        }
    }
}

/// Geometry of an interleaved RGB8 frame, passed to the corruptions that need it.
struct RGBImage {
    let width: Int
    let height: Int
    var pixelCount: Int { width * height }
}
