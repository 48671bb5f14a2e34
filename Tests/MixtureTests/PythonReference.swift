import Foundation
import Mixture
import NumPyIO

/// One input set for tools/reference/uncertainty_ref.py.
struct ReferenceCase: CustomStringConvertible {
    enum Kind {
        case mixture(MixtureGeometry, MixtureConfiguration, gateLogits: [Float], frameIndex: UInt64)
        case samples(count: Int, classes: Int, height: Int, width: Int)
    }

    let name: String
    let kind: Kind
    /// Expert logits (E×C×H×W) or sample logits (S×C×H×W).
    let logits: [Float]

    var description: String { name }
}

/// Why the Python reference could not be used.
struct ReferenceError: Error, CustomStringConvertible {
    let description: String
}

/// Runs the numpy reference on a batch of cases in one Python process.
enum PythonReference {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `MOESEG_PYTHON`, else `<package root>/.venv/bin/python`; a clear error otherwise, never a skip.
    static func python() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["MOESEG_PYTHON"], !configured.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: configured) else {
                throw ReferenceError(description: "MOESEG_PYTHON=\(configured) is not an executable file")
            }
            return configured
        }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw ReferenceError(description: "no Python for the numpy reference: set MOESEG_PYTHON or create \(venv) (tools/dev/install-deps.sh)")
        }
        return venv
    }

    /// The reference maps of every case, by case name and map name.
    static func run(_ cases: [ReferenceCase]) throws -> [String: [String: NumPyArray]] {
        let python = try python()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-mixture-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var directories: [String] = []
        for item in cases {
            let directory = root.appendingPathComponent(item.name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try write(item, to: directory)
            directories.append(directory.path)
        }
        let script = packageRoot.appendingPathComponent("tools/reference/uncertainty_ref.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + directories
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceError(description: "\(script) failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
        var result: [String: [String: NumPyArray]] = [:]
        for item in cases {
            let directory = root.appendingPathComponent(item.name).appendingPathComponent("reference")
            var maps: [String: NumPyArray] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".npy") {
                maps[String(file.dropLast(4))] = try NumPyArray(contentsOf: directory.appendingPathComponent(file))
            }
            result[item.name] = maps
        }
        return result
    }

    private static func write(_ item: ReferenceCase, to directory: URL) throws {
        var config: [String: Any]
        switch item.kind {
        case let .mixture(geometry, configuration, gateLogits, frameIndex):
            let shape = [geometry.experts, geometry.classes, geometry.height, geometry.width]
            try NumPyArray(shape: shape, values: item.logits).write(to: directory.appendingPathComponent("expert_logits.npy"))
            let gateShape = configuration.gate == .simple ? [geometry.experts] : [geometry.experts, geometry.classes]
            try NumPyArray(shape: gateShape, values: gateLogits).write(to: directory.appendingPathComponent("gate_logits.npy"))
            config = [
                "gate": configuration.gate.rawValue,
                "combine": configuration.combine.rawValue,
                "member_sets": MemberSet.allCases.filter { configuration.memberSets.contains($0) }.map(\.rawValue),
                "routing": ["samples": configuration.routing.samples,
                            "temperature": configuration.routing.temperature,
                            // Decimal strings: JSON readers may turn integers above 2^53 into doubles.
                            "seed": String(configuration.routing.seed),
                            "form": configuration.routing.form.rawValue],
                "frame_index": String(frameIndex),
            ]
        case let .samples(count, classes, height, width):
            try NumPyArray(shape: [count, classes, height, width], values: item.logits)
                .write(to: directory.appendingPathComponent("sample_logits.npy"))
            config = ["kind": "samples"]
        }
        let json = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try json.write(to: directory.appendingPathComponent("config.json"))
    }
}
