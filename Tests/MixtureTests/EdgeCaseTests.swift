import Foundation
import Mixture
import NumPyIO
import Testing

/// Cases whose answers follow from the definitions (UNCERTAINTY.md §2–3), each checked both
/// against that answer and against the numpy reference.
@Suite struct EdgeCaseTests {
    /// A computed mixture plus the input it came from.
    struct Run {
        let name: String
        let geometry: MixtureGeometry
        let configuration: MixtureConfiguration
        let logits: [Float]
        let gateLogits: [Float]
        let mixture: MixtureUncertainty

        init(_ name: String, experts: Int, classes: Int, height: Int = 3, width: Int = 4, gate: GateKind = .simple,
             combine: CombineRule = .logits, routing: RoutingSampling = RoutingSampling(samples: 4, temperature: 0.8, seed: 5),
             logits: [Float], gateLogits: [Float]) throws {
            self.name = name
            geometry = try MixtureGeometry(experts: experts, classes: classes, height: height, width: width)
            var sets: Set<MemberSet> = [.stacked, .ensemble]
            if gate == .simple { sets.insert(.weighted) }
            configuration = MixtureConfiguration(gate: gate, combine: combine, memberSets: sets, routing: routing)
            self.logits = logits
            self.gateLogits = gateLogits
            mixture = try MixtureUncertainty(geometry: geometry, configuration: configuration)
            try logits.withUnsafeBufferPointer { z in
                try gateLogits.withUnsafeBufferPointer { a in try mixture.compute(expertLogits: z, gateLogits: a) }
            }
        }

        var maps: [String: [Float]] { SwiftMaps.of(mixture) }

        var reference: ReferenceCase {
            ReferenceCase(name: name, kind: .mixture(geometry, configuration, gateLogits: gateLogits, frameIndex: 0), logits: logits)
        }
    }

    /// Naive float64 softmax of one expert's logits at one pixel.
    static func softmax(_ logits: [Float], expert: Int, pixel: Int, classes: Int, pixels: Int) -> [Double] {
        let z = (0..<classes).map { Double(logits[(expert * classes + $0) * pixels + pixel]) }
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func entropy(_ p: [Double]) -> Double { -p.filter { $0 > 0 }.map { $0 * log($0) }.reduce(0, +) }

    static func maxAbs(_ values: [Float]) -> Float { values.map(abs).max() ?? 0 }

    static func oneHot(experts: Int, classes: Int, pixels: Int, hot: (Int) -> Int) -> [Float] {
        var z = [Float](repeating: -100, count: experts * classes * pixels)
        for e in 0..<experts { for i in 0..<pixels { z[(e * classes + hot(i)) * pixels + i] = 100 } }
        return z
    }

    @Test func definitionsAndReferenceAgree() throws {
        var random = TestRandom(seed: 4242)
        var runs: [Run] = []

        // One-hot experts that agree: PE = 0, MI = 0, EV = 0, prediction = the hot class.
        for classes in [2, 5] {
            let pixels = 12
            let z = Self.oneHot(experts: 3, classes: classes, pixels: pixels) { $0 % classes }
            let run = try Run("one-hot-c\(classes)", experts: 3, classes: classes, logits: z, gateLogits: [0.2, -0.4, 1.0])
            let zeroMaps = run.maps.filter { ["pe_", "mi_", "routing_pe", "routing_mi", "expert_variance"].contains(where: $0.key.hasPrefix) }
            #expect(zeroMaps.count == 9)
            for (key, values) in zeroMaps {
                #expect(Self.maxAbs(values) <= 1e-6, "\(run.name)/\(key) should be 0, max \(Self.maxAbs(values))")
            }
            #expect(Array(run.mixture.prediction) == (0..<pixels).map { Int32($0 % classes) })
            runs.append(run)
        }

        // Uniform experts and gate: PE = 1, MI = 0, gate entropy = 1, ties go to class 0.
        for gate in GateKind.allCases {
            let classes = 6
            let z = [Float](repeating: 0.75, count: 2 * classes * 12)
            let a = [Float](repeating: -0.3, count: gate.gateCount(experts: 2, classes: classes))
            let run = try Run("uniform-\(gate.rawValue)", experts: 2, classes: classes, gate: gate, logits: z, gateLogits: a)
            for (key, values) in run.maps {
                if key.hasPrefix("pe_") || key == "routing_pe" {
                    #expect(values.allSatisfy { abs($0 - 1) <= 1e-6 }, "\(run.name)/\(key) should be 1")
                } else if key.hasPrefix("mi_") || key == "routing_mi" || key == "expert_variance" {
                    #expect(Self.maxAbs(values) <= 1e-6, "\(run.name)/\(key) should be 0")
                }
            }
            #expect(abs(run.mixture.gateEntropy - 1) <= 1e-6)
            #expect(run.mixture.prediction.allSatisfy { $0 == 0 })
            runs.append(run)
        }

        // Identical experts under every gate and rule: no disagreement (MI = EV = routing MI = 0),
        // and PE is the one expert's entropy.
        for gate in GateKind.allCases {
            for combine in CombineRule.allCases {
                let (experts, classes, pixels) = (3, 7, 12)
                let one = random.normals(classes * pixels, sigma: 3)
                let z = Array([[Float]](repeating: one, count: experts).joined())
                let a = random.normals(gate.gateCount(experts: experts, classes: classes), sigma: 2)
                let run = try Run("identical-\(gate.rawValue)-\(combine.rawValue)", experts: experts, classes: classes,
                                  gate: gate, combine: combine, logits: z, gateLogits: a)
                for (key, values) in run.maps where key.hasPrefix("mi_") || key == "routing_mi" || key == "expert_variance" {
                    #expect(Self.maxAbs(values) <= 1e-6, "\(run.name)/\(key) should be 0, max \(Self.maxAbs(values))")
                }
                let pe = try #require(run.mixture.predictiveEntropy(.ensemble))
                for i in 0..<pixels {
                    let expected = Self.entropy(Self.softmax(z, expert: 0, pixel: i, classes: classes, pixels: pixels)) / log(Double(classes))
                    #expect(abs(Double(pe[i]) - expected) <= 1e-5, "\(run.name) PE at \(i)")
                }
                runs.append(run)
            }
        }

        // Gate weights exactly 1 and 0 (C = 2): p_moe = p_1, weighted MI = 0, gate entropy = 0,
        // EV = |p_2 − p_1|/√2 at the predicted class.
        do {
            let (classes, pixels) = (2, 12)
            let z = random.normals(2 * classes * pixels, sigma: 3)
            let run = try Run("gate-zero-one", experts: 2, classes: classes, logits: z, gateLogits: [0, -200])
            #expect(Array(run.mixture.gateWeights) == [1, 0])
            #expect(run.mixture.gateEntropy == 0)
            let weightedMI = try #require(run.mixture.mutualInformation(.weighted))
            #expect(Self.maxAbs(Array(weightedMI)) <= 1e-6)
            for i in 0..<pixels {
                let p1 = Self.softmax(z, expert: 0, pixel: i, classes: classes, pixels: pixels)
                let p2 = Self.softmax(z, expert: 1, pixel: i, classes: classes, pixels: pixels)
                let c = Int(run.mixture.prediction[i])
                #expect(c == (p1[1] > p1[0] ? 1 : 0))
                #expect(abs(Double(run.mixture.probabilities[c * pixels + i]) - p1[c]) <= 1e-6)
                #expect(abs(Double(run.mixture.expertVariance[i]) - abs(p2[c] - p1[c]) / 2.0.squareRoot()) <= 1e-6)
            }
            runs.append(run)
        }

        // Classwise gate entropy map: uniform routing for class 0, decisive for class 1.
        do {
            let (classes, pixels) = (2, 12)
            let z = Self.oneHot(experts: 2, classes: classes, pixels: pixels) { $0 % 2 }
            let run = try Run("classwise-map", experts: 2, classes: classes, gate: .classwise, logits: z,
                              gateLogits: [0, 50, 0, -50])
            let map = try #require(run.mixture.gateEntropyMap)
            for i in 0..<pixels { #expect(abs(map[i] - (i % 2 == 0 ? 1 : 0)) <= 1e-6, "gate entropy at \(i)") }
            #expect(abs(run.mixture.gateEntropy - 0.5) <= 1e-6)
            runs.append(run)
        }

        // −∞ logits (a masked class) give probability 0 and finite maps.
        do {
            let (classes, pixels) = (4, 12)
            var z = random.normals(2 * classes * pixels, sigma: 2)
            for e in 0..<2 { for i in 0..<pixels { z[(e * classes + 3) * pixels + i] = -.infinity } }
            let run = try Run("minus-infinity", experts: 2, classes: classes, routing: .disabled, logits: z,
                              gateLogits: [0.3, 0.1])
            for (key, values) in run.maps { #expect(values.allSatisfy { $0.isFinite }, "\(key) not finite") }
            #expect((0..<pixels).allSatisfy { run.mixture.probabilities[3 * pixels + $0] == 0 })
        }

        let reference = try PythonReference.run(runs.map(\.reference))
        for run in runs {
            guard let maps = reference[run.name] else {
                Issue.record("no reference for \(run.name)")
                continue
            }
            expectMapsMatch(run.maps, maps, case: run.name, pixels: run.geometry.pixels, classes: run.geometry.classes)
        }
    }
}
