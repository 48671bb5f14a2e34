import Engine
import Foundation

/// A loaded and validated model directory (docs/model-format.md): the manifest plus what the
/// ONNX graphs say about themselves. Every shape is checked here, once, not per frame.
public final class MixtureModel: @unchecked Sendable {
    /// Where one graph reads and writes, found at load time.
    struct ExpertInterface {
        let imageInput: String
        let logitsOutput: Int
        let featuresOutput: Int?
        /// The `dropout_mask` input's shape (MC dropout only).
        let maskShape: [Int]?
    }

    /// Name of the MC-dropout mask input (docs/model-format.md).
    public static let maskInputName = "dropout_mask"

    public let manifest: MixtureManifest
    /// The model directory as given.
    public let directory: String
    /// C, the number of classes every expert predicts.
    public let classes: Int
    /// Each expert's feature output shape [1, F, h, w] (with a gate).
    public let featureShapes: [[Int]]
    /// Floating-point operations per run of each expert, the gate and the combine conv.
    public let expertFlops: [Int]
    public let gateFlops: Int
    public let combineFlops: Int
    /// Parameters of every graph together.
    public let parameterCount: Int

    let experts: [ExpertInterface]
    let gateInputs: [Int]
    let gateOutput: Int

    private let lock = NSLock()
    private var spare: (experts: [InferenceSession], gate: InferenceSession?, conv: InferenceSession?)?

    /// Loads `directory/moe.toml` and checks it and every graph it names; files must stay inside
    /// `root` (default: the directory's parent, the models folder). Throws `MixtureModelError`.
    public static func load(directory: String, root: String? = nil) throws -> MixtureModel {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL.path
        let manifestPath = folder + "/moe.toml"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MixtureModelError(file: directory, "not a model directory")
        }
        let models = root ?? URL(fileURLWithPath: folder).deletingLastPathComponent().path
        let manifest = try MixtureManifest.load(path: manifestPath, directory: folder, root: models)
        return try MixtureModel(manifest: manifest, directory: directory)
    }

    private init(manifest: MixtureManifest, directory: String) throws {
        self.manifest = manifest
        self.directory = directory
        let h = manifest.input.height, w = manifest.input.width
        let mc = manifest.mcDropout != nil
        var interfaces: [ExpertInterface] = []
        var sessions: [InferenceSession] = []
        var classCounts: [Int] = []
        var featureShapes: [[Int]] = []
        var flops: [Int] = []
        var parameters = 0
        for expert in manifest.experts {
            let fail = { (m: String) in MixtureModelError(file: expert.file, "expert \(expert.name): \(m)") }
            let report = try Self.inspect(expert.file)
            let images = report.inputs.filter { $0.name != Self.maskInputName }
            guard images.count == 1, let image = images.first else {
                throw fail("needs exactly one image input [1, 3, \(h), \(w)], has \(report.inputs.map(\.name))")
            }
            guard image.dims == [1, 3, h, w] else {
                throw fail("image input \(image.name) is \(Self.dims(image.dims)), the manifest needs [1, 3, \(h), \(w)]")
            }
            let hasMask = report.inputs.contains { $0.name == Self.maskInputName }
            if mc && !hasMask { throw fail("an MC-dropout expert needs the input \"\(Self.maskInputName)\"") }
            if !mc && hasMask { throw fail("has a \"\(Self.maskInputName)\" input but the manifest has no [mc_dropout]") }
            let session: InferenceSession
            switch report.session {
            case .success(let s): session = s
            case .failure(let error): throw fail("cannot be loaded: \(error)")
            }
            guard let logits = session.outputs.firstIndex(where: { $0.name == expert.logits }) else {
                throw fail("has no output named \"\(expert.logits)\" (outputs: \(session.outputs.map(\.name).joined(separator: ", ")))")
            }
            let logitShape = session.outputs[logits].info.shape
            guard logitShape.count == 4, logitShape[0] == 1, logitShape[2] == h, logitShape[3] == w, logitShape[1] >= 2 else {
                throw fail("logits output \(expert.logits) is \(logitShape), must be [1, C, \(h), \(w)] with C ≥ 2")
            }
            classCounts.append(logitShape[1])
            var features: Int? = nil
            if let name = expert.features {
                guard let index = session.outputs.firstIndex(where: { $0.name == name }) else {
                    throw fail("has no output named \"\(name)\" (outputs: \(session.outputs.map(\.name).joined(separator: ", ")))")
                }
                let shape = session.outputs[index].info.shape
                guard shape.count == 4, shape[0] == 1, shape.allSatisfy({ $0 > 0 }) else {
                    throw fail("features output \(name) is \(shape), must be a static [1, F, h, w]")
                }
                features = index
                featureShapes.append(shape)
            }
            var maskShape: [Int]? = nil
            if hasMask, let index = session.inputs.firstIndex(where: { $0.name == Self.maskInputName }) {
                maskShape = session.inputs[index].info.shape
            }
            interfaces.append(ExpertInterface(imageInput: image.name, logitsOutput: logits, featuresOutput: features,
                                              maskShape: maskShape))
            sessions.append(session)
            flops.append(session.statistics.flops)
            parameters += session.statistics.parameterCount
        }
        guard Set(classCounts).count == 1, let c = classCounts.first else {
            let list = zip(manifest.expertNames, classCounts).map { "\($0) \($1)" }.joined(separator: ", ")
            throw MixtureModelError(file: manifest.experts[0].file, "experts disagree on the class count: \(list)")
        }
        let manifestFile = directory + "/moe.toml"
        guard manifest.classNames.count == c else {
            throw MixtureModelError(file: manifestFile, "\(manifest.classNames.count) class names and \(manifest.classColors.count) colours for \(c) logit channels")
        }
        classes = c

        var gateSession: InferenceSession? = nil
        var gateInputs: [Int] = []
        var gateOutput = 0
        var gateFlops = 0
        if let gate = manifest.gate {
            let fail = { (m: String) in MixtureModelError(file: gate.file, "gate: \(m)") }
            let report = try Self.inspect(gate.file)
            let session: InferenceSession
            switch report.session {
            case .success(let s): session = s
            case .failure(let error): throw fail("cannot be loaded: \(error)")
            }
            for (e, name) in gate.inputs.enumerated() {
                guard let index = session.inputs.firstIndex(where: { $0.name == name }) else {
                    throw fail("has no input named \"\(name)\" (inputs: \(session.inputs.map(\.name).joined(separator: ", ")))")
                }
                let declared = report.inputs.first { $0.name == name }?.dims ?? []
                guard declared == featureShapes[e].map(Optional.some) else {
                    throw fail("input \(name) is \(Self.dims(declared)), expert \(manifest.experts[e].name)'s features are \(featureShapes[e])")
                }
                gateInputs.append(index)
            }
            if session.inputs.count != gate.inputs.count {
                let extra = session.inputs.map(\.name).filter { !gate.inputs.contains($0) }
                throw fail("has inputs the manifest does not feed: \(extra.joined(separator: ", "))")
            }
            guard let out = session.outputs.firstIndex(where: { $0.name == gate.output }) else {
                throw fail("has no output named \"\(gate.output)\" (outputs: \(session.outputs.map(\.name).joined(separator: ", ")))")
            }
            let e = manifest.experts.count
            let want = gate.kind == .simple ? [1, e] : [1, e, c]
            let shape = session.outputs[out].info.shape
            guard shape == want else {
                throw fail("output \(gate.output) is \(shape); a \(gate.kind.rawValue) gate for \(e) experts and \(c) classes needs \(want)")
            }
            gateOutput = out
            gateSession = session
            gateFlops = session.statistics.flops
            parameters += session.statistics.parameterCount
        }
        self.gateInputs = gateInputs
        self.gateOutput = gateOutput
        self.gateFlops = gateFlops

        var convSession: InferenceSession? = nil
        var combineFlops = 0
        if let conv = manifest.combineConv {
            let report = try Self.inspect(conv)
            let want = [1, c, h, w]
            guard report.inputs.count == 1, report.inputs[0].name == "moe_logits", report.inputs[0].dims == want.map(Optional.some),
                  case .success(let session) = report.session,
                  session.outputs.count == 1, session.outputs[0].name == "logits", session.outputs[0].info.shape == want else {
                let inputs = report.inputs.map { "\($0.name) \(Self.dims($0.dims))" }.joined(separator: ", ")
                throw MixtureModelError(file: conv, "combine conv must map moe_logits \(want) to logits \(want); has inputs \(inputs) and outputs \(report.outputNames)")
            }
            convSession = session
            combineFlops = session.statistics.flops
            parameters += session.statistics.parameterCount
        }
        experts = interfaces
        self.featureShapes = featureShapes
        expertFlops = flops
        self.combineFlops = combineFlops
        parameterCount = parameters
        spare = (sessions, gateSession, convSession)
    }

    /// Reads a graph's interface and builds a one-thread session, errors naming the file.
    private static func inspect(_ path: String) throws -> ModelReport {
        do {
            return try ModelReport.inspect(path: path)
        } catch {
            throw MixtureModelError(file: path, "\(error)")
        }
    }

    static func dims(_ d: [Int?]) -> String { "[" + d.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]" }

    /// Sessions for a runner: the one-thread sessions validation built (once), else new ones.
    func makeSessions(threads: Int, expertCopies: Int = 1) throws
        -> (experts: [InferenceSession], gate: InferenceSession?, conv: InferenceSession?) {
        lock.lock()
        let reused = threads == 1 && expertCopies == 1 ? spare : nil
        if reused != nil { spare = nil }
        lock.unlock()
        if let reused { return reused }
        let options = InferenceSession.Options(threads: threads)
        var experts: [InferenceSession] = []
        for _ in 0..<expertCopies {
            for expert in manifest.experts { experts.append(try InferenceSession(path: expert.file, options: options)) }
        }
        let gate = try manifest.gate.map { try InferenceSession(path: $0.file, options: .init(threads: 1)) }
        let conv = try manifest.combineConv.map { try InferenceSession(path: $0, options: options) }
        return (experts, gate, conv)
    }
}
