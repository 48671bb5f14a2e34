import Evaluation
import Foundation
import NumPyIO

/// The frames and the imagecorruptions reference PSNRs under Tests/Fixtures/corruptions
/// (made by tools/eval/corruption_reference.py).
struct CorruptionFixtures: Sendable {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/corruptions")

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Interleaved RGB8 frames, all `width` x `height`.
    let frames: [[UInt8]]
    let width: Int
    let height: Int
    /// Mean PSNR (dB) per corruption name, severities 1...5.
    let referencePSNR: [String: [Double]]
    /// Seeds per frame the reference averaged over, per corruption name.
    let referenceSeeds: [String: Int]

    static let shared: Result<CorruptionFixtures, Failure> = Result { try CorruptionFixtures() }
        .mapError { Failure(description: "\($0)") }

    init() throws {
        let array = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("frames.npy"))
        guard array.shape.count == 4, array.shape[3] == 3 else {
            throw Failure(description: "frames.npy has shape \(array.shape), expected (frames, height, width, 3)")
        }
        (height, width) = (array.shape[1], array.shape[2])
        let size = width * height * 3
        frames = (0..<array.shape[0]).map { f in array.values[(f * size)..<((f + 1) * size)].map { UInt8($0) } }
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("reference_psnr.json"))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let means = json["mean_psnr_db"] as? [String: [Double]],
              let seeds = json["seeds_per_frame"] as? [String: Int] else {
            throw Failure(description: "reference_psnr.json lacks mean_psnr_db or seeds_per_frame")
        }
        referencePSNR = means
        referenceSeeds = seeds
    }

    /// Mean PSNR of the Swift corruption over every frame and `seeds` seeds per frame.
    func meanPSNR(_ corruption: Corruption, severity: Int, seeds: Int) throws -> Double {
        var total = 0.0
        for (index, frame) in frames.enumerated() {
            for seed in 0..<seeds {
                var image = frame
                try corruption.apply(to: &image, width: width, height: height, severity: severity,
                                     seed: UInt64(1000 * seed + index))
                total += ImageQuality.psnr(image, frame)
            }
        }
        return total / Double(frames.count * seeds)
    }
}
