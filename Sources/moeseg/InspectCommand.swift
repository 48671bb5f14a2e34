import ArgumentParser
import Engine
import Foundation
import Mixture
import Recording

/// `moeseg inspect`: describes an ONNX model or an MCAP recording.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe an ONNX model (interface, ops, parameters, FLOPs, arena, unsupported ops) or an MCAP recording (channels, counts, time range, chunks, metadata, damage).")

    @Argument(help: "An .onnx model file, a model directory (moe.toml) or an .mcap recording.")
    var path: String

    @Option(name: .customLong("input-shape"), help: "Shape for an input with open dimensions, e.g. 1x3x256x512.")
    var inputShape: String?

    func run() throws {
        try reportingErrors {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                print(try MixtureInspect.describe(directory: path))
            } else if try isMCAP() {
                print(try describeRecording(at: path))
            } else {
                try inspectModel()
            }
        }
    }

    /// Decides by content, not by name: MCAP files start with their magic bytes. Anything but a
    /// regular file (a FIFO would block the readers, a device never end) is refused here.
    private func isMCAP() throws -> Bool {
        if path.hasSuffix(".mcap") && !FileManager.default.fileExists(atPath: path) { return true }  // the reader's own error line
        let head = try RegularFile(path: path).read(offset: 0, count: 8)
        return head.starts(with: [0x89, 0x4D, 0x43, 0x41, 0x50]) || (head.isEmpty && path.hasSuffix(".mcap"))
    }

    private func inspectModel() throws {
        let shape = inputShape.map { $0.split(separator: "x").compactMap { Int($0) } }
        let report = try ModelReport.inspect(path: path, firstInputShape: shape)
        print("model: \(path) (ai.onnx opset \(report.opset))")
        func dims(_ d: [Int?]) -> String { d.map { $0.map(String.init) ?? "?" }.joined(separator: "x") }
        for input in report.inputs { print("input:  \(input.name) float32[\(dims(input.dims))]") }
        if case .success(let s) = report.session {
            for output in s.outputs { print("output: \(output.name) \(output.info)") }
        } else {
            for name in report.outputNames { print("output: \(name)") }
        }
        print(String(format: "parameters: %d (%.2f MB as float32)", report.parameterCount, Double(report.parameterCount * 4) / 1_048_576))
        let ops = report.opHistogram.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        print("ops (\(report.opHistogram.values.reduce(0, +)) nodes): " + ops.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        switch report.session {
        case .success(let s):
            let optimised = s.statistics.optimisedOpHistogram.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            print("after folding and fusion (\(s.statistics.optimisedOpHistogram.values.reduce(0, +)) nodes): "
                  + optimised.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            print(String(format: "FLOPs per frame: %.3f G", Double(s.statistics.flops) / 1e9))
            print(String(format: "activation arena: %.2f MB; im2col scratch: %.2f MB; weights held: %.2f MB; load %.0f ms",
                         Double(s.arenaBytes) / 1_048_576, Double(s.statistics.scratchBytes) / 1_048_576,
                         Double(s.weightBytes) / 1_048_576, s.loadSeconds * 1000))
            print("unsupported ops: none")
        case .failure(let error):
            if report.unsupported.isEmpty {
                print("not loadable as is: \(error)")
            } else {
                print("unsupported ops: " + report.unsupported.joined(separator: ", "))
                throw ExitCode.failure
            }
        }
    }
}
