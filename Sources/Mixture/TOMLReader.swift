import Engine

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

    /// Changes the value at an existing `key` in place: it is moved out of the dictionary while
    /// `body` runs, so its storage is not shared and nothing below it is copied.
    mutating func modify(_ key: String, _ body: (inout TOMLValue) throws -> Void) rethrows {
        guard var value = values.removeValue(forKey: key) else { return }
        defer { values[key] = value }
        try body(&value)
    }
}

/// A TOML syntax error with its line.
public struct TOMLError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)".escapedForOneLine }
}

/// A strict reader for the TOML subset of `moe.toml`: tables, arrays of tables, dotted and
/// quoted keys, basic and literal strings, integers, floats, booleans, (multi-line) arrays and
/// inline tables. Multi-line strings and dates are rejected with an error, never misread;
/// duplicate keys and redefined tables are errors, as TOML requires. Parsing takes time linear
/// in the text, and nesting is bounded, so no input can exhaust the stack.
public enum TOMLReader {
    /// Deepest nesting of arrays and inline tables inside one value (a manifest needs 2).
    public static let maximumNesting = 64
    /// Most dotted parts in one key or table header (a manifest needs 2).
    public static let maximumKeyParts = 128
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
        /// Names (see `name`) of tables defined by a header, and of arrays made by [[ ]].
        var definedTables: Set<String> = []
        var definedArrays: Set<String> = []
        /// Arrays and inline tables open around the value being read.
        var nesting = 0

        enum PathStep: Equatable { case key(String), element(String, Int) }

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
            let parent = try resolve(Array(path.dropLast()))
            let last = path.last!
            let full = name(parent, last)
            let dotted = path.joined(separator: ".")
            let line = self.line
            if isArray {
                let extending = definedArrays.contains(full)
                var count = 0
                try mutate(parent) { table in
                    // Decided before changing anything: a value held by the switch would make the
                    // append below copy the whole array.
                    let isNew: Bool
                    switch table[last] {
                    case nil: isNew = true
                    case .array? where extending: isNew = false
                    default: throw TOMLError(line: line, message: "\(dotted) is already defined and is not an array of tables")
                    }
                    guard !isNew else {
                        table.set(last, .array([.table(TOMLTable())]))
                        count = 1
                        return
                    }
                    table.modify(last) { value in
                        guard case .array(var items) = value else { return }
                        value = .boolean(false)  // drops the enum's hold on the array, so the append does not copy it
                        items.append(.table(TOMLTable()))
                        count = items.count
                        value = .array(items)
                    }
                }
                definedArrays.insert(full)
                current = parent + [.element(last, count - 1)]
            } else {
                guard !definedTables.contains(full) else { throw error("table [\(dotted)] is defined twice") }
                try mutate(parent) { table in
                    switch table[last] {
                    case nil: table.set(last, .table(TOMLTable()))
                    case .table?: break
                    default: throw TOMLError(line: line, message: "\(dotted) is already a value, not a table")
                    }
                }
                definedTables.insert(full)
                current = parent + [.key(last)]
            }
            try endOfLine()
        }

        /// A table's identity: its path, with the element index where it passes an array of tables.
        func name(_ steps: [PathStep], _ last: String) -> String {
            (steps.map { step -> String in
                switch step { case .key(let k): k; case .element(let k, let n): "\(k)[\(n)]" }
            } + [last]).joined(separator: "\u{1}")
        }

        /// Walks `keys` from the root, creating implicit tables; an array of tables resolves to
        /// its last element.
        mutating func resolve(_ keys: [String]) throws -> [PathStep] {
            var steps: [PathStep] = []
            // A read-only view: copying a table shares its storage until one of them is written.
            var view: TOMLTable? = root
            for (n, key) in keys.enumerated() {
                switch view?[key] {
                case .table(let t)?:
                    steps.append(.key(key))
                    view = t
                case .array(let items)? where definedArrays.contains(name(steps, key)):
                    guard case .table(let t)? = items.last else { throw error("\(key) is not an array of tables") }
                    steps.append(.element(key, items.count - 1))
                    view = t
                case nil:
                    // The rest of the path is new: build it inside out and store it in one write,
                    // after dropping the view so that write does not copy the tables it shares.
                    view = nil
                    var inner = TOMLTable()
                    for k in keys[(n + 1)...].reversed() {
                        var outer = TOMLTable()
                        outer.set(k, .table(inner))
                        inner = outer
                    }
                    let chain = inner
                    try mutate(steps) { $0.set(key, .table(chain)) }
                    return steps + keys[n...].map { .key($0) }
                default: throw error("\(key) is a value, not a table")
                }
            }
            return steps
        }

        /// Runs `body` on the table at `steps`, changed in place (see `descend`).
        mutating func mutate(_ steps: [PathStep], _ body: (inout TOMLTable) throws -> Void) throws {
            try Self.descend(&root, steps[...], line: line, body)
        }

        /// Walks `steps` below `table` and runs `body` there. Each level is moved out of its
        /// parent while it changes, so no table on the path is copied: one key costs time in
        /// proportion to its depth, not to the size of the tables around it.
        static func descend(_ table: inout TOMLTable, _ steps: ArraySlice<PathStep>, line: Int,
                            _ body: (inout TOMLTable) throws -> Void) throws {
            guard let step = steps.first else { return try body(&table) }
            // Steps come from `resolve`, and tables are never removed, so the path exists.
            func broken() -> TOMLError { TOMLError(line: line, message: "internal error: the table path \(steps) does not exist") }
            switch step {
            case .key(let k):
                guard table[k] != nil else { throw broken() }
                try table.modify(k) { slot in
                    guard case .table(var inner) = slot else { throw broken() }
                    slot = .boolean(false)
                    defer { slot = .table(inner) }
                    try descend(&inner, steps.dropFirst(), line: line, body)
                }
            case .element(let k, _):
                guard table[k] != nil else { throw broken() }
                try table.modify(k) { slot in
                    guard case .array(var items) = slot, case .table(var inner)? = items.last else { throw broken() }
                    slot = .boolean(false)
                    items.removeLast()
                    defer {
                        items.append(.table(inner))
                        slot = .array(items)
                    }
                    try descend(&inner, steps.dropFirst(), line: line, body)
                }
            }
        }

        mutating func insert(_ value: TOMLValue, at key: [String]) throws {
            let line = self.line, dotted = key.joined(separator: ".")
            try mutate(current) { table in try Self.place(value, at: key[...], in: &table, line: line, dotted: dotted) }
        }

        /// Puts `value` at the dotted `key` below `table`, creating the tables in between.
        static func place(_ value: TOMLValue, at key: ArraySlice<String>, in table: inout TOMLTable, line: Int,
                          dotted: String) throws {
            let first = key.first!
            guard key.count > 1 else {
                guard table[first] == nil else { throw TOMLError(line: line, message: "key \(dotted) is defined twice") }
                table.set(first, value)
                return
            }
            if table[first] == nil { table.set(first, .table(TOMLTable())) }
            try table.modify(first) { slot in
                guard case .table(var inner) = slot else { throw TOMLError(line: line, message: "\(first) is a value, not a table") }
                slot = .boolean(false)
                defer { slot = .table(inner) }
                try place(value, at: key.dropFirst(), in: &inner, line: line, dotted: dotted)
            }
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
                // Bounded so that tables built from one key cannot nest without limit.
                guard parts.count < TOMLReader.maximumKeyParts else {
                    throw error("a key has more than \(TOMLReader.maximumKeyParts) dotted parts")
                }
                i += 1
            }
        }

        /// Counts one more level of arrays and inline tables around the value being read; deeper
        /// than `maximumNesting` is an error, as reading each level takes stack.
        mutating func enterNesting() throws {
            nesting += 1
            guard nesting <= TOMLReader.maximumNesting else {
                throw error("arrays and inline tables nest more than \(TOMLReader.maximumNesting) levels deep")
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
            try enterNesting()
            defer { nesting -= 1 }
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
            try enterNesting()
            defer { nesting -= 1 }
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
