import Foundation

/// Routing gate samples g^(k) from gate logits (UNCERTAINTY.md §3): the one definition the fused
/// mixture pass and `moeseg calibrate`'s routing-temperature fit share, so a fitted T means what
/// the daemon does with it.
public struct RoutingGateSampler: Sendable {
    /// E, the experts.
    public let experts: Int
    /// Gate columns: 1 for a simple gate, C for a classwise one.
    public let columns: Int

    /// A sampler for E experts and 1 (simple) or C (classwise) gate columns.
    public init(experts: Int, columns: Int) {
        self.experts = experts
        self.columns = columns
    }

    /// Writes `samples` gates (E×columns each, e-major like the logits) of frame `frameIndex`
    /// into `out`. The standard Gumbel draws G come in the order k, then e, then column, from the
    /// stream of (routing.seed, frameIndex), so they do not depend on T: g = softmax(a + T·G)
    /// (`.scaledNoise`) or softmax((a + G)/T) (`.tempered`, T = 0 taking the one-hot argmax).
    /// `noise` (E·columns doubles) and `column` (E doubles) are scratch: the call allocates nothing.
    public func draw(gate: UnsafePointer<Float>, routing: RoutingSampling, samples: Int, frameIndex: UInt64,
                     into out: UnsafeMutablePointer<Float>,
                     noise: UnsafeMutablePointer<Double>, column w: UnsafeMutablePointer<Double>) {
        let e = experts
        var generator = Xoshiro256StarStar(seed: routing.seed, frameIndex: frameIndex)
        let perSample = e * columns
        for k in 0..<samples {
            for j in 0..<perSample { noise[j] = generator.nextGumbel() }
            let sample = out + k * perSample
            for col in 0..<columns {
                switch routing.form {
                case .scaledNoise:
                    for i in 0..<e { w[i] = Double(gate[i * columns + col]) + routing.temperature * noise[i * columns + col] }
                    GateMath.softmax(w, count: e)
                case .tempered:
                    for i in 0..<e { w[i] = Double(gate[i * columns + col]) + noise[i * columns + col] }
                    if routing.temperature == 0 {
                        GateMath.hardMaximum(w, count: e)
                    } else {
                        for i in 0..<e { w[i] /= routing.temperature }
                        GateMath.softmax(w, count: e)
                    }
                }
                for i in 0..<e { sample[i * columns + col] = Float(w[i]) }
            }
        }
    }
}
