import Evaluation
import Foundation
import NumPyIO
import Testing

/// Each Swift corruption against imagecorruptions 1.1.2 on the same frames: the mean PSNR of
/// every severity within 1.5 dB of the package's (Tests/Fixtures/corruptions/reference_psnr.json).
///
/// With MOESEG_PSNR_TABLE_DIR set, each corruption's measured means are also written there as
/// `<name>.json` (tools/eval/psnr_table.py turns them into the table of docs/evaluation.md).
/// With MOESEG_CORRUPTION_DUMP_DIR set, every corrupted fixture frame (frame i with seed i) is
/// written there as `<name>_<severity>.npy` for tools/eval/compare_outputs.py.
@Suite struct CorruptionPSNRTests {
    static let tolerance = 1.5
    /// Seeds per frame: one for the deterministic corruptions, 24 for the random ones, 48 for
    /// frost and spatter, which vary by several dB from seed to seed (one of five photographs;
    /// a few large drops).
    static func seeds(_ corruption: Corruption) -> Int {
        switch corruption {
        case _ where !corruption.isRandom: 1
        case .frost, .spatter: 48
        default: 24
        }
    }

    @Test(arguments: Corruption.allCases)
    func meanPSNRMatchesThePackage(_ corruption: Corruption) throws {
        let fixtures = try CorruptionFixtures.shared.get()
        let reference = try #require(fixtures.referencePSNR[corruption.name], "no reference for \(corruption.name)")
        try #require(reference.count == 5)
        #expect((fixtures.referenceSeeds[corruption.name] ?? 0 > 1) == corruption.isRandom,
                "the reference and Swift disagree on whether \(corruption.name) is random")
        var measured: [Double] = []
        for severity in Corruption.severities {
            let mean = try fixtures.meanPSNR(corruption, severity: severity, seeds: Self.seeds(corruption))
            measured.append(mean)
            let delta = mean - reference[severity - 1]
            #expect(abs(delta) <= Self.tolerance,
                    "\(corruption.name) severity \(severity): Swift \(mean) dB, package \(reference[severity - 1]) dB")
        }
        if let directory = ProcessInfo.processInfo.environment["MOESEG_PSNR_TABLE_DIR"], !directory.isEmpty {
            let row: [String: Any] = ["name": corruption.name, "seeds_per_frame": Self.seeds(corruption),
                                      "mean_psnr_db": measured]
            let data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(corruption.name).json"))
        }
    }

    @Test func dumpCorruptedFrames() throws {
        guard let directory = ProcessInfo.processInfo.environment["MOESEG_CORRUPTION_DUMP_DIR"], !directory.isEmpty
        else { return }
        let fixtures = try CorruptionFixtures.shared.get()
        for corruption in Corruption.allCases {
            for severity in Corruption.severities {
                var all: [UInt8] = []
                for (index, frame) in fixtures.frames.enumerated() {
                    var image = frame
                    try corruption.apply(to: &image, width: fixtures.width, height: fixtures.height, severity: severity,
                                         seed: UInt64(index))
                    all += image
                }
                try NumPyArray.encodeBytes(shape: [fixtures.frames.count, fixtures.height, fixtures.width, 3], values: all)
                    .write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(corruption.name)_\(severity).npy"))
            }
        }
    }
}
