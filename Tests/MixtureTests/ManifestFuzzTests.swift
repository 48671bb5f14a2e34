import Foundation
import FuzzSupport
import Mixture
import Testing

/// A seeded mutation fuzzer for moe.toml: byte flips, truncations, duplicated and deleted lines,
/// huge numbers, deep nesting, long keys and invalid UTF-8 applied to the demo's manifests. Each
/// mutant goes through `MixtureManifest.load`, the path the daemon and `moeseg inspect` take, and
/// must parse or throw a one-line `MixtureModelError` within a bounded time; a crash fails the run.
@Suite struct ManifestFuzzTests {
    static let demo = PythonReference.packageRoot.appendingPathComponent("models/demo")
    static let cases = 1500
    /// Per mutant; the largest (a 1 MiB manifest) parses in tens of milliseconds.
    static let secondsPerCase = 1.0

    /// Each demo variant's folder and manifest bytes.
    static func seeds() throws -> [(directory: URL, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: demo.path).sorted().compactMap { name in
            let directory = demo.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("moe.toml").path) else { return nil }
            return (directory, [UInt8](data))
        }
    }

    static let mutator = TOMLMutator(
        dottedKeyParts: [127, 128, 129, 10_000],
        hugeValues: ["99999999999999999999999999", "-9223372036854775809", "1e999999", "-1e-999999", "0x" + String(repeating: "f", count: 40),
                     TOMLMutator.digits, "nan", "-inf", "1_000_", "0o7777777777777777777777777"],
        valueKey: "format_version", deepKeys: ["deep"], depths: [63, 64, 65, 200, 5_000, 40_000],
        marks: ["[", "]", "[[", "{", "}", "=", "\"", "'", "\"\"\"", ".", ",", "#", "\\", "\n", "\r"],
        names: ["\"a\\nb\" = 1", "name\u{2028} = 1", "[\"x\\u001B[2J\"]", "id = \"\\u0000\"", "\"\\r\" = 2"])

    @Test func mutatedManifestsParseOrFailInOneLine() throws {
        let seeds = try Self.seeds()
        try #require(seeds.count >= 5, "demo manifests missing under \(Self.demo.path)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("moe.toml")
        var rng = SplitMix64(state: 20_261_203)
        var parsed = 0, rejected = 0, slowest = 0.0
        for index in 0..<Self.cases {
            let (directory, seed) = seeds[index % seeds.count]
            // Up to three mutations stacked, so structure breaks in more than one place.
            var mutant = seed
            for _ in 0..<Int.random(in: 1...3, using: &rng) { mutant = Self.mutator.mutate(mutant, &rng) }
            try Data(mutant).write(to: file)
            let start = DispatchTime.now()
            do {
                _ = try MixtureManifest.load(path: file.path, directory: directory.path, root: Self.demo.path)
                parsed += 1
            } catch let error as MixtureModelError {
                rejected += 1
                #expect(!error.description.contains("\n") && !error.description.contains("\r"), "case \(index): \(error.description)")
            } catch {
                Issue.record("case \(index): not a MixtureModelError: \(type(of: error)) \(error)")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            slowest = max(slowest, seconds)
            #expect(seconds < Self.secondsPerCase, "case \(index) took \(seconds) s")
        }
        print("moe.toml fuzz: \(Self.cases) cases, \(parsed) parsed, \(rejected) rejected, slowest \(String(format: "%.1f", slowest * 1000)) ms")
        #expect(parsed > 0 && rejected > 0)
    }

    @Test func oversizedAndDeepDocumentsAtTheSizeLimit() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("moe.toml")
        let limit = MixtureManifest.maximumBytes
        // The worst of each kind that still fits in the size limit, and one byte over it.
        let documents: [(String, String)] = [
            ("brackets", "a = " + String(repeating: "[", count: limit / 2 - 8) + String(repeating: "]", count: limit / 2 - 8)),
            ("dots", String(repeating: "a.", count: limit / 2 - 8) + "a = 1"),
            ("keys", (0..<(limit / 16)).map { "k\($0) = 1" }.joined(separator: "\n")),
            ("headers", (0..<(limit / 16)).map { _ in "[[experts]]" }.joined(separator: "\n")),
            ("one byte over", String(repeating: "#", count: limit) + "\n"),
        ]
        for (label, text) in documents {
            try text.write(to: file, atomically: true, encoding: .utf8)
            let start = DispatchTime.now()
            let error = #expect(throws: MixtureModelError.self, "\(label)") {
                try MixtureManifest.load(path: file.path, directory: scratch.path, root: scratch.path)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            #expect(error.map { !"\($0)".contains("\n") } == true)
            #expect(seconds < 2, "\(label): took \(seconds) s")
        }
    }
}
