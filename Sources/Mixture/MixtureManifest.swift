import Engine
import Foundation

/// Why a model directory could not be loaded: one line naming the file and the problem.
public struct MixtureModelError: Error, CustomStringConvertible, Equatable {
    /// The file at fault (moe.toml or an ONNX file).
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)".escapedForOneLine }
}

/// Channel order of the experts' NCHW input.
public enum ColorOrder: String, Sendable {
    case rgb, bgr
}

/// What a model directory holds (docs/model-format.md "Validation" 7-8).
public enum MixtureKind: String, Sendable {
    /// Experts + gate (model-level mixture of experts).
    case mixture
    /// E ≥ 2 experts, no gate: p̄ = (1/E) Σ_e softmax(z_e).
    case ensemble
    /// One expert with a `dropout_mask` input, S stochastic passes.
    case mcDropout = "mc-dropout"
    /// One expert, nothing else: a plain segmentation model.
    case single
}

/// The parsed `moe.toml` (format version 1), with file paths resolved.
public struct MixtureManifest: Sendable {
    /// Largest `moe.toml` read (the demo's are about 1 kB); anything bigger is not a manifest.
    public static let maximumBytes = 1 << 20
    /// The experts' input: size, channel order and normalisation x = (pixel·scale − mean)/std.
    public struct Input: Sendable {
        public let width: Int
        public let height: Int
        public let color: ColorOrder
        public let scale: Float
        public let mean: [Float]
        public let std: [Float]
    }

    /// One expert graph and the names of its outputs.
    public struct Expert: Sendable {
        public let name: String
        /// Absolute path of the ONNX file.
        public let file: String
        public let logits: String
        public let features: String?
    }

    /// The gate graph.
    public struct Gate: Sendable {
        public let file: String
        public let kind: GateKind
        /// Graph input names, one per expert, in expert order.
        public let inputs: [String]
        public let output: String
    }

    /// MC-dropout settings: passes per frame and drop probability.
    public struct MCDropout: Sendable {
        public let passes: Int
        public let rate: Double
    }

    public let id: String
    public let version: String
    public let description: String?
    public let input: Input
    public let classNames: [String]
    public let classColors: [[UInt8]]
    public let experts: [Expert]
    public let gate: Gate?
    public let combineRule: CombineRule
    /// Absolute path of the optional "+conv" graph.
    public let combineConv: String?
    public let mcDropout: MCDropout?

    /// Expert names in expert order.
    public var expertNames: [String] { experts.map(\.name) }
    /// The gate kind, nil without a gate.
    public var gateKind: GateKind? { gate?.kind }

    /// Mixture, ensemble, MC dropout or a single model.
    public var kind: MixtureKind {
        if gate != nil { return .mixture }
        if mcDropout != nil { return .mcDropout }
        return experts.count > 1 ? .ensemble : .single
    }

    /// Reads `moe.toml` at `path` (a regular file of at most `maximumBytes`, UTF-8) and parses it
    /// as `parse` does.
    public static func load(path: String, directory: String, root: String) throws -> MixtureManifest {
        let data: Data
        do {
            data = try RegularFile(path: path).readAll(limit: maximumBytes)
        } catch {
            throw MixtureModelError(file: path, error.isMissing ? "missing (a model directory needs moe.toml)" : error.reason)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw MixtureModelError(file: path, "not UTF-8 text") }
        return try parse(text, file: path, directory: directory, root: root)
    }

    /// Parses and checks `moe.toml` text (rules 1-2, 6-8 of the format; the ONNX interfaces are
    /// checked by `MixtureModel.load`). `directory` resolves relative paths; files must stay in `root`.
    public static func parse(_ text: String, file: String, directory: String, root: String) throws -> MixtureManifest {
        func fail(_ message: String) -> MixtureModelError { MixtureModelError(file: file, message) }
        let table: TOMLTable
        do {
            table = try TOMLReader.parse(text)
        } catch let error as TOMLError {
            throw fail("not valid TOML: \(error)")
        }
        let reader = TableReader(table: table, context: "", fail: fail)
        try reader.allow(["format", "format_version", "id", "version", "description", "input", "classes", "experts",
                          "gate", "combine", "mc_dropout"])
        guard try reader.string("format") == "moeseg.moe" else { throw fail("format must be \"moeseg.moe\"") }
        let formatVersion = try reader.integer("format_version")
        guard formatVersion == 1 else { throw fail("format_version \(formatVersion) is not supported (this moeseg reads 1)") }
        let id = try reader.string("id")
        let version = try reader.string("version")
        guard !id.isEmpty, !version.isEmpty else { throw fail("id and version must be non-empty strings") }
        let description = try reader.optionalString("description")

        let inputTable = try reader.table("input")
        try inputTable.allow(["width", "height", "color", "scale", "mean", "std"])
        let width = try inputTable.integer("width"), height = try inputTable.integer("height")
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw fail("input width and height must be positive integers (at most 16384), got \(width)×\(height)")
        }
        guard let color = ColorOrder(rawValue: try inputTable.string("color")) else {
            throw fail("input color must be \"rgb\" or \"bgr\"")
        }
        let scale = try inputTable.number("scale")
        let mean = try inputTable.numbers("mean"), std = try inputTable.numbers("std")
        guard scale.isFinite, mean.count == 3, std.count == 3, mean.allSatisfy(\.isFinite),
              std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw fail("input scale must be finite, mean and std need 3 finite values each, std > 0")
        }
        let input = Input(width: width, height: height, color: color, scale: Float(scale),
                          mean: mean.map(Float.init), std: std.map(Float.init))

        let classes = try reader.table("classes")
        try classes.allow(["names", "colors"])
        let names = try classes.strings("names")
        let colorValues = try classes.array("colors")
        var colors: [[UInt8]] = []
        for value in colorValues {
            guard case .array(let rgb) = value, rgb.count == 3 else { throw fail("class colours must be [r, g, b] lists") }
            var triple: [UInt8] = []
            for component in rgb {
                guard case .integer(let v) = component, (0...255).contains(v) else {
                    throw fail("class colours must be [r, g, b] with 0...255")
                }
                triple.append(UInt8(v))
            }
            colors.append(triple)
        }
        guard names.count == colors.count else { throw fail("\(names.count) class names but \(colors.count) colours") }
        guard Set(names).count == names.count else { throw fail("class names are not unique") }

        let resolver = PathResolver(directory: directory, root: root, manifest: file)
        var experts: [Expert] = []
        for (index, value) in try reader.array("experts").enumerated() {
            guard case .table(let t) = value else { throw fail("[[experts]] entry \(index) is not a table") }
            let expert = TableReader(table: t, context: "[[experts]] entry \(index): ", fail: fail)
            try expert.allow(["name", "file", "logits", "features"])
            let name = try expert.string("name")
            experts.append(Expert(name: name, file: try resolver.resolve(try expert.string("file")),
                                  logits: try expert.string("logits"), features: try expert.optionalString("features")))
        }
        guard !experts.isEmpty else { throw fail("no experts") }
        guard Set(experts.map(\.name)).count == experts.count else { throw fail("expert names are not unique") }

        var gate: Gate? = nil
        if reader.has("gate") {
            let g = try reader.table("gate")
            try g.allow(["file", "kind", "inputs", "output"])
            guard let kind = GateKind(rawValue: try g.string("kind")) else { throw fail("gate kind must be \"simple\" or \"classwise\"") }
            let inputs = try g.strings("inputs")
            let output = try g.string("output")
            guard experts.count >= 2 else { throw fail("a gate needs at least two experts, found \(experts.count)") }
            guard inputs.count == experts.count else {
                throw fail("gate inputs name \(inputs.count) graph inputs for \(experts.count) experts")
            }
            // A repeated name would feed one expert's features twice and leave another input unfed.
            var named = Set<String>()
            if let repeated = inputs.first(where: { !named.insert($0).inserted }) {
                throw fail("gate inputs name \"\(repeated)\" twice; each expert feeds its own graph input")
            }
            if let missing = experts.first(where: { $0.features == nil }) {
                throw fail("with a gate every expert needs a features output; expert \(missing.name) has none")
            }
            gate = Gate(file: try resolver.resolve(try g.string("file")), kind: kind, inputs: inputs, output: output)
        }

        var rule = CombineRule.logits
        var conv: String? = nil
        if reader.has("combine") {
            let c = try reader.table("combine")
            try c.allow(["rule", "conv"])
            if let text = try c.optionalString("rule") {
                guard let parsed = CombineRule(rawValue: text) else { throw fail("combine rule must be \"logits\" or \"probabilities\"") }
                rule = parsed
            }
            if let path = try c.optionalString("conv") {
                guard rule == .logits, gate != nil else { throw fail("a combine conv needs a gate and rule = \"logits\"") }
                conv = try resolver.resolve(path)
            }
        }

        var mc: MCDropout? = nil
        if reader.has("mc_dropout") {
            let m = try reader.table("mc_dropout")
            try m.allow(["passes", "rate"])
            let passes = try m.integer("passes")
            let rate = try m.number("rate")
            guard experts.count == 1, gate == nil else { throw fail("MC dropout is exactly one expert and no gate") }
            guard passes >= 2, passes <= 1024 else { throw fail("mc_dropout passes must be an integer in 2...1024, got \(passes)") }
            guard rate > 0, rate < 1 else { throw fail("mc_dropout rate must be in (0, 1), got \(rate)") }
            mc = MCDropout(passes: passes, rate: rate)
        }

        return MixtureManifest(id: id, version: version, description: description, input: input, classNames: names,
                               classColors: colors, experts: experts, gate: gate, combineRule: rule, combineConv: conv,
                               mcDropout: mc)
    }
}

/// Typed access to one TOML table with errors that name the key.
private struct TableReader {
    let table: TOMLTable
    let context: String
    let fail: (String) -> MixtureModelError

    func has(_ key: String) -> Bool { table[key] != nil }

    func allow(_ keys: Set<String>) throws {
        if let unknown = table.keys.first(where: { !keys.contains($0) }) {
            throw fail("\(context)unknown key \"\(unknown)\"")
        }
    }

    func value(_ key: String) throws -> TOMLValue {
        guard let value = table[key] else { throw fail("\(context)missing key \"\(key)\"") }
        return value
    }

    func wrongType(_ key: String, _ expected: String, _ value: TOMLValue) -> MixtureModelError {
        fail("\(context)\"\(key)\" must be \(expected), not a \(value.typeName)")
    }

    func string(_ key: String) throws -> String {
        let v = try value(key)
        guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
        return s
    }

    func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }

    func integer(_ key: String) throws -> Int {
        let v = try value(key)
        guard case .integer(let n) = v else { throw wrongType(key, "an integer", v) }
        return n
    }

    func number(_ key: String) throws -> Double {
        let v = try value(key)
        switch v {
        case .float(let d): return d
        case .integer(let n): return Double(n)
        default: throw wrongType(key, "a number", v)
        }
    }

    func array(_ key: String) throws -> [TOMLValue] {
        let v = try value(key)
        guard case .array(let items) = v else { throw wrongType(key, "an array", v) }
        return items
    }

    func numbers(_ key: String) throws -> [Double] {
        try array(key).map { item in
            switch item {
            case .float(let d): return d
            case .integer(let n): return Double(n)
            default: throw wrongType(key, "an array of numbers", item)
            }
        }
    }

    func strings(_ key: String) throws -> [String] {
        try array(key).map { item in
            guard case .string(let s) = item else { throw wrongType(key, "an array of strings", item) }
            return s
        }
    }

    func table(_ key: String) throws -> TableReader {
        let v = try value(key)
        guard case .table(let t) = v else { throw wrongType(key, "a table", v) }
        return TableReader(table: t, context: "[\(key)] ", fail: fail)
    }
}

/// Resolves manifest paths (relative to the manifest's folder, `..` and symbolic links
/// followed) and keeps them inside the models folder.
struct PathResolver {
    let directory: String
    let root: String
    let manifest: String

    func resolve(_ relative: String) throws -> String {
        let fail = { (m: String) in MixtureModelError(file: manifest, m) }
        guard !relative.isEmpty else { throw fail("an empty file path") }
        let joined = relative.hasPrefix("/") ? relative : directory + "/" + relative
        let path = URL(fileURLWithPath: joined).standardizedFileURL.resolvingSymlinksInPath().path
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        guard path == rootPath || path.hasPrefix(rootPath.hasSuffix("/") ? rootPath : rootPath + "/") else {
            throw fail("\(relative) leaves the models folder \(rootPath)")
        }
        // Opening checks the file is regular: a FIFO would block the ONNX reader, a device never end.
        do {
            _ = try RegularFile(path: path)
        } catch {
            throw fail(error.isMissing ? "\(relative) does not exist" : "\(relative): \(error.reason)")
        }
        return path
    }
}
