import Foundation
import Mixture
import Testing

/// The moe.toml reader's limits: nesting and dotted keys beyond them are one error naming the
/// line, never a stack overflow; documents within them parse in time linear in their size.
@Suite struct TOMLLimitTests {
    /// Parses `text`; returns the error (nil when it parsed) and the seconds it took.
    static func parse(_ text: String) -> (error: TOMLError?, seconds: Double) {
        let start = DispatchTime.now()
        var error: TOMLError? = nil
        do { _ = try TOMLReader.parse(text) } catch let e as TOMLError { error = e } catch { Issue.record("not a TOMLError: \(error)") }
        return (error, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }

    static let preamble = "format = \"moeseg.moe\"\n# a comment\n"

    @Test func deepInlineTablesAreOneErrorLine() {
        let depth = 40_000
        let text = Self.preamble + "a = " + String(repeating: "{b = ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
        let (error, seconds) = Self.parse(text)
        #expect(error?.line == 3)
        #expect(error?.message.contains("\(TOMLReader.maximumNesting)") == true, "\(String(describing: error))")
        #expect(seconds < 1, "took \(seconds) s")
    }

    @Test func deepArraysAreOneErrorLine() {
        let depth = 40_000
        let text = Self.preamble + "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let (error, seconds) = Self.parse(text)
        #expect(error?.line == 3)
        #expect(error?.message.contains("\(TOMLReader.maximumNesting)") == true, "\(String(describing: error))")
        #expect(seconds < 1, "took \(seconds) s")
    }

    @Test func nestingUpToTheLimitParses() throws {
        let n = TOMLReader.maximumNesting
        let arrays = try TOMLReader.parse("a = " + String(repeating: "[", count: n) + String(repeating: "]", count: n))
        #expect(arrays["a"] != nil)
        let mixed = try TOMLReader.parse("a = " + String(repeating: "[{b = ", count: n / 2) + "1" + String(repeating: "}]", count: n / 2))
        #expect(mixed["a"] != nil)
        #expect(Self.parse("a = " + String(repeating: "[", count: n + 1) + String(repeating: "]", count: n + 1)).error?.line == 1)
    }

    @Test func tooManyDottedPartsAreOneErrorLine() {
        let parts = (0..<10_000).map { "k\($0)" }
        for text in [Self.preamble + parts.joined(separator: ".") + " = 1\n", Self.preamble + "[" + parts.joined(separator: ".") + "]\n"] {
            let (error, seconds) = Self.parse(text)
            #expect(error?.line == 3)
            #expect(error?.message.contains("\(TOMLReader.maximumKeyParts)") == true, "\(String(describing: error))")
            #expect(seconds < 1, "took \(seconds) s")
        }
    }

    @Test func keysUpToTheLimitParse() throws {
        let key = (0..<TOMLReader.maximumKeyParts).map { "k\($0)" }.joined(separator: ".")
        let table = try TOMLReader.parse("[\(key)]\n\(key) = 1\n")
        guard case .table(let first)? = table["k0"] else { Issue.record("k0 is not a table"); return }
        #expect(first.keys == ["k1"])
    }

    /// Each of these took seconds to minutes when every insert copied the tables on its path.
    @Test func documentsParseInLinearTime() {
        let prefix = (0..<(TOMLReader.maximumKeyParts - 1)).map { "p\($0)" }.joined(separator: ".")
        let documents: [(String, String)] = [
            ("50,000 keys in one table", (0..<50_000).map { "k\($0) = \($0)" }.joined(separator: "\n")),
            ("2,000 long dotted keys", (0..<2_000).map { "\(prefix).k\($0) = \($0)" }.joined(separator: "\n")),
            ("20,000 array-of-tables entries", (0..<20_000).map { "[[experts]]\nname = \"e\($0)\"" }.joined(separator: "\n")),
            ("10,000 tables", (0..<10_000).map { "[t.s\($0)]\nx = 1" }.joined(separator: "\n")),
        ]
        for (label, text) in documents {
            let (error, seconds) = Self.parse(text)
            #expect(error == nil, "\(label): \(String(describing: error))")
            #expect(seconds < 2, "\(label): took \(seconds) s")
        }
    }

    @Test func arraysOfTablesKeepTheirEntriesApart() throws {
        let table = try TOMLReader.parse("[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2\n")
        guard case .array(let items)? = table["a"], items.count == 2 else { Issue.record("a: \(String(describing: table["a"]))"); return }
        #expect(items.map { item -> TOMLValue? in
            guard case .table(let t) = item, case .table(let b)? = t["b"] else { return nil }
            return b["x"]
        } == [.integer(1), .integer(2)])
        #expect(Self.parse("a = [{}]\n[[a]]\n").error?.line == 2, "a static array cannot be extended")
        #expect(Self.parse("[t]\n[t]\n").error?.line == 2)
    }

    @Test func errorsQuotingControlCharactersStayOneLine() {
        let (error, _) = Self.parse("a.\n= 1\n")
        #expect(error != nil)
        #expect(!"\(error!)".contains("\n"), "\(error!)")
    }
}
