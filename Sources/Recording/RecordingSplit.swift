/// When a recording goes on in a new file, and what the files are called.
///
/// `--out drive.mcap` with a limit writes `drive-0000.mcap`, `drive-0001.mcap`, ...: the
/// `.mcap` extension (if any) is taken off, a dash and a four-digit part number (more digits
/// after 9999) and `.mcap` are put on. Parts change only between frames, so a frame, its
/// label map and its results always share a file.
public struct RecordingSplit: Sendable, Equatable {
    /// Start a new part once the current one holds this many bytes (nil: no size limit).
    public var maxBytes: UInt64?
    /// Start a new part once a frame is this much later (log time) than the part's first frame.
    public var maxDurationNanos: UInt64?

    /// A policy; at least one limit should be set for it to split anything.
    public init(maxBytes: UInt64? = nil, maxDurationNanos: UInt64? = nil) {
        self.maxBytes = maxBytes
        self.maxDurationNanos = maxDurationNanos
    }

    /// The smallest size limit accepted: below it every part would be little but header and summary.
    public static let minimumBytes: UInt64 = 4096

    /// Whether a frame at `logTime` starts a new part, given what the current part holds.
    public func needsNewPart(partBytes: UInt64, partStartTime: UInt64?, logTime: UInt64) -> Bool {
        if let maxBytes, partBytes >= maxBytes { return true }
        if let maxDurationNanos, let start = partStartTime, logTime >= start, logTime - start >= maxDurationNanos {
            return true
        }
        return false
    }

    /// The path of part `index` of a recording asked for as `base`.
    public static func partPath(base: String, index: Int) -> String {
        let stem = base.hasSuffix(".mcap") ? String(base.dropLast(5)) : base
        let digits = String(index)
        return stem + "-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + ".mcap"
    }

    /// Parses a size: plain bytes (`1048576`) or a number with a unit, `KiB MiB GiB TiB`
    /// (powers of 1024, also written `K M G T`) or `kB MB GB TB` (powers of 1000).
    public static func parseBytes(_ text: String) throws(RecordingSplitError) -> UInt64 {
        let (number, unit) = split(text)
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw RecordingSplitError("size '\(text)' must be a positive number of bytes, e.g. 536870912 or 512MiB")
        }
        let scale: Double
        switch unit.lowercased() {
        case "", "b": scale = 1
        case "k", "kib": scale = 1024
        case "m", "mib": scale = 1024 * 1024
        case "g", "gib": scale = 1024 * 1024 * 1024
        case "t", "tib": scale = 1024 * 1024 * 1024 * 1024
        case "kb": scale = 1e3
        case "mb": scale = 1e6
        case "gb": scale = 1e9
        case "tb": scale = 1e12
        default:
            throw RecordingSplitError("size '\(text)': unknown unit '\(unit)' (use bytes, KiB, MiB, GiB, TiB, kB, MB, GB or TB)")
        }
        let bytes = (value * scale).rounded(.down)
        guard bytes < 1.8e19 else { throw RecordingSplitError("size '\(text)' is too large") }
        guard UInt64(bytes) >= minimumBytes else {
            throw RecordingSplitError("size '\(text)' is below the minimum of \(minimumBytes) bytes")
        }
        return UInt64(bytes)
    }

    /// Parses a duration: plain seconds (`600`, `0.5`) or a number with `ms`, `s`, `m`/`min` or `h`.
    public static func parseDuration(_ text: String) throws(RecordingSplitError) -> UInt64 {
        let (number, unit) = split(text)
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw RecordingSplitError("duration '\(text)' must be a positive number of seconds, e.g. 600 or 10m")
        }
        let scale: Double
        switch unit.lowercased() {
        case "", "s", "sec": scale = 1e9
        case "ms": scale = 1e6
        case "m", "min": scale = 60e9
        case "h": scale = 3600e9
        default:
            throw RecordingSplitError("duration '\(text)': unknown unit '\(unit)' (use ms, s, m or h; plain numbers are seconds)")
        }
        let nanos = (value * scale).rounded(.down)
        guard nanos >= 1e6 else { throw RecordingSplitError("duration '\(text)' is below the minimum of 1 ms") }
        guard nanos < 1.8e19 else { throw RecordingSplitError("duration '\(text)' is too long") }
        return UInt64(nanos)
    }

    /// The leading number and the unit after it (spaces around and between them allowed).
    private static func split(_ text: String) -> (Substring, Substring) {
        var trimmed = Substring(text).drop(while: { $0 == " " })
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        let numberEnd = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        return (trimmed[..<numberEnd], trimmed[numberEnd...].drop(while: { $0 == " " }))
    }
}

/// Why a split size or duration was rejected (one line for the user).
public struct RecordingSplitError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
