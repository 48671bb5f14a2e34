/// The sizes one mixture computation is set up for: E experts, C classes, an H×W frame.
public struct MixtureGeometry: Sendable, Equatable, CustomStringConvertible {
    public let experts: Int
    public let classes: Int
    public let height: Int
    public let width: Int

    /// Pixels per plane (H·W).
    public let pixels: Int

    /// Checks the sizes: at least two experts and two classes (the maps divide by ln E and
    /// ln C), a non-empty frame, and no overflow of E·C·H·W.
    public init(experts: Int, classes: Int, height: Int, width: Int) throws {
        guard experts >= 2 else { throw MixtureError.invalidConfiguration("needs at least 2 experts, got \(experts)") }
        guard classes >= 2 else { throw MixtureError.invalidConfiguration("needs at least 2 classes, got \(classes)") }
        guard height >= 1, width >= 1 else {
            throw MixtureError.invalidConfiguration("frame must be at least 1×1, got \(height)×\(width)")
        }
        guard experts <= 64, classes <= 4096 else {
            throw MixtureError.invalidConfiguration("at most 64 experts and 4096 classes, got \(experts) and \(classes)")
        }
        let (pixels, o1) = height.multipliedReportingOverflow(by: width)
        let (perExpert, o2) = pixels.multipliedReportingOverflow(by: classes)
        let (total, o3) = perExpert.multipliedReportingOverflow(by: experts)
        guard !o1, !o2, !o3, total <= Int(Int32.max) else {
            throw MixtureError.invalidConfiguration("\(experts)×\(classes)×\(height)×\(width) logits is too large")
        }
        self.experts = experts
        self.classes = classes
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// Values in the expert logits input: E planes of C×H×W.
    public var expertLogitCount: Int { experts * classes * pixels }

    public var description: String { "E=\(experts) C=\(classes) \(height)×\(width)" }
}
