import Foundation
@testable import Mixture
import Testing

/// The routing sample stream (UNCERTAINTY.md §3, docs/uncertainty.md): generator known
/// answers, reproducibility per (seed, frame), and the temperature limits.
@Suite struct RoutingSampleTests {
    @Test func generatorsMatchPublishedValues() {
        // SplitMix64 from state 0: the first output published with the algorithm.
        var splitmix = SplitMix64(state: 0)
        #expect(splitmix.next() == 0xE220_A839_7B1D_CDAF)
        // xoshiro256** from (1, 2, 3, 4): rotl(2·5, 7)·9 = 11520, then s1 becomes 0.
        var xoshiro = Xoshiro256StarStar(state: (1, 2, 3, 4))
        #expect(xoshiro.next() == 11520)
        #expect(xoshiro.next() == 0)
    }

    @Test func gumbelDrawsHaveGumbelMoments() {
        var generator = Xoshiro256StarStar(seed: 7, frameIndex: 0)
        let draws = (0..<20_000).map { _ in generator.nextGumbel() }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
        #expect(abs(mean - 0.577_215_664_9) < 0.03, "mean \(mean), Euler–Mascheroni expected")
        #expect(abs(variance - Double.pi * Double.pi / 6) < 0.08, "variance \(variance), π²/6 expected")
    }

    /// A classwise mixture whose routing maps depend on the samples drawn.
    static func mixture(samples: Int = 8, temperature: Double, seed: UInt64, gate: [Float]? = nil,
                        form: RoutingSampling.Form = .scaledNoise) throws
        -> (MixtureUncertainty, [Float], [Float]) {
        let geometry = try MixtureGeometry(experts: 3, classes: 5, height: 4, width: 6)
        var random = TestRandom(seed: 31)
        let logits = random.normals(geometry.expertLogitCount, sigma: 3)
        let gateLogits = gate ?? random.normals(3 * 5, sigma: 0.5)
        let configuration = MixtureConfiguration(gate: gate?.count == 3 ? .simple : .classwise,
                                                 routing: RoutingSampling(samples: samples, temperature: temperature, seed: seed, form: form))
        return (try MixtureUncertainty(geometry: geometry, configuration: configuration), logits, gateLogits)
    }

    static func run(_ mixture: MixtureUncertainty, _ logits: [Float], _ gate: [Float], frame: UInt64) throws
        -> (gates: [Float], mi: [Float], pe: [Float]) {
        try logits.withUnsafeBufferPointer { z in
            try gate.withUnsafeBufferPointer { a in try mixture.compute(expertLogits: z, gateLogits: a, frameIndex: frame) }
        }
        return (Array(mixture.routingGateSamples), Array(mixture.routingMutualInformation!), Array(mixture.routingEntropy!))
    }

    @Test func samplesAreReproducibleAndDifferAcrossSeedsAndFrames() throws {
        let (mixture, z, a) = try Self.mixture(temperature: 1, seed: 11)
        let first = try Self.run(mixture, z, a, frame: 5)
        let otherFrame = try Self.run(mixture, z, a, frame: 6)
        let again = try Self.run(mixture, z, a, frame: 5)
        #expect(first.gates == again.gates && first.mi == again.mi && first.pe == again.pe, "same seed and frame must replay exactly")
        #expect(first.gates != otherFrame.gates && first.mi != otherFrame.mi)

        let (reseeded, _, _) = try Self.mixture(temperature: 1, seed: 12)
        let otherSeed = try Self.run(reseeded, z, a, frame: 5)
        #expect(first.gates != otherSeed.gates && first.mi != otherSeed.mi)

        // Each sample is a distribution over experts for every class column.
        for k in 0..<8 {
            for c in 0..<5 {
                let total = (0..<3).map { first.gates[k * 15 + $0 * 5 + c] }.reduce(0, +)
                #expect(abs(total - 1) <= 1e-6)
            }
        }
    }

    @Test func scaledNoiseCollapsesOntoTheGateAsTemperatureFalls() throws {
        // Default form softmax(a + T·G): T = 0 gives g itself for every sample, so MI = 0,
        // and MI shrinks monotonically with T.
        let (zero, z, a) = try Self.mixture(temperature: 0, seed: 3)
        let zeroRun = try Self.run(zero, z, a, frame: 9)
        #expect(zeroRun.mi.allSatisfy { $0 <= 1e-6 })
        var previous = Float.infinity
        for t in [2.0, 0.5, 0.1, 0.01] {
            let (m, _, _) = try Self.mixture(temperature: t, seed: 3)
            let mean = try Self.run(m, z, a, frame: 9).mi.reduce(0, +)
            #expect(mean < previous, "routing MI must fall with T (T = \(t))")
            previous = mean
        }
        // At T = 1 the two forms are the same formula.
        let (one, _, _) = try Self.mixture(temperature: 1, seed: 3)
        let (card, _, _) = try Self.mixture(temperature: 1, seed: 3, form: .tempered)
        let a1 = try Self.run(one, z, a, frame: 9), b1 = try Self.run(card, z, a, frame: 9)
        #expect(zip(a1.gates, b1.gates).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test func temperatureLimits() throws {
        // T → 0: samples tend to the one-hot Gumbel-max draws that T = 0 takes exactly.
        let (hard, z, a) = try Self.mixture(temperature: 0, seed: 3, form: .tempered)
        let (cold, _, _) = try Self.mixture(temperature: 1e-4, seed: 3, form: .tempered)
        let hardRun = try Self.run(hard, z, a, frame: 9)
        let coldRun = try Self.run(cold, z, a, frame: 9)
        #expect(hardRun.gates.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(zip(hardRun.gates, coldRun.gates).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(zip(hardRun.mi, coldRun.mi).allSatisfy { abs($0 - $1) <= 1e-5 })
        // Hard routing between disagreeing experts is uncertain: MI does not vanish as T → 0
        // unless the gate is decisive (below).
        #expect((hardRun.mi.max() ?? 0) > 0.01)

        // T → ∞: every sample tends to uniform routing, the samples agree, MI → 0.
        let (hot, _, _) = try Self.mixture(temperature: 1e6, seed: 3, form: .tempered)
        #expect((try Self.run(hot, z, a, frame: 9).mi.max() ?? 1) <= 1e-6)

        // A decisive simple gate: every hard sample routes to expert 0, so routing MI = 0 and
        // routing PE is expert 0's PE.
        let (decisive, _, _) = try Self.mixture(temperature: 0, seed: 3, gate: [40, 0, 0], form: .tempered)
        let decisiveRun = try Self.run(decisive, z, [40, 0, 0], frame: 9)
        #expect(decisiveRun.mi.allSatisfy { $0 <= 1e-6 })
        #expect(decisiveRun.gates.enumerated().allSatisfy { $0.element == ($0.offset % 3 == 0 ? 1 : 0) })
    }
}
