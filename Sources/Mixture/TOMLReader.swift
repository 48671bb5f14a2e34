/// A TOML value of the subset `moe.toml` needs.
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML type name, for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A TOML table that remembers key order (error messages list keys as written).
public struct TOMLTable: Equatable, Sendable {
    public private(set) var keys: [String] = []
    public private(set) var values: [String: TOMLValue] = [:]

    public init() {}

    public subscript(key: String) -> TOMLValue? { values[key] }

    mutating func set(_ key: String, _ value: TOMLValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }
}

/// A TOML syntax error with its line.
public struct TOMLError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// A strict reader for the TOML subset of `moe.toml`: tables, arrays of tables, dotted and
/// quoted keys, basic and literal strings, integers, floats, booleans, (multi-line) arrays and
/// inline tables. Multi-line strings and dates are rejected with an error, never misread;
/// duplicate keys and redefined tables are errors, as TOML requires.
public enum TOMLReader {
    /// Parses a whole document into its root table.
    public static func parse(_ text: String) throws -> TOMLTable {
        var parser = Parser(Array(text.unicodeScalars))
        return try parser.document()
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var line = 1
        var root = TOMLTable()
        /// Path of the current [table] or [[array]] element; arrays record which element.
        var current: [PathStep] = []
        var definedTables: Set<String> = []

        enum PathStep: Equatable { case key(String), element(String) }

        init(_ scalars: [Unicode.Scalar]) { s = scalars }

        func error(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

        var atEnd: Bool { i >= s.count }
        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        mutating func skipSpaces() {
            while let c = peek, c == " " || c == "\t" { i += 1 }
        }

        mutating func skipComment() {
            if peek == "#" { while let c = peek, c != "\n" { i += 1 } }
        }

        /// Spaces, comments and newlines (inside arrays).
        mutating func skipBlank() {
            while let c = peek {
                if c == " " || c == "\t" || c == "\r" { i += 1 } else if c == "\n" { i += 1; line += 1 } else if c == "#" { skipComment() } else { break }
            }
        }

        mutating func endOfLine() throws {
            skipSpaces()
            skipComment()
            if peek == "\r" { i += 1 }
            guard let c = peek else { return }
            guard c == "\n" else { throw error("unexpected \"\(c)\" after a value") }
            i += 1
            line += 1
        }

        mutating func document() throws -> TOMLTable {
            while true {
                skipBlank()
                guard let c = peek else { break }
                if c == "[" {
                    try header()
                } else {
                    let key = try keyPath()
                    skipSpaces()
                    guard peek == "=" else { throw error("expected \"=\" after key \(key.joined(separator: "."))") }
                    i += 1
                    skipSpaces()
                    let value = try self.value()
                    try insert(value, at: key)
                    try endOfLine()
                }
            }
            return root
        }

        mutating func header() throws {
            i += 1
            let isArray = peek == "["
            if isArray { i += 1 }
            skipSpaces()
            let path = try keyPath()
            skipSpaces()
            guard peek == "]" else { throw error("expected \"]\" to close a table header") }
            i += 1
            if isArray {
                guard peek == "]" else { throw error("expected \"]]\" to close an array-of-tables header") }
                i += 1
            }
            try endOfLine()
            let parent = Array(path.dropLast())
            var steps = try resolve(parent, creating: true)
            let last = path.last!
            if isArray {
                var table = try tableAt(steps)
                switch table[last] {
                case nil: table.set(last, .array([.table(TOMLTable())]))
                case .array(var items)? where items.allSatisfy({ if case .table = $0 { true } else { false } }) && definedArrays.contains(name(steps, last)):
                    items.append(.table(TOMLTable()))
                    table.set(last, .array(items))
                default: throw error("\(path.joined(separator: ".")) is already defined and is not an array of tables")
                }
                try store(table, at: steps)
                definedArrays.insert(name(steps, last))
                steps.append(.element(last))
            } else {
                let full = name(steps, last)
                guard !definedTables.contains(full) else { throw error("table [\(path.joined(separator: "."))] is defined twice") }
                var table = try tableAt(steps)
                switch table[last] {
                case nil: table.set(last, .table(TOMLTable()))
                case .table?: break
                default: throw error("\(path.joined(separator: ".")) is already a value, not a table")
                }
                try store(table, at: steps)
                definedTables.insert(full)
                steps.append(.key(last))
            }
            current = steps
        }

        var definedArrays: Set<String> = []

        func name(_ steps: [PathStep], _ last: String) -> String {
            (steps.map { step -> String in
                switch step { case .key(let k): k; case .element(let k): k + "[]" }
            } + [last]).joined(separator: "\u{1}")
        }

        /// Walks `keys` from the root, creating implicit tables; an array of tables resolves
        /// to its last element.
        mutating func resolve(_ keys: [String], creating: Bool) throws -> [PathStep] {
            var steps: [PathStep] = []
            for key in keys {
                var table = try tableAt(steps)
                switch table[key] {
                case nil:
                    table.set(key, .table(TOMLTable()))
                    try store(table, at: steps)
                    steps.append(.key(key))
                case .table?: steps.append(.key(key))
                case .array(let items)? where !items.isEmpty && items.allSatisfy({ if case .table = $0 { true } else { false } }):
                    steps.append(.element(key))
                default: throw error("\(key) is a value, not a table")
                }
            }
            return steps
        }

        func tableAt(_ steps: [PathStep]) throws -> TOMLTable {
            var table = root
            for step in steps {
                switch step {
                case .key(let k):
                    guard case .table(let t)? = table[k] else { throw error("\(k) is not a table") }
                    table = t
                case .element(let k):
                    guard case .array(let items)? = table[k], case .table(let t)? = items.last else { throw error("\(k) is not an array of tables") }
                    table = t
                }
            }
            return table
        }

        mutating func store(_ table: TOMLTable, at steps: [PathStep]) throws {
            root = try replacing(root, steps[...], with: table)
        }

        func replacing(_ base: TOMLTable, _ steps: ArraySlice<PathStep>, with table: TOMLTable) throws -> TOMLTable {
            guard let step = steps.first else { return table }
            var base = base
            switch step {
            case .key(let k):
                guard case .table(let inner)? = base[k] else { throw error("\(k) is not a table") }
                base.set(k, .table(try replacing(inner, steps.dropFirst(), with: table)))
            case .element(let k):
                guard case .array(var items)? = base[k], case .table(let inner)? = items.last else { throw error("\(k) is not an array of tables") }
                items[items.count - 1] = .table(try replacing(inner, steps.dropFirst(), with: table))
                base.set(k, .array(items))
            }
            return base
        }

        mutating func insert(_ value: TOMLValue, at key: [String]) throws {
            var base = current
            // Dotted keys: walk (creating) below the current table.
            for k in key.dropLast() {
                var table = try tableAt(base)
                switch table[k] {
                case nil:
                    table.set(k, .table(TOMLTable()))
                    try store(table, at: base)
                case .table?: break
                default: throw error("\(k) is a value, not a table")
                }
                base.append(.key(k))
            }
            var table = try tableAt(base)
            let last = key.last!
            guard table[last] == nil else { throw error("key \(key.joined(separator: ".")) is defined twice") }
            table.set(last, value)
            try store(table, at: base)
        }

        mutating func keyPath() throws -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard let c = peek else { throw error("expected a key") }
                if c == "\"" {
                    parts.append(try basicString())
                } else if c == "'" {
                    parts.append(try literalString())
                } else {
                    var key = ""
                    while let c = peek, c.properties.isAlphabetic && c.isASCII || ("0"..."9").contains(c) || c == "_" || c == "-" {
                        key.unicodeScalars.append(c)
                        i += 1
                    }
                    guard !key.isEmpty else { throw error("expected a key, found \"\(c)\"") }
                    parts.append(key)
                }
                skipSpaces()
                guard peek == "." else { return parts }
                i += 1
            }
        }

        mutating func value() throws -> TOMLValue {
            guard let c = peek else { throw error("expected a value") }
            switch c {
            case "\"":
                if i + 2 < s.count, s[i + 1] == "\"", s[i + 2] == "\"" { throw error("multi-line strings are not supported") }
                return .string(try basicString())
            case "'":
                if i + 2 < s.count, s[i + 1] == "'", s[i + 2] == "'" { throw error("multi-line strings are not supported") }
                return .string(try literalString())
            case "[": return try array()
            case "{": return try inlineTable()
            case "t", "f":
                if match("true") { return .boolean(true) }
                if match("false") { return .boolean(false) }
                throw error("unknown value")
            default: return try number()
            }
        }

        mutating func match(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard i + w.count <= s.count, Array(s[i..<(i + w.count)]) == w else { return false }
            let after = i + w.count < s.count ? s[i + w.count] : " "
            guard !(after.properties.isAlphabetic || ("0"..."9").contains(after) || after == "_") else { return false }
            i += w.count
            return true
        }

        mutating func number() throws -> TOMLValue {
            var text = ""
            while let c = peek, !" \t\r\n,]}#".unicodeScalars.contains(c) {
                text.unicodeScalars.append(c)
                i += 1
            }
            guard !text.isEmpty else { throw error("expected a value") }
            if text.contains(":") || (text.filter { $0 == "-" }.count >= 2 && !text.lowercased().contains("e")) {
                throw error("dates and times are not supported: \(text)")
            }
            var digits = text
            if digits.contains("_") {
                // TOML allows an underscore only between two digits.
                let chars = Array(digits)
                for (k, ch) in chars.enumerated() where ch == "_" {
                    guard k > 0, k + 1 < chars.count, chars[k - 1].isNumber, chars[k + 1].isNumber else { throw error("bad number \(text)") }
                }
                digits.removeAll { $0 == "_" }
            }
            let unsigned = digits.hasPrefix("+") || digits.hasPrefix("-") ? String(digits.dropFirst()) : digits
            if ["inf", "nan"].contains(unsigned) {
                return .float(unsigned == "inf" ? (digits.hasPrefix("-") ? -.infinity : .infinity) : .nan)
            }
            guard let first = unsigned.first, first.isNumber else { throw error("bad value \(text)") }
            if unsigned.count > 1 && unsigned.hasPrefix("0") && unsigned.dropFirst().first?.isNumber == true {
                throw error("leading zeros are not allowed: \(text)")
            }
            if unsigned.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                guard unsigned.allSatisfy({ $0.isNumber || ".eE+-".contains($0) }), !unsigned.hasSuffix("."),
                      !unsigned.contains(".e"), !unsigned.contains(".E"), let value = Double(digits) else { throw error("bad float \(text)") }
                return .float(value)
            }
            if unsigned.hasPrefix("0x") || unsigned.hasPrefix("0o") || unsigned.hasPrefix("0b") {
                let radix = unsigned.hasPrefix("0x") ? 16 : unsigned.hasPrefix("0o") ? 8 : 2
                guard !digits.hasPrefix("+"), !digits.hasPrefix("-"), let value = Int(unsigned.dropFirst(2), radix: radix) else { throw error("bad integer \(text)") }
                return .integer(value)
            }
            guard unsigned.allSatisfy(\.isNumber), let value = Int(digits) else { throw error("bad integer \(text)") }
            return .integer(value)
        }

        mutating func array() throws -> TOMLValue {
            i += 1
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                guard let c = peek else { throw error("unterminated array") }
                if c == "]" {
                    i += 1
                    return .array(items)
                }
                items.append(try value())
                skipBlank()
                if peek == "," {
                    i += 1
                } else if peek != "]" {
                    throw error("expected \",\" or \"]\" in an array")
                }
            }
        }

        mutating func inlineTable() throws -> TOMLValue {
            i += 1
            var table = TOMLTable()
            skipSpaces()
            if peek == "}" {
                i += 1
                return .table(table)
            }
            while true {
                skipSpaces()
                let key = try keyPath()
                guard key.count == 1 else { throw error("dotted keys in inline tables are not supported") }
                skipSpaces()
                guard peek == "=" else { throw error("expected \"=\" in an inline table") }
                i += 1
                skipSpaces()
                guard table[key[0]] == nil else { throw error("key \(key[0]) is defined twice") }
                table.set(key[0], try value())
                skipSpaces()
                if peek == "," {
                    i += 1
                } else if peek == "}" {
                    i += 1
                    return .table(table)
                } else {
                    throw error("expected \",\" or \"}\" in an inline table")
                }
            }
        }

        mutating func basicString() throws -> String {
            i += 1
            var out = ""
            while true {
                guard let c = peek, c != "\n" else { throw error("unterminated string") }
                i += 1
                if c == "\"" { return out }
                if c == "\\" {
                    guard let e = peek else { throw error("unterminated string") }
                    i += 1
                    switch e {
                    case "\"": out += "\""
                    case "\\": out += "\\"
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "r": out += "\r"
                    case "b": out += "\u{8}"
                    case "f": out += "\u{c}"
                    case "u", "U":
                        let n = e == "u" ? 4 : 8
                        guard i + n <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[i..<(i + n)])), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw error("bad unicode escape") }
                        out.unicodeScalars.append(scalar)
                        i += n
                    default: throw error("bad escape \\\(e)")
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }

        mutating func literalString() throws -> String {
            i += 1
            var out = ""
            while true {
                guard let c = peek, c != "\n" else { throw error("unterminated string") }
                i += 1
                if c == "'" { return out }
                out.unicodeScalars.append(c)
            }
        }
    }
}
