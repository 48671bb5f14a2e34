import ArgumentParser
import Engine
import Foundation
import NumPyIO

/// `moeseg infer`: runs a model once on a .npy input and writes every output as .npy.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a model once on a float32 NCHW .npy input and write every output as DIR/<name>.npy.")

    @Option(name: .long, help: "The ONNX model file.")
    var model: String

    @Option(name: .long, help: "Input tensor: float32, C order, the model's input shape.")
    var input: String

    @Option(name: .customLong("output-dir"), help: "Folder for the outputs (created if missing).")
    var outputDir: String

    @Option(name: .long, help: "Threads that share each layer.")
    var threads: Int = 1

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let array = try NumPyArray(contentsOf: URL(fileURLWithPath: input))
            let session = try InferenceSession(path: model, options: .init(threads: threads, firstInputShape: array.shape))
            guard session.inputs.count == 1 else {
                throw fail("the model has \(session.inputs.count) inputs (\(session.inputs.map(\.name).joined(separator: ", "))); infer feeds one")
            }
            let outputs = try session.run(array.values)
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
