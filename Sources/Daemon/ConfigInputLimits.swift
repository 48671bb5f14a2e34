import Engine
import Foundation

/// Bounds on configuration input, checked before TOMLKit sees it. toml++ builds one table per
/// dotted key part and frees them recursively, so a 100,000-part key crashes the daemon with a
/// stack overflow, and a header such as `[[# x` trips one of its assertions; a configuration has
/// no business being large or nested deep anyway. The limits are those of moe.toml
/// (docs/daemon.md "Configuration limits").
enum ConfigInputLimits {
    /// Largest configuration file read (the committed one is 5.6 kB).
    static let maximumBytes = 1 << 20
    /// Deepest nesting of arrays and inline tables (the committed file uses 1).
    static let maximumNesting = 64
    /// Most dotted parts in one key or table header (the committed file uses 1).
    static let maximumKeyParts = 128

    /// The text of the configuration file at `path`: a regular file (a FIFO would block the
    /// read, /dev/zero never end) of at most `maximumBytes`, in UTF-8.
    static func read(path: String) throws(DaemonError) -> String {
        let data: Data
        do {
            data = try RegularFile(path: path).readAll(limit: maximumBytes)
        } catch {
            throw DaemonError.configuration("cannot read config file \(path): \(error.reason)".escapedForOneLine)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DaemonError.configuration("cannot read config file \(path): not UTF-8 text".escapedForOneLine)
        }
        return text
    }

    /// Throws the first limit `text` exceeds as a one-problem ConfigError naming the line.
    static func check(_ text: String, origin: String) throws(ConfigError) {
        if let problem = problem(in: text) { throw ConfigError(origin: origin, problems: [problem]) }
    }

    /// The first limit `text` exceeds ("line N: ..."), or nil. One pass over the bytes that
    /// follows TOML's structure only as far as the limits need: strings and comments are
    /// skipped, `[`/`{` in values nest, dots count while a key or table header is being read.
    static func problem(in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumBytes else {
            return "\(bytes.count) bytes, larger than the \(maximumBytes) bytes allowed"
        }
        var line = 1
        var open: [UInt8] = []  // the `[` and `{` of values around the current position
        var inKey = true        // reading a key: at a line start, or after `{` or `,` in an inline table
        var inHeader = false
        var parts = 1
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\n"):
                line += 1
                if open.isEmpty {
                    inKey = true
                    inHeader = false
                    parts = 1
                }
            case UInt8(ascii: "#"):
                while i + 1 < bytes.count && bytes[i + 1] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                i = skipString(bytes, from: i, line: &line)
                continue
            case UInt8(ascii: "["):
                if open.isEmpty && inKey && !inHeader {
                    inHeader = true
                    parts = 1
                    if !headerStartsWithKey(bytes, at: i) { return "line \(line): a table header must start with a key" }
                } else if !inHeader {
                    open.append(c)
                    if open.count > maximumNesting { return "line \(line): arrays and inline tables nest more than \(maximumNesting) levels deep" }
                }
            case UInt8(ascii: "]"):
                if inHeader {
                    inHeader = false
                    inKey = false
                } else if open.last == UInt8(ascii: "[") {
                    open.removeLast()
                }
            case UInt8(ascii: "{"):
                open.append(c)
                if open.count > maximumNesting { return "line \(line): arrays and inline tables nest more than \(maximumNesting) levels deep" }
                inKey = true
                parts = 1
            case UInt8(ascii: "}"):
                if open.last == UInt8(ascii: "{") { open.removeLast() }
                inKey = false
            case UInt8(ascii: "="):
                inKey = false
            case UInt8(ascii: ","):
                if open.last == UInt8(ascii: "{") {
                    inKey = true
                    parts = 1
                }
            case UInt8(ascii: "."):
                if inKey || inHeader {
                    parts += 1
                    if parts > maximumKeyParts { return "line \(line): a key has more than \(maximumKeyParts) dotted parts" }
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// Whether the table header at `start` (`[` or `[[`, then spaces) goes on with a key, a
    /// quote, `]` or the end. toml++ 3.4 reads the key without checking its first character (an
    /// assertion in debug builds, undefined behaviour in release), so `[[# x` must not reach it.
    private static func headerStartsWithKey(_ bytes: [UInt8], at start: Int) -> Bool {
        var i = start + 1
        func skipBlanks() -> Bool {
            let from = i
            while i < bytes.count && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i += 1 }
            return i > from
        }
        if skipBlanks() && i < bytes.count && bytes[i] == UInt8(ascii: "[") { return true }  // toml++: "[ [" is an error
        if i < bytes.count && bytes[i] == UInt8(ascii: "[") {
            i += 1
            _ = skipBlanks()
        }
        guard i < bytes.count else { return true }
        let c = bytes[i]
        return (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "]")
    }

    /// The index after the string starting at `start` (basic or literal, one line or three-quoted
    /// multi-line), counting the lines it spans; an unterminated one-line string ends at the line
    /// break, where TOMLKit reports it.
    private static func skipString(_ bytes: [UInt8], from start: Int, line: inout Int) -> Int {
        let quote = bytes[start]
        let escapes = quote == UInt8(ascii: "\"")
        let triple = start + 2 < bytes.count && bytes[start + 1] == quote && bytes[start + 2] == quote
        var i = start + (triple ? 3 : 1)
        while i < bytes.count {
            let c = bytes[i]
            if escapes && c == UInt8(ascii: "\\") {
                if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") { line += 1 }
                i += 2
                continue
            }
            if c == UInt8(ascii: "\n") {
                if !triple { return i }
                line += 1
            }
            if c == quote {
                if !triple { return i + 1 }
                if i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote { return i + 3 }
            }
            i += 1
        }
        return i
    }
}
