import Evaluation
import Foundation
import Testing

/// The routing-temperature fit: its NLL against a hand computation, and the fitted T where the
/// answer is known (routing noise that rescues confidently misrouted pixels, and noise that only
/// hurts).
@Suite("Routing temperature fit")
struct RoutingTemperatureFitTests {
    /// g^(k) = softmax(a + T·G_k) (the daemon's scaled-noise form) with a fixed Gumbel table for
    /// two experts, in antithetic pairs (sample 2j+1 swaps the experts' draws of sample 2j), so
    /// the noise on a0 − a1 is exactly symmetric and a few samples carry no drift towards either.
    static func draw(samples: Int, experts: Int, columns: Int) -> RoutingTemperatureFit.GateDraw {
        precondition(experts == 2 && samples % 2 == 0)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var noise = [Double](repeating: 0, count: samples * experts * columns)
        for k in stride(from: 0, to: samples, by: 2) {
            for e in 0..<experts {
                for col in 0..<columns {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let g = -log(-log((Double(state >> 11) + 0.5) * 0x1p-53))
                    noise[(k * experts + e) * columns + col] = g
                    noise[((k + 1) * experts + (1 - e)) * columns + col] = g
                }
            }
        }
        return { t, _, gate, out in
            for k in 0..<samples {
                for col in 0..<columns {
                    let w = (0..<experts).map { Double(gate[$0 * columns + col]) + t * noise[(k * experts + $0) * columns + col] }
                    let m = w.max()!, s = w.reduce(0) { $0 + exp($1 - m) }
                    for e in 0..<experts { out[(k * experts + e) * columns + col] = Float(exp(w[e] - m) / s) }
                }
            }
        }
    }

    /// A frame of `width` pixels in one row: expert 0 says class 0, expert 1 class 1, at ±4.
    static func frame(labels: [UInt8]) -> [[Float]] {
        let n = labels.count
        return [[Float](repeating: 4, count: n) + [Float](repeating: -4, count: n),
                [Float](repeating: -4, count: n) + [Float](repeating: 4, count: n)]
    }

    static func fit(labels: [UInt8], gate: [Float], samples: Int = 16) -> RoutingTemperatureFit {
        var fit = RoutingTemperatureFit(experts: 2, classes: 2, gateColumns: 1, samples: samples,
                                        draw: draw(samples: samples, experts: 2, columns: 1))
        let planes = frame(labels: labels)
        planes[0].withUnsafeBufferPointer { z0 in
            planes[1].withUnsafeBufferPointer { z1 in
                gate.withUnsafeBufferPointer { g in
                    fit.add(frameIndex: 0, gateLogits: g, expertLogits: [z0, z1], labels: labels, width: labels.count, height: 1, stride: 1)
                }
            }
        }
        return fit
    }

    @Test func nllWithoutNoiseIsTheDeterministicMixture() {
        // 3 labelled pixels of class 0, 1 of class 1, and two that are not classes (254, 255).
        let fit = Self.fit(labels: [0, 0, 1, 0, 254, 255], gate: [1, 0])
        #expect(fit.pixelCount == 4 && fit.frameCount == 1)
        let g0 = exp(1.0) / (exp(1.0) + 1), g1 = 1 - g0
        let z0 = 4 * g0 - 4 * g1                     // mixed logit of class 0; class 1 has −z0
        let p0 = 1 / (1 + exp(-2 * z0))
        let expected = (3 * -log(p0) + -log(1 - p0)) / 4
        #expect(abs(fit.negativeLogLikelihood(temperature: 0) - expected) < 1e-5)
    }

    @Test func noiseThatRescuesMisroutedPixelsIsFitted() throws {
        // A fifth of the pixels belong to the expert the gate turns away from: without routing
        // noise they cost ~6 nats each; sampled routes send them some probability.
        let labels = (0..<50).map { UInt8($0 % 5 == 0 ? 1 : 0) }
        let result = try #require(Self.fit(labels: labels, gate: [2, 0]).fit(start: 1))
        #expect(result.temperature > 0.1, "\(result)")
        #expect(result.nll < result.nllAtZero - 0.1, "\(result)")
        #expect(result.nll <= result.nllAtStart + 1e-12, "\(result)")
        #expect(result.pixels == 50 && result.frames == 1)
    }

    @Test func noiseThatOnlyHurtsIsFittedToTheLowerBound() throws {
        // Every pixel is the favoured expert's: p_0 as a function of a0 − a1 > 0 is concave there
        // and odd about 0, so symmetric routing noise can only lower it (Jensen).
        let result = try #require(Self.fit(labels: [UInt8](repeating: 0, count: 40), gate: [2, 0]).fit(start: 1))
        #expect(result.temperature <= 0.03, "\(result)")
        #expect(result.nll >= result.nllAtZero - 1e-9 && result.nll < result.nllAtStart, "\(result)")
    }

    @Test func noLabelledPixelsFitsNothing() {
        let fit = Self.fit(labels: [255, 254, 9], gate: [0, 0])
        #expect(fit.pixelCount == 0)
        #expect(fit.fit(start: 1) == nil)
    }
}
