import Foundation
import Glibc
import ProcessSupport

/// The fixtures the tests that run the real `moeseg` binary share: scratch directories, a model
/// and a short recording.
enum DaemonFixtures {
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-daemon-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The model the process tests run: the committed demo model when present, else a small
    /// randomly initialised 2-expert mixture (64×32) built with tools/reference/random_mixtures.py.
    static func model(in directory: URL) throws -> String {
        let demo = MoesegTools.packageRoot.appendingPathComponent("models/demo/moe-simple")
        if FileManager.default.fileExists(atPath: demo.appendingPathComponent("moe.toml").path) { return demo.path }
        let out = directory.appendingPathComponent("models")
        let (status, _, err) = try ChildProcess.run(MoesegTools.python(), [
            MoesegTools.packageRoot.appendingPathComponent("tools/reference/random_mixtures.py").path, out.path,
        ])
        guard status == 0 else { throw MoesegTools.Failure(description: "random_mixtures.py failed: \(err)") }
        return out.appendingPathComponent("moe2-simple").path
    }

    /// A short synthetic urban recording made by `moeseg synth`.
    static func recording(in directory: URL, frames: Int = 40, size: String = "128x64") throws -> String {
        let path = directory.appendingPathComponent("urban.mcap").path
        let (status, _, err) = try ChildProcess.run(MoesegTools.moeseg(), ["synth", "--domain", "urban", "--frames", "\(frames)",
                                                                          "--seed", "5", "--size", size, "--out", path])
        guard status == 0 else { throw MoesegTools.Failure(description: "moeseg synth failed: \(err)") }
        return path
    }
}
