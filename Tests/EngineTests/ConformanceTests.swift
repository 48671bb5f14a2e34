import Engine
import Foundation
import NumPyIO
import Testing

/// Every fixture model must agree with onnxruntime: max |error| ≤ 1e-4 × max |reference|
/// per output, and ≥ 99.9 % of pixels with the same argmax over the class axis.
@Suite struct ConformanceTests {
    @Test func fixturesExist() {
        #expect(FixtureCase.all().count >= 20, "expected the committed fixtures in \(FixtureCase.root.path)")
    }

    @Test(arguments: FixtureCase.all(), [1, 2])
    func matchesOnnxRuntime(_ fixture: FixtureCase, threads: Int) throws {
        let inputs = try fixture.inputs()
        var shapes: [String: [Int]] = [:]
        let probe = try InferenceSession(path: fixture.model, options: .init(threads: 1, firstInputShape: inputs[""]?.shape))
        for port in probe.inputs {
            if let a = inputs[NumPyArray.fileStem(for: port.name)] { shapes[port.name] = a.shape }
        }
        let session = try InferenceSession(path: fixture.model,
                                           options: .init(threads: threads, inputShapes: shapes, firstInputShape: inputs[""]?.shape))
        for (i, port) in session.inputs.enumerated() {
            let array = try #require(inputs[NumPyArray.fileStem(for: port.name)] ?? (i == 0 ? inputs[""] : nil),
                                     "no input file for \(port.name)")
            #expect(array.shape == port.info.shape)
            _ = session.inputBuffer(i).update(fromContentsOf: array.values)
        }
        session.run()
        #expect(session.outputs.map(\.name) == fixture.outputs)
        for (i, port) in session.outputs.enumerated() {
            let reference = try fixture.expected(port.name)
            let got = Array(session.outputBuffer(i))
            #expect(port.info.shape == reference.shape, "\(port.name)")
            guard got.count == reference.values.count else { continue }
            let scale = reference.values.map(abs).max() ?? 0
            let error = zip(got, reference.values).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-4 * max(scale, 1e-12), "\(fixture.name)/\(port.name): max error \(error), max |ref| \(scale)")
            #expect(got.allSatisfy(\.isFinite) == reference.values.allSatisfy(\.isFinite))
            if let axis = fixture.argmaxAxis, fixture.argmaxOutputs?.contains(port.name) ?? true,
               reference.shape.count == 4, axis == 1, reference.shape[1] > 1 {
                let agreement = Self.argmaxAgreement(got, reference.values, shape: reference.shape)
                #expect(agreement >= 0.999, "\(fixture.name)/\(port.name): argmax agreement \(agreement)")
            }
        }
    }

    /// Fraction of pixels whose argmax over axis 1 of an NCHW tensor agrees.
    static func argmaxAgreement(_ a: [Float], _ b: [Float], shape: [Int]) -> Double {
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        var same = 0
        for image in 0..<n {
            for p in 0..<hw {
                var ba = 0, bb = 0
                for k in 1..<c {
                    let i = (image * c + k) * hw + p
                    if a[i] > a[(image * c + ba) * hw + p] { ba = k }
                    if b[i] > b[(image * c + bb) * hw + p] { bb = k }
                }
                if ba == bb { same += 1 }
            }
        }
        return Double(same) / Double(max(1, n * hw))
    }
}
