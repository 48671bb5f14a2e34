import Foundation

/// Full-reference image quality.
public enum ImageQuality {
    /// PSNR in dB of `image` against `reference` (same length, 8-bit samples): 10 log10(255^2 / MSE),
    /// over every sample; infinite for identical images.
    public static func psnr(_ image: [UInt8], _ reference: [UInt8]) -> Double {
        precondition(image.count == reference.count && !image.isEmpty, "PSNR needs two images of the same size")
        var sum = 0
        for i in reference.indices {
            let d = Int(image[i]) - Int(reference[i])
            sum += d * d
        }
        return 10 * log10(255 * 255 / (Double(sum) / Double(reference.count)))
    }
}
