import ArgumentParser
import Engine
import Foundation
import Mixture
import NumPyIO

/// `moeseg infer`: runs a model once on a .npy input and writes every output as .npy.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a model once on a float32 NCHW .npy input and write every output as DIR/<name>.npy.")

    @Option(name: .long, help: "The ONNX model file, or a model directory (moe.toml).")
    var model: String

    @Option(name: .long, help: "Input tensor: float32, C order, the model's input shape. For a graph with several inputs, repeat as NAME=FILE.npy.")
    var input: [String] = []

    @Option(name: .long, help: "Model directory only: a PNG or PPM image, preprocessed as the manifest says.")
    var image: String?

    @Option(name: .customLong("routing-samples"), help: "Model directory only: routing samples K (0 = off).")
    var routingSamples: Int = 0

    @Option(name: .long, help: "Model directory only: routing temperature T.")
    var temperature: Double = 1

    @Option(name: .customLong("routing-form"), help: "Model directory only: scaled_noise (softmax(a + T·G), default) or tempered (softmax((a + G)/T)).")
    var routingForm: String = "scaled_noise"

    @Option(name: .long, help: "Model directory only: seed of routing samples and MC-dropout masks.")
    var seed: UInt64 = 0

    @Option(name: .customLong("mi-threshold"), help: "Model directory only: pixel MI threshold of the uncertain-pixel fraction.")
    var miThreshold: Float = 0.1

    @Option(name: .customLong("output-dir"), help: "Folder for the outputs (created if missing).")
    var outputDir: String

    @Option(name: .long, help: "Threads that share each layer.")
    var threads: Int = 1

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard routingSamples >= 0 else { throw ValidationError("--routing-samples must not be negative") }
        guard temperature.isFinite, temperature >= 0 else { throw ValidationError("--temperature must be finite and at least 0") }
        guard RoutingSampling.Form(rawValue: routingForm) != nil else { throw ValidationError("--routing-form must be scaled_noise or tempered") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            try reportingErrors {
                guard (input.count == 1) != (image != nil) else { throw fail("give exactly one of --input X.npy and --image FILE") }
                try MixtureInfer.run(.init(directory: model, input: input.first, image: image, outputDir: outputDir, threads: threads,
                                           routing: RoutingSampling(samples: routingSamples, temperature: temperature, seed: seed,
                                                                    form: RoutingSampling.Form(rawValue: routingForm)!),
                                           pixelThreshold: miThreshold))
            }
            return
        }
        try reportingErrors {
            guard !input.isEmpty else { throw fail("give --input X.npy") }
            // One plain path feeds the first input; NAME=PATH pairs feed inputs by name.
            var named: [String: NumPyArray] = [:]
            var first: NumPyArray? = nil
            for item in input {
                if let eq = item.firstIndex(of: "="), input.count > 1 || !FileManager.default.fileExists(atPath: item) {
                    named[String(item[..<eq])] = try NumPyArray(contentsOf: URL(fileURLWithPath: String(item[item.index(after: eq)...])))
                } else {
                    first = try NumPyArray(contentsOf: URL(fileURLWithPath: item))
                }
            }
            let session = try InferenceSession(path: model, options: .init(
                threads: threads, inputShapes: named.mapValues(\.shape), firstInputShape: first?.shape))
            for (i, port) in session.inputs.enumerated() {
                guard let array = named[port.name] ?? (i == 0 ? first : nil) else {
                    throw fail("no value for input \(port.name) \(port.info); give --input \(port.name)=FILE.npy")
                }
                let buffer = session.inputBuffer(i)
                guard array.values.count == buffer.count else {
                    throw fail("input \(port.name) needs shape \(port.info.shape), the file has \(array.shape)")
                }
                _ = buffer.update(fromContentsOf: array.values)
            }
            if let unknown = named.keys.first(where: { name in !session.inputs.contains { $0.name == name } }) {
                throw fail("the model has no input named \(unknown) (inputs: \(session.inputs.map(\.name).joined(separator: ", ")))")
            }
            session.run()
            let outputs = session.outputs.indices.map { Array(session.outputBuffer($0)) }
            let dir = URL(fileURLWithPath: outputDir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (port, values) in zip(session.outputs, outputs) {
                let file = dir.appendingPathComponent(NumPyArray.fileStem(for: port.name) + ".npy")
                try NumPyArray(shape: port.info.shape, values: values).write(to: file)
                print("\(port.name) \(port.info) -> \(file.path)")
            }
        }
    }
}
