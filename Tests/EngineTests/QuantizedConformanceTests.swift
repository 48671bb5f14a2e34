import Engine
import Foundation
import NumPyIO
import Testing

/// The int8 fixtures (tools/quant_cases.py: onnxruntime's quantize_static in QDQ and QOperator
/// form) against onnxruntime's int8 outputs: ≥ 99.9 % per-pixel argmax agreement and a mean
/// |moeseg − onnxruntime int8| at most a tenth of mean |onnxruntime int8 − fp32|. moeseg
/// reproduces onnxruntime's arithmetic, so in practice the outputs are identical; the largest
/// difference must stay within one output quantization step.
@Suite struct QuantizedConformanceTests {
    /// QOperator fixtures with com.microsoft operators moeseg does not implement.
    static let unsupported = ["gate_head_qop_u8": "com.microsoft.QLinearAveragePool"]

    static var cases: [FixtureCase] { FixtureCase.all(in: "quant").filter { unsupported[$0.name] == nil } }

    @Test func fixturesExist() {
        #expect(Self.cases.count >= 12, "expected the committed int8 fixtures in \(FixtureCase.fixtures.path)/quant")
    }

    @Test(arguments: cases, [1, 2])
    func matchesOnnxRuntimeInt8(_ fixture: FixtureCase, threads: Int) throws {
        let inputs = try fixture.inputs()
        let session = try InferenceSession(path: fixture.model, options: .init(threads: threads, firstInputShape: inputs[""]?.shape))
        #expect(session.statistics.originalOpHistogram.keys.contains { $0.hasPrefix("QLinear") || $0 == "QuantizeLinear" })
        for (i, port) in session.inputs.enumerated() {
            let array = try #require(inputs[NumPyArray.fileStem(for: port.name)] ?? (i == 0 ? inputs[""] : nil))
            _ = session.inputBuffer(i).update(fromContentsOf: array.values)
        }
        session.run()
        #expect(session.outputs.map(\.name) == fixture.outputs)
        for (i, port) in session.outputs.enumerated() {
            let int8 = try fixture.expected(port.name), fp32 = try fixture.expectedFloat(port.name)
            let got = Array(session.outputBuffer(i))
            try #require(got.count == int8.values.count, "\(fixture.name)/\(port.name)")
            let added = zip(got, int8.values).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(got.count)
            let quantization = zip(int8.values, fp32.values).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(got.count)
            #expect(added <= 0.1 * quantization, "\(fixture.name)/\(port.name): mean |moeseg - ORT int8| \(added), mean |int8 - fp32| \(quantization)")
            // One output step: the smallest non-zero gap between the reference's values.
            let levels = Set(int8.values).sorted()
            let step = zip(levels.dropFirst(), levels).map { $0 - $1 }.min() ?? 0
            let largest = zip(got, int8.values).map { abs($0 - $1) }.max() ?? 0
            #expect(largest <= step * 1.001 + 1e-6, "\(fixture.name)/\(port.name): largest difference \(largest), one step \(step)")
            if fixture.argmaxOutputs?.contains(port.name) ?? (fixture.argmaxAxis == 1), int8.shape.count == 4, int8.shape[1] > 1 {
                let agreement = ConformanceTests.argmaxAgreement(got, int8.values, shape: int8.shape)
                #expect(agreement >= 0.999, "\(fixture.name)/\(port.name): argmax agreement \(agreement)")
            }
        }
    }

    @Test(arguments: unsupported.sorted(by: { $0.key < $1.key }))
    func unsupportedOperatorIsOneLine(_ item: (key: String, value: String)) throws {
        let path = FixtureCase.fixtures.appendingPathComponent("quant/\(item.key)/model.onnx").path
        #expect {
            _ = try InferenceSession(path: path)
        } throws: { error in
            "\(error)".contains(item.value) && !"\(error)".contains("\n")
        }
    }
}
