@testable import Daemon
import Foundation
import FuzzSupport
import Testing

/// A seeded mutation fuzzer for the daemon configuration: byte flips, truncations, duplicated
/// and deleted lines, huge numbers, deep nesting, long keys and invalid UTF-8 applied to
/// config/moeseg.toml. Each mutant must parse or fail with ConfigError problems of one line each
/// (through a file: a DaemonError) within a bounded time; a crash in TOMLKit fails the run.
@Suite struct ConfigFuzzTests {
    static let cases = 1500
    static let secondsPerCase = 1.0

    static let mutator = TOMLMutator(
        dottedKeyParts: [127, 128, 129, 10_000, 100_000],
        hugeValues: ["99999999999999999999999999", "-9223372036854775809", "9223372036854775807", "1e999999", "-1e-999999",
                     "0x" + String(repeating: "f", count: 40), TOMLMutator.digits, "nan", "-inf", "1979-05-27T07:32:00Z"],
        valueKey: "threads", deepKeys: ["deep", "maps", "cpus", "spec"], depths: [63, 64, 65, 255, 256, 257, 5_000, 40_000],
        marks: ["[", "]", "[[", "{", "}", "=", "\"", "'", "\"\"\"", "'''", ".", ",", "#", "\\", "\n", "\r"],
        names: ["\"a\\nb\" = 1", "name\u{2028} = 1", "[\"x\\u001B[2J\"]", "spec = \"\\u0000\"", "\"\\r\" = 2",
                "stream = \"a\\nb\"", "level = \"\\u2028\""])

    /// Problems are one line each and the parse took bounded time. Most cases go to
    /// `DaemonConfig.parse`; every fourth, and invalid UTF-8, through a file and `loadConfig`.
    static func check(_ bytes: [UInt8], case index: Int, file: URL) throws -> Bool {
        let start = DispatchTime.now()
        var parsed = false
        if index % 4 != 3, let text = String(validating: bytes, as: UTF8.self) {
            do {
                _ = try DaemonConfig.parse(text, origin: "fuzz.toml")
                parsed = true
            } catch {
                let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(!error.problems.isEmpty && lines.count == error.problems.count, "case \(index): \(error.description)")
                #expect(lines.allSatisfy { $0.hasPrefix("config fuzz.toml: ") && !$0.contains("\r") }, "case \(index): \(error.description)")
            }
        } else {
            try Data(bytes).write(to: file)
            do {
                _ = try DaemonLauncher.loadConfig(path: file.path)
                parsed = true
            } catch {
                guard case .configuration(let message) = error else {
                    Issue.record("case \(index): not a configuration error: \(error)")
                    return false
                }
                #expect(message.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy {
                    ($0.hasPrefix("config \(file.path): ") || $0.hasPrefix("cannot read config file")) && !$0.contains("\r")
                }, "case \(index): \(message)")
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        #expect(seconds < secondsPerCase, "case \(index) took \(seconds) s")
        return parsed
    }

    @Test func mutatedConfigsParseOrFailInOneLinePerProblem() throws {
        let seed = [UInt8]((EmbeddedConfig.text + "\n").utf8)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-configfuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("moeseg.toml")
        var rng = SplitMix64(state: 20_261_204)
        var parsed = 0
        for index in 0..<Self.cases {
            var mutant = seed
            for _ in 0..<Int.random(in: 1...3, using: &rng) { mutant = Self.mutator.mutate(mutant, &rng) }
            if try Self.check(mutant, case: index, file: file) { parsed += 1 }
        }
        print("config fuzz: \(Self.cases) cases, \(parsed) parsed, \(Self.cases - parsed) rejected")
        #expect(parsed > 0 && parsed < Self.cases)
    }

    /// The largest inputs of each kind, each one problem naming the line; the 100,000-part key
    /// crashed toml++ (stack overflow freeing its nested tables) before the pre-scan.
    @Test func limitsAreOneProblemBeforeTOMLKit() throws {
        let big = ConfigInputLimits.maximumBytes
        let documents: [(String, String, String)] = [
            ("100,000 key parts", "[source]\n" + (0..<100_000).map { "k\($0)" }.joined(separator: ".") + " = 1\n",
             "line 2: a key has more than 128 dotted parts"),
            ("deep header", "# c\n[" + String(repeating: "a.", count: 200) + "a]\n", "line 2: a key has more than 128 dotted parts"),
            ("40,000 nested arrays", "[model]\nmaps = " + String(repeating: "[", count: 40_000) + String(repeating: "]", count: 40_000),
             "line 2: arrays and inline tables nest more than 64 levels deep"),
            ("40,000 inline tables", "x = " + String(repeating: "{a = ", count: 40_000) + "1" + String(repeating: "}", count: 40_000),
             "line 1: arrays and inline tables nest more than 64 levels deep"),
            ("over the size", String(repeating: "#", count: big + 1), "larger than the \(big) bytes allowed"),
        ]
        for (label, text, phrase) in documents {
            let start = DispatchTime.now()
            let error = #expect(throws: ConfigError.self, "\(label)") { try DaemonConfig.parse(text, origin: "x.toml") }
            #expect(error?.problems.count == 1 && error?.description.contains(phrase) == true, "\(label): \(String(describing: error))")
            #expect(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 < 1, "\(label) was slow")
        }
        // Within the limits the scan stays out of the way: dots and brackets in strings, comments,
        // floats and multi-line strings do not count.
        let fine = """
            [source]
            spec = "replay:/a.b.c.d.e.f/[[[[{{{{.mcap" # [[[[ a.b.c.d
            synthetic_rate = 1.5
            [model]
            dir = '''
            [[[[.....
            '''
            maps = [["pe"]]
            """
        let error = #expect(throws: ConfigError.self) { try DaemonConfig.parse(fine, origin: "x.toml") }
        #expect(error?.description.contains("nest") == false && error?.description.contains("dotted") == false, "\(String(describing: error))")
        #expect(ConfigInputLimits.problem(in: "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) == nil)
        #expect(ConfigInputLimits.problem(in: (0..<128).map { "k\($0)" }.joined(separator: ".") + " = 1") == nil)
    }

    @Test func configFilesThatAreNotRegularAreOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-configfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo.toml").path, large = dir.appendingPathComponent("large.toml")
        try #require(mkfifo(fifo, 0o600) == 0)
        try Data(repeating: UInt8(ascii: "#"), count: ConfigInputLimits.maximumBytes + 1).write(to: large)
        try Data([0x5B, 0xFF, 0x5D]).write(to: dir.appendingPathComponent("latin1.toml"))
        let cases = [(fifo, "not a regular file (a FIFO)"), ("/dev/zero", "not a regular file (a character device)"),
                     (large.path, "larger than the \(ConfigInputLimits.maximumBytes) bytes allowed"),
                     (dir.appendingPathComponent("latin1.toml").path, "not UTF-8 text"),
                     (dir.appendingPathComponent("absent.toml").path, "no such file")]
        for (path, phrase) in cases {
            let error = #expect(throws: DaemonError.self) { try DaemonLauncher.loadConfig(path: path) }
            #expect(error.map { !"\($0)".contains("\n") } == true, "\(path): \(String(describing: error))")
            #expect(error?.description.hasPrefix("cannot read config file \(path): ") == true && error?.description.contains(phrase) == true,
                    "\(path): \(String(describing: error))")
        }
    }
}
