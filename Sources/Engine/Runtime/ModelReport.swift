import Foundation

/// What `moeseg inspect` tells about an ONNX file: declared interface, op histogram,
/// parameters, and — when every op is supported — the optimised graph's cost and memory.
public struct ModelReport: Sendable {
    public struct Port: Sendable {
        public let name: String
        /// Declared dimensions; nil where the file leaves a dimension open.
        public let dims: [Int?]
    }

    public let opset: Int
    public let inputs: [Port]
    public let outputNames: [String]
    public let opHistogram: [String: Int]
    public let parameterCount: Int
    /// "OpType (first at node X)" for every op type the engine lacks.
    public let unsupported: [String]
    /// The loaded session, or why it could not be built (open input shape, bad graph).
    public let session: Result<InferenceSession, EngineError>

    /// Reads and, if possible, loads the model at `path`.
    public static func inspect(path: String, firstInputShape: [Int]? = nil) throws -> ModelReport {
        let start = DispatchTime.now()
        let (graph, declared) = try ONNXImporter.load(path: path)
        let unsupported = ShapeInference.unsupportedOperators(in: graph)
        let session: Result<InferenceSession, EngineError>
        if unsupported.isEmpty {
            do {
                session = .success(try InferenceSession(imported: graph, declared: declared,
                                                        options: .init(threads: 1, firstInputShape: firstInputShape),
                                                        start: start))
            } catch let error as EngineError {
                session = .failure(error)
            }
        } else {
            session = .failure(.unsupportedOperators(unsupported))
        }
        return ModelReport(opset: graph.opsetVersion,
                           inputs: graph.inputs.map { Port(name: $0, dims: declared[$0] ?? []) },
                           outputNames: graph.outputs,
                           opHistogram: Dictionary(graph.nodes.map { ($0.opType, 1) }, uniquingKeysWith: +),
                           parameterCount: graph.constants.values.reduce(0) { $0 + $1.count },
                           unsupported: unsupported, session: session)
    }
}
