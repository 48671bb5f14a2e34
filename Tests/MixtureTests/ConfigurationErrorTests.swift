import Mixture
import Testing

/// Bad sizes and settings give a typed error with one clear line, never a trap.
@Suite struct ConfigurationErrorTests {
    @Test func weightedMembersNeedASimpleGate() throws {
        let geometry = try MixtureGeometry(experts: 2, classes: 3, height: 2, width: 2)
        let error = #expect(throws: MixtureError.self) {
            try MixtureUncertainty(geometry: geometry, configuration: MixtureConfiguration(gate: .classwise, memberSets: [.weighted]))
        }
        #expect(error == .weightedNeedsSimpleGate)
        #expect(error?.description.contains("weighted") == true)
    }

    @Test func geometryMustBeUsable() {
        for (e, c, h, w) in [(1, 3, 2, 2), (2, 1, 2, 2), (2, 3, 0, 2), (2, 3, 2, -1), (2, 3, Int.max, 2), (65, 3, 2, 2)] {
            #expect(throws: MixtureError.self, "E=\(e) C=\(c) \(h)×\(w)") {
                try MixtureGeometry(experts: e, classes: c, height: h, width: w)
            }
        }
    }

    @Test func routingSettingsMustBeUsable() throws {
        let geometry = try MixtureGeometry(experts: 2, classes: 3, height: 2, width: 2)
        for routing in [RoutingSampling(samples: -1, temperature: 1, seed: 0),
                        RoutingSampling(samples: 100_000, temperature: 1, seed: 0),
                        RoutingSampling(samples: 4, temperature: -0.1, seed: 0),
                        RoutingSampling(samples: 4, temperature: .nan, seed: 0),
                        RoutingSampling(samples: 4, temperature: .infinity, seed: 0)] {
            #expect(throws: MixtureError.self, "\(routing)") {
                try MixtureUncertainty(geometry: geometry, configuration: MixtureConfiguration(gate: .simple, routing: routing))
            }
        }
    }

    @Test func inputBuffersMustFitTheGeometry() throws {
        let geometry = try MixtureGeometry(experts: 2, classes: 3, height: 2, width: 2)
        let mixture = try MixtureUncertainty(geometry: geometry, configuration: MixtureConfiguration(gate: .classwise))
        let logits = [Float](repeating: 0, count: geometry.expertLogitCount)
        let shortLogits = [Float](repeating: 0, count: 5)
        let simpleGate: [Float] = [0, 0]
        let classwiseGate = [Float](repeating: 0, count: 6)
        #expect(throws: MixtureError.bufferSize(name: "expert logits", expected: 24, actual: 5)) {
            try shortLogits.withUnsafeBufferPointer { z in
                try classwiseGate.withUnsafeBufferPointer { try mixture.compute(expertLogits: z, gateLogits: $0) }
            }
        }
        #expect(throws: MixtureError.bufferSize(name: "gate logits", expected: 6, actual: 2)) {
            try logits.withUnsafeBufferPointer { z in
                try simpleGate.withUnsafeBufferPointer { try mixture.compute(expertLogits: z, gateLogits: $0) }
            }
        }
        let samples = try SampleSetUncertainty(samples: 2, classes: 3, height: 2, width: 2)
        #expect(throws: MixtureError.self) { try shortLogits.withUnsafeBufferPointer { try samples.compute(sampleLogits: $0) } }
        #expect(throws: MixtureError.self) { try SampleSetUncertainty(samples: 0, classes: 3, height: 2, width: 2) }
    }
}
