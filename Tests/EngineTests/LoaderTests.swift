import Foundation
import Testing
@testable import Engine

@Suite struct LoaderTests {
    @Test func unsupportedOpsAreAllNamedWithTheirFirstNode() throws {
        var b = ModelBuilder()
        b.input("x", [1, 2, 3, 3])
        b.node("Relu", ["x"], ["a"])
        b.node("FancyOp", ["a"], ["b"])
        b.node("OtherOp", ["b"], ["c"])
        b.node("FancyOp", ["c"], ["d"])
        b.outputs = ["d"]
        let error = #expect(throws: EngineError.self) { try InferenceSession(data: try b.data()) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("FancyOp (first at node FancyOp_1)"))
        #expect(text.contains("OtherOp (first at node OtherOp_2)"))
        #expect(!text.contains("FancyOp_3"))
    }

    @Test func unsupportedOpsetIsRejected() throws {
        var b = ModelBuilder()
        b.opset = 9
        b.input("x", [1, 1, 2, 2])
        b.node("Relu", ["x"], ["y"])
        b.outputs = ["y"]
        #expect(throws: EngineError.unsupportedOpset(domain: "", version: 9)) { try InferenceSession(data: try b.data()) }
    }

    @Test func wrongInputShapeIsOneClearError() throws {
        var b = ModelBuilder()
        b.input("x", [1, 1, 2, 2])
        b.node("Relu", ["x"], ["y"])
        b.outputs = ["y"]
        #expect(throws: EngineError.self) {
            try InferenceSession(data: try b.data(), options: .init(firstInputShape: [1, 1, 4, 4]))
        }
        let session = try InferenceSession(data: try b.data())
        #expect(throws: EngineError.self) { try session.run([1, 2, 3]) }
    }

    @Test func batchNormFoldsIntoConvAndActivationFuses() throws {
        var b = ModelBuilder()
        b.input("x", [1, 2, 4, 4])
        b.constant("w", [3, 2, 1, 1], [0.5, -1, 2, 0.25, -0.75, 1.5])
        b.constant("g", [3], [1.5, 0.5, 2]); b.constant("be", [3], [0.1, -0.2, 0.3])
        b.constant("mu", [3], [0.05, -0.1, 0.2]); b.constant("var", [3], [0.9, 1.1, 0.5])
        b.node("Conv", ["x", "w"], ["c"])
        b.node("BatchNormalization", ["c", "g", "be", "mu", "var"], ["n"], floats: ["epsilon": 1e-5])
        b.node("Relu", ["n"], ["y"])
        b.outputs = ["y"]
        let session = try InferenceSession(data: try b.data())
        #expect(session.statistics.optimisedOpHistogram == ["Conv": 1])
        let x = (0..<32).map { Float($0 % 7) / 3 - 1 }
        let y = try session.run(x)[0]
        // Independent reference: conv, then batch norm, then relu, straight from the definitions.
        let w: [Float] = [0.5, -1, 2, 0.25, -0.75, 1.5], g: [Float] = [1.5, 0.5, 2], be: [Float] = [0.1, -0.2, 0.3]
        let mu: [Float] = [0.05, -0.1, 0.2], va: [Float] = [0.9, 1.1, 0.5]
        for m in 0..<3 {
            for p in 0..<16 {
                let conv = w[m * 2] * x[p] + w[m * 2 + 1] * x[16 + p]
                let bn = (conv - mu[m]) / (va[m] + 1e-5).squareRoot() * g[m] + be[m]
                #expect(abs(y[m * 16 + p] - max(bn, 0)) < 1e-5)
            }
        }
    }

    @Test func memoryPlanReusesDeadBuffers() throws {
        var b = ModelBuilder()
        b.input("x", [1, 4, 8, 8])
        var last = "x"
        for i in 0..<6 {
            b.node("Relu", [last], ["r\(i)"])
            last = "r\(i)"
        }
        b.outputs = [last]
        let session = try InferenceSession(data: try b.data())
        // A chain needs at most two live buffers at any time, never seven.
        #expect(session.arenaBytes <= 2 * 4 * 8 * 8 * 4)
        let y = try session.run((0..<256).map { Float($0) - 128 })[0]
        #expect(y == (0..<256).map { max(Float($0) - 128, 0) })
    }
}
