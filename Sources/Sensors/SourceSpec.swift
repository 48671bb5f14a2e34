import Scenes

/// Why a source spec string was rejected.
public struct SourceSpecError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A frame source named by one string, as the command line and the config spell it:
///
///     v4l2:DEVICE[?width=W&height=H&fps=F&format=yuyv|rgb8|bgr8&buffers=N&wait=true|false]
///     replay:FILE.mcap[?rate=R|max&loop=true|false]
///     synthetic:DOMAIN[?width=W&height=H&fps=F&seed=S]
///
/// A `?` ends the path; a path that itself contains `?` cannot be named this way.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    case v4l2(V4L2Options)
    case replay(path: String, options: ReplaySpec)
    case synthetic(SyntheticSpec)

    /// Replay settings a spec can carry.
    public struct ReplaySpec: Sendable, Equatable {
        /// nil = as fast as frames are taken.
        public var rate: Double? = 1.0
        public var loop: Bool = false
        public init(rate: Double? = 1.0, loop: Bool = false) {
            self.rate = rate
            self.loop = loop
        }
    }

    /// Synthetic scene settings a spec can carry.
    public struct SyntheticSpec: Sendable, Equatable {
        public var domain: SceneDomain
        public var width: Int = 512
        public var height: Int = 256
        /// nil = render as fast as frames are taken.
        public var fps: Double? = 30
        public var seed: UInt64 = 1
        public init(domain: SceneDomain, width: Int = 512, height: Int = 256, fps: Double? = 30, seed: UInt64 = 1) {
            self.domain = domain
            self.width = width
            self.height = height
            self.fps = fps
            self.seed = seed
        }
    }

    /// Parses a spec; every mistake gives one error that quotes the spec and says what is allowed.
    public init(parsing text: String) throws(SourceSpecError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw SourceSpecError("source '\(text)' must be v4l2:DEVICE, replay:FILE.mcap or synthetic:DOMAIN")
        }
        let kind = String(text[..<colon])
        let rest = text[text.index(after: colon)...]
        let target: String
        var query: [(String, String)] = []
        if let mark = rest.firstIndex(of: "?") {
            target = String(rest[..<mark])
            for item in rest[rest.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw SourceSpecError("source '\(text)': option '\(item)' must be KEY=VALUE")
                }
                query.append((String(parts[0]), String(parts[1])))
            }
        } else {
            target = String(rest)
        }
        let options = Query(spec: text, items: query)
        switch kind {
        case "v4l2":
            guard !target.isEmpty else { throw SourceSpecError("source '\(text)': missing device path, e.g. v4l2:/dev/video0") }
            try options.only(["width", "height", "fps", "format", "buffers", "wait"])
            var v4l2 = V4L2Options(device: target)
            v4l2.width = try options.int("width", 16...16384)
            v4l2.height = try options.int("height", 16...16384)
            v4l2.fps = try options.double("fps", 0.1...1000)
            if let format = options.value("format") {
                guard let parsed = PixelFormat(rawValue: format), parsed != .mono8 else {
                    throw SourceSpecError("source '\(text)': format must be yuyv, rgb8 or bgr8, got '\(format)'")
                }
                v4l2.format = parsed
            }
            v4l2.bufferCount = try options.int("buffers", 2...32) ?? v4l2.bufferCount
            v4l2.waitForDevice = try options.bool("wait") ?? false
            self = .v4l2(v4l2)
        case "replay":
            guard !target.isEmpty else { throw SourceSpecError("source '\(text)': missing recording path, e.g. replay:drive.mcap") }
            try options.only(["rate", "loop"])
            var replay = ReplaySpec()
            if options.value("rate") == "max" {
                replay.rate = nil
            } else if let rate = try options.double("rate", 0.001...1000) {
                replay.rate = rate
            }
            replay.loop = try options.bool("loop") ?? false
            self = .replay(path: target, options: replay)
        case "synthetic":
            guard let domain = SceneDomain(rawValue: target) else {
                let names = SceneDomain.allCases.map(\.rawValue).joined(separator: ", ")
                throw SourceSpecError("source '\(text)': unknown synthetic domain '\(target)' (one of \(names))")
            }
            try options.only(["width", "height", "fps", "seed"])
            var synthetic = SyntheticSpec(domain: domain)
            synthetic.width = try options.int("width", 16...8192) ?? synthetic.width
            synthetic.height = try options.int("height", 16...8192) ?? synthetic.height
            if options.value("fps") == "max" {
                synthetic.fps = nil
            } else if let fps = try options.double("fps", 0.1...1000) {
                synthetic.fps = fps
            }
            if let seed = options.value("seed") {
                guard let value = UInt64(seed) else { throw SourceSpecError("source '\(text)': seed must be a whole number ≥ 0, got '\(seed)'") }
                synthetic.seed = value
            }
            self = .synthetic(synthetic)
        default:
            throw SourceSpecError("source '\(text)': unknown kind '\(kind)' (v4l2, replay or synthetic)")
        }
    }

    /// The spec written back in canonical form, options only where they differ from the defaults.
    public var description: String {
        switch self {
        case let .v4l2(o):
            var items: [String] = []
            if let w = o.width { items.append("width=\(w)") }
            if let h = o.height { items.append("height=\(h)") }
            if let f = o.fps { items.append("fps=\(Self.number(f))") }
            if let f = o.format { items.append("format=\(f.rawValue)") }
            if o.bufferCount != 4 { items.append("buffers=\(o.bufferCount)") }
            if o.waitForDevice { items.append("wait=true") }
            return "v4l2:\(o.device)" + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
        case let .replay(path, o):
            var items: [String] = []
            if o.rate != 1.0 { items.append("rate=\(o.rate.map(Self.number) ?? "max")") }
            if o.loop { items.append("loop=true") }
            return "replay:\(path)" + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
        case let .synthetic(o):
            let defaults = SyntheticSpec(domain: o.domain)
            var items: [String] = []
            if o.width != defaults.width { items.append("width=\(o.width)") }
            if o.height != defaults.height { items.append("height=\(o.height)") }
            if o.fps != defaults.fps { items.append("fps=\(o.fps.map(Self.number) ?? "max")") }
            if o.seed != defaults.seed { items.append("seed=\(o.seed)") }
            return "synthetic:\(o.domain.rawValue)" + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
        }
    }

    /// Opens the source. A camera missing at start fails here with one clear error unless the
    /// spec says `wait=true` or `waitForDevice` is set (then it is waited for in `nextFrame`).
    public func makeSource(waitForDevice: Bool = false) throws -> any FrameSource {
        switch self {
        case var .v4l2(options):
            options.waitForDevice = options.waitForDevice || waitForDevice
            return try V4L2Source(options: options)
        case let .replay(path, options):
            return try ReplaySource(path: path, options: ReplayOptions(rate: options.rate.map { .paced($0) } ?? .maximum,
                                                                        loop: options.loop))
        case let .synthetic(o):
            return try SyntheticSource(domain: o.domain, seed: o.seed, width: o.width, height: o.height, rate: o.fps)
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The KEY=VALUE options of one spec.
private struct Query {
    let spec: String
    let items: [(String, String)]

    func value(_ key: String) -> String? { items.last { $0.0 == key }?.1 }

    func only(_ allowed: Set<String>) throws(SourceSpecError) {
        for (key, _) in items where !allowed.contains(key) {
            throw SourceSpecError("source '\(spec)': unknown option '\(key)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func int(_ key: String, _ range: ClosedRange<Int>) throws(SourceSpecError) -> Int? {
        guard let text = value(key) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw SourceSpecError("source '\(spec)': \(key) must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return v
    }

    func double(_ key: String, _ range: ClosedRange<Double>) throws(SourceSpecError) -> Double? {
        guard let text = value(key) else { return nil }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw SourceSpecError("source '\(spec)': \(key) must be a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return v
    }

    func bool(_ key: String) throws(SourceSpecError) -> Bool? {
        guard let text = value(key) else { return nil }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw SourceSpecError("source '\(spec)': \(key) must be true or false, got '\(text)'")
        }
    }
}
