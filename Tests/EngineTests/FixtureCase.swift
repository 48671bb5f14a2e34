import Foundation
import NumPyIO

/// One conformance case under Tests/Fixtures/engine: an ONNX model, its input(s) and the
/// outputs onnxruntime computed for them (made by tools/export_fixtures.py).
struct FixtureCase: CustomStringConvertible, Sendable {
    let name: String
    let directory: URL
    let outputs: [String]
    let argmaxAxis: Int?
    /// Outputs that are class logits (the argmax check applies to these only).
    let argmaxOutputs: [String]?

    var description: String { name }
    var model: String { directory.appendingPathComponent("model.onnx").path }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let root = fixtures.appendingPathComponent("engine")

    /// Every case directory under Fixtures/`folder` (engine: fp32 models; quant: int8 ones), sorted by name.
    static func all(in folder: String = "engine") -> [FixtureCase] {
        let root = fixtures.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let dir = root.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: dir.appendingPathComponent("case.json")),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return FixtureCase(name: name, directory: dir, outputs: json["outputs"] as? [String] ?? [],
                               argmaxAxis: json["argmax_axis"] as? Int, argmaxOutputs: json["argmax_outputs"] as? [String])
        }
    }

    /// The input arrays, by graph input name when the case has several.
    func inputs() throws -> [String: NumPyArray] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        var result: [String: NumPyArray] = [:]
        if files.contains("input.npy") {
            result[""] = try NumPyArray(contentsOf: directory.appendingPathComponent("input.npy"))
        }
        for file in files where file.hasPrefix("input_") && file.hasSuffix(".npy") {
            let stem = String(file.dropFirst("input_".count).dropLast(4))
            result[stem] = try NumPyArray(contentsOf: directory.appendingPathComponent(file))
        }
        return result
    }

    func expected(_ output: String) throws -> NumPyArray {
        try NumPyArray(contentsOf: directory.appendingPathComponent("expected/\(NumPyArray.fileStem(for: output)).npy"))
    }

    /// onnxruntime's output of the float model a quantized fixture was made from.
    func expectedFloat(_ output: String) throws -> NumPyArray {
        try NumPyArray(contentsOf: directory.appendingPathComponent("expected_fp32/\(NumPyArray.fileStem(for: output)).npy"))
    }
}
