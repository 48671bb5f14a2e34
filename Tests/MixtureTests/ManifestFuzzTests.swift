import Foundation
import Mixture
import Testing

/// A seeded mutation fuzzer for moe.toml: byte flips, truncations, duplicated and deleted lines,
/// huge numbers, deep nesting, long keys and invalid UTF-8 applied to the demo's manifests. Each
/// mutant goes through `MixtureManifest.load`, the path the daemon and `moeseg inspect` take, and
/// must parse or throw a one-line `MixtureModelError` within a bounded time; a crash fails the run.
@Suite struct ManifestFuzzTests {
    /// SplitMix64: the same cases on every machine and every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

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

    /// Built once: making them per case would cost more than parsing them.
    static let dottedKeys = [127, 128, 129, 10_000].map { parts in (0..<parts).map { "k\($0)" }.joined(separator: ".") }
    static let longKeys = [String(repeating: "k", count: 1_000), String(repeating: "k", count: 20_000)]
    static let digits = String(repeating: "9", count: 20_000)

    /// The line (without its line break) that holds byte `offset`.
    static func lineRange(_ bytes: [UInt8], around offset: Int) -> Range<Int> {
        var lower = min(offset, bytes.count), upper = lower
        while lower > 0 && bytes[lower - 1] != 0x0A { lower -= 1 }
        while upper < bytes.count && bytes[upper] != 0x0A { upper += 1 }
        return lower..<upper
    }

    static func deep(_ depth: Int, _ rng: inout Generator) -> String {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        case 1: String(repeating: "{a = ", count: depth) + "1" + String(repeating: "}", count: depth)
        default: String(repeating: "[{b = ", count: depth / 2) + "[]" + String(repeating: "}]", count: depth / 2)
        }
    }

    static func mutate(_ seed: [UInt8], _ rng: inout Generator) -> [UInt8] {
        var bytes = seed
        let at = Int.random(in: 0...bytes.count, using: &rng)
        let line = Self.lineRange(bytes, around: at)
        // Inserts `text` as a line of its own before the line at `at`.
        func insertLine(_ text: String) { bytes.insert(contentsOf: Array(text.utf8) + [0x0A], at: line.lowerBound) }
        switch Int.random(in: 0..<11, using: &rng) {
        case 0:
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
        case 1:
            bytes.removeSubrange(at...)
        case 2:
            let copy = Array(bytes[line]) + [0x0A]
            bytes.insert(contentsOf: copy, at: Self.lineRange(bytes, around: Int.random(in: 0...bytes.count, using: &rng)).lowerBound)
        case 3:
            bytes.removeSubrange(line.lowerBound..<min(bytes.count, line.upperBound + 1))
        case 4:
            let huge = ["99999999999999999999999999", "-9223372036854775809", "1e999999", "-1e-999999", "0x" + String(repeating: "f", count: 40),
                        Self.digits, "nan", "-inf", "1_000_", "0o7777777777777777777777777"]
            let value = huge[Int.random(in: 0..<huge.count, using: &rng)]
            if let eq = bytes[line].firstIndex(of: UInt8(ascii: "=")) {
                bytes.replaceSubrange((eq + 1)..<line.upperBound, with: Array(" \(value)".utf8))
            } else {
                insertLine("format_version = \(value)")
            }
        case 5:
            let depth = [63, 64, 65, 200, 5_000, 40_000][Int.random(in: 0..<6, using: &rng)]
            insertLine("deep = \(deep(depth, &rng))")
        case 6:
            let key = Self.dottedKeys[Int.random(in: 0..<4, using: &rng)]
            insertLine(Bool.random(using: &rng) ? "[\(key)]" : "\(key) = 1")
        case 7:
            let long = Self.longKeys[Int.random(in: 0..<2, using: &rng)]
            insertLine(Bool.random(using: &rng) ? "\(long) = 1" : "\"\(long)\" = \"\(long)\"")
        case 8:
            let invalid: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x00]]
            bytes.insert(contentsOf: invalid[Int.random(in: 0..<invalid.count, using: &rng)], at: at)
        case 9:
            // Punctuation that opens or closes structure, where it does the most damage.
            let marks: [[UInt8]] = ["[", "]", "[[", "{", "}", "=", "\"", "'", "\"\"\"", ".", ",", "#", "\\", "\n", "\r"].map { Array($0.utf8) }
            bytes.insert(contentsOf: marks[Int.random(in: 0..<marks.count, using: &rng)], at: at)
        default:
            // Controls and separators inside quoted keys and strings reach error messages.
            let names = ["\"a\\nb\" = 1", "name\u{2028} = 1", "[\"x\\u001B[2J\"]", "id = \"\\u0000\"", "\"\\r\" = 2"]
            insertLine(names[Int.random(in: 0..<names.count, using: &rng)])
        }
        return bytes
    }

    @Test func mutatedManifestsParseOrFailInOneLine() throws {
        let seeds = try Self.seeds()
        try #require(seeds.count >= 5, "demo manifests missing under \(Self.demo.path)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("moe.toml")
        var rng = Generator(state: 20_261_203)
        var parsed = 0, rejected = 0, slowest = 0.0
        for index in 0..<Self.cases {
            let (directory, seed) = seeds[index % seeds.count]
            // Up to three mutations stacked, so structure breaks in more than one place.
            var mutant = seed
            for _ in 0..<Int.random(in: 1...3, using: &rng) { mutant = Self.mutate(mutant, &rng) }
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
