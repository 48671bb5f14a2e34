import Foundation

/// Quantizes one float ONNX model from calibration data: ask `calibrationValues`, feed their values
/// frame by frame to `observe`, then `write` standard QDQ files (as many variants as wanted, e.g.
/// with different layers kept float). Runs no model itself: the caller's InferenceSession does,
/// with `keepValues: calibrationValues`.
public final class ModelQuantizer {
    public let path: String
    private let proto: Onnx_ModelProto
    private let graph: Graph
    private let full: QuantizationPlan
    private var observers: [String: RangeObserver] = [:]

    /// Reads the model at `path`; `inputShapes` fixes inputs whose declaration leaves dimensions open.
    public init(path: String, inputShapes: [String: [Int]] = [:]) throws {
        self.path = path
        proto = try ONNXImporter.loadProto(path: path)
        var (graph, declared) = try ONNXImporter.convert(proto, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent())
        if graph.nodes.contains(where: { OperatorRegistry.quantizedTypes.contains($0.opType) && $0.opType != "Resize" && $0.opType != "MaxPool" }) {
            throw EngineError.invalidModel("\(path) is already quantized")
        }
        var shapes: [String: [Int]] = [:]
        for name in graph.inputs {
            if let given = inputShapes[name] { shapes[name] = given; continue }
            guard let dims = declared[name], dims.allSatisfy({ $0 != nil }) else {
                throw EngineError.wrongInput("input \(name) has open dimensions; give its shape")
            }
            shapes[name] = dims.map { $0! }
        }
        try ShapeInference.run(&graph, inputShapes: shapes)
        self.graph = graph
        full = QuantizationPlan(graph: graph, keepFloat: [])
    }

    /// Node labels whose quantization `--keep-float` can turn off (convolutions, Add, Concat, pools).
    public var candidates: [String] { full.candidates }

    /// Each quantizable convolution: its label, input tensor and (post-activation) output tensor,
    /// which keep their names in the written model, so float and int8 runs can be compared per layer.
    public var layers: [(node: String, input: String, output: String)] { full.convs.map { ($0.node, $0.input, $0.output) } }

    /// The tensors whose calibration values `observe` needs.
    public var calibrationValues: [String] { full.calibrated }

    /// Adds one frame's values of calibration tensor `name`.
    public func observe(_ name: String, _ values: UnsafeBufferPointer<Float>) {
        observers[name, default: RangeObserver()].observe(values)
    }

    /// Frames' worth of values seen for `name`.
    public func observedCount(_ name: String) -> Int { observers[name]?.count ?? 0 }

    /// Writes the QDQ model to `out`; returns what was quantized.
    @discardableResult
    public func write(to out: String, method: CalibrationMethod, keepFloat: Set<String> = [],
                      signedActivations: Bool = false) throws -> QuantizedModelSummary {
        let unknown = keepFloat.subtracting(full.candidates)
        let plan = QuantizationPlan(graph: graph, keepFloat: keepFloat)
        var encodings: [String: QuantParams] = [:]
        for name in plan.calibrated {
            guard let o = observers[name], o.count > 0 else {
                throw EngineError.invalidModel("quantize: \(name) was never observed (no calibration frames?)")
            }
            let (lo, hi) = o.range(method)
            encodings[name] = encoding(lo: lo, hi: hi, signed: signedActivations)
        }
        var writer = QDQWriter(model: proto)
        let model = try writer.apply(plan: plan, graph: graph, encodings: encodings)
        let data: Data
        do {
            data = try model.serializedData()
            try data.write(to: URL(fileURLWithPath: out))
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.unreadableFile(path: out, reason: "cannot write: \(error.localizedDescription)")
        }
        return QuantizedModelSummary(path: out, quantizedConvolutions: plan.convs.count,
                                     quantizedTensors: plan.calibrated.count + plan.shared.count,
                                     keptFloat: keepFloat.intersection(full.candidates).sorted(), unknownKeepFloat: unknown.sorted(),
                                     bytes: data.count)
    }
}

/// What `ModelQuantizer.write` produced.
public struct QuantizedModelSummary: Sendable {
    public let path: String
    public let quantizedConvolutions: Int
    public let quantizedTensors: Int
    public let keptFloat: [String]
    /// --keep-float names that are not quantizable nodes of this model.
    public let unknownKeepFloat: [String]
    public let bytes: Int
}
