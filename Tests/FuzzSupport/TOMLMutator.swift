/// Seeded mutations of a TOML document for the config and manifest fuzzers: byte flips,
/// truncations, duplicated and deleted lines, huge numbers, deep nesting, long and many-part keys,
/// invalid UTF-8, structural punctuation and control characters in names. What differs per
/// document kind (which key takes a huge value, which names reach error messages) is configured.
public struct TOMLMutator: Sendable {
    /// Dotted keys of these many parts (built once: per case would cost more than the parse).
    public let dottedKeys: [String]
    public let longKeys = [String(repeating: "k", count: 1_000), String(repeating: "k", count: 20_000)]
    /// Values that replace a line's value, or go under `valueKey` on a line without one.
    public let hugeValues: [String]
    public let valueKey: String
    /// Keys that receive a deeply nested value (one key takes no random draw) and the depths.
    public let deepKeys: [String]
    public let depths: [Int]
    /// Punctuation inserted where it opens or closes structure.
    public let marks: [[UInt8]]
    /// Lines whose quoted keys and strings carry controls and separators into error messages.
    public let names: [String]

    /// 20,000 nines, for `hugeValues`.
    public static let digits = String(repeating: "9", count: 20_000)

    public init(dottedKeyParts: [Int], hugeValues: [String], valueKey: String, deepKeys: [String], depths: [Int],
                marks: [String], names: [String]) {
        dottedKeys = dottedKeyParts.map { parts in (0..<parts).map { "k\($0)" }.joined(separator: ".") }
        self.hugeValues = hugeValues
        self.valueKey = valueKey
        self.deepKeys = deepKeys
        self.depths = depths
        self.marks = marks.map { Array($0.utf8) }
        self.names = names
    }

    /// The line (without its line break) that holds byte `offset`.
    public static func lineRange(_ bytes: [UInt8], around offset: Int) -> Range<Int> {
        var lower = min(offset, bytes.count), upper = lower
        while lower > 0 && bytes[lower - 1] != 0x0A { lower -= 1 }
        while upper < bytes.count && bytes[upper] != 0x0A { upper += 1 }
        return lower..<upper
    }

    /// Arrays, inline tables or both, nested `depth` deep.
    public static func deep(_ depth: Int, _ rng: inout SplitMix64) -> String {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        case 1: String(repeating: "{a = ", count: depth) + "1" + String(repeating: "}", count: depth)
        default: String(repeating: "[{b = ", count: depth / 2) + "[]" + String(repeating: "}]", count: depth / 2)
        }
    }

    /// One mutation of `seed`.
    public func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
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
            let value = hugeValues[Int.random(in: 0..<hugeValues.count, using: &rng)]
            if let eq = bytes[line].firstIndex(of: UInt8(ascii: "=")) {
                bytes.replaceSubrange((eq + 1)..<line.upperBound, with: Array(" \(value)".utf8))
            } else {
                insertLine("\(valueKey) = \(value)")
            }
        case 5:
            let key = deepKeys.count == 1 ? deepKeys[0] : deepKeys[Int.random(in: 0..<deepKeys.count, using: &rng)]
            let depth = depths[Int.random(in: 0..<depths.count, using: &rng)]
            insertLine("\(key) = \(Self.deep(depth, &rng))")
        case 6:
            let key = dottedKeys[Int.random(in: 0..<dottedKeys.count, using: &rng)]
            insertLine(Bool.random(using: &rng) ? "[\(key)]" : "\(key) = 1")
        case 7:
            let long = longKeys[Int.random(in: 0..<2, using: &rng)]
            insertLine(Bool.random(using: &rng) ? "\(long) = 1" : "\"\(long)\" = \"\(long)\"")
        case 8:
            let invalid: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x00]]
            bytes.insert(contentsOf: invalid[Int.random(in: 0..<invalid.count, using: &rng)], at: at)
        case 9:
            bytes.insert(contentsOf: marks[Int.random(in: 0..<marks.count, using: &rng)], at: at)
        default:
            insertLine(names[Int.random(in: 0..<names.count, using: &rng)])
        }
        return bytes
    }
}
