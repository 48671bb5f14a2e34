import Foundation
import Mixture
import Scenes
import Sensors
import Testing

/// MixtureRunOptions.temperature: z/T before every softmax. The demo's `logits` rule gives
/// p_moe = softmax(Σ_k g_k z_k / T), recomputed here from the members' (scaled) logits and the
/// gate; a lower T must sharpen it, and out-of-range values are refused.
@Suite struct TemperatureTests {
    static let model = PythonReference.packageRoot.appendingPathComponent("models/demo/moe-simple").path

    @Test func temperatureScalesEveryMembersLogits() throws {
        let model = try MixtureModel.load(directory: Self.model)
        let source = try SyntheticSource(domain: .urban, seed: 9201, width: 512, height: 256, rate: nil)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(5)) == .frame)
        func meanMax(_ t: Double) throws -> (Double, [Float], [Float], [[Float]]) {
            var options = MixtureRunOptions(threads: 1, maps: [.peWeighted, .miWeighted], keepsProbabilities: true)
            options.temperature = t
            let result = try MixtureRunner(model: model, options: options).process(frame: frame)
            let c = model.classes, n = result.width * result.height
            let p = Array(result.probabilities)
            var sum = 0.0
            for i in 0..<n { sum += Double((0..<c).map { p[$0 * n + i] }.max()!) }
            return (sum / Double(n), p, Array(result.gateWeights ?? UnsafeBufferPointer(start: nil, count: 0)),
                    (0..<(result.gateWeights?.count ?? 0)).map { Array(result.expertLogits($0)) })
        }
        let (cold, pCold, gate, logits) = try meanMax(0.5)
        let (warm, _, _, _) = try meanMax(1)
        let (hot, _, _, _) = try meanMax(2)
        #expect(cold > warm && warm > hot, "mean max p: T 0.5 \(cold), 1 \(warm), 2 \(hot)")
        // The logits the runner exposes are the scaled ones; p̄ from them and the gate weights.
        let c = model.classes, n = pCold.count / c
        try #require(gate.count == 2 && logits.count == 2)
        var worst: Float = 0
        for i in stride(from: 0, to: n, by: 97) {
            var z = [Double](repeating: 0, count: c)
            for (k, member) in logits.enumerated() {
                for j in 0..<c { z[j] += Double(gate[k]) * Double(member[j * n + i]) }
            }
            let top = z.max()!
            let e = z.map { exp($0 - top) }
            let s = e.reduce(0, +)
            let mixed = e.map { $0 / s }
            for j in 0..<c { worst = max(worst, abs(Float(mixed[j]) - pCold[j * n + i])) }
        }
        #expect(worst < 1e-5, "largest |p̄ - reference| \(worst)")

        for bad in [0.0, 0.01, 50, .nan] {
            var options = MixtureRunOptions(threads: 1)
            options.temperature = bad
            #expect(throws: (any Error).self) { _ = try MixtureRunner(model: model, options: options) }
        }
    }
}
