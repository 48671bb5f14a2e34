import Mixture
import NumPyIO
import Testing

/// Every map of random mixtures against the numpy reference (tools/reference/uncertainty_ref.py)
/// within 1e-5 absolute: E = 2, 3, 5; C = 2, 12; simple and classwise gates; logits and
/// probabilities rules; routing samples on; 7×9 frames plus frames spanning several tiles.
@Suite struct ReferenceComparisonTests {
    struct Built {
        let reference: ReferenceCase
        let mixture: MixtureUncertainty
    }

    static func mixtureCase(_ name: String, experts: Int, classes: Int, height: Int = 7, width: Int = 9,
                            gate: GateKind, combine: CombineRule, routing: RoutingSampling, frameIndex: UInt64,
                            sigma: Double, kernel: MixtureKernel = .automatic, random: inout TestRandom) throws -> Built {
        let geometry = try MixtureGeometry(experts: experts, classes: classes, height: height, width: width)
        var sets: Set<MemberSet> = [.stacked, .ensemble]
        if gate == .simple { sets.insert(.weighted) }
        let configuration = MixtureConfiguration(gate: gate, combine: combine, memberSets: sets, routing: routing)
        let logits = random.normals(geometry.expertLogitCount, sigma: sigma)
        let gateLogits = random.normals(gate.gateCount(experts: experts, classes: classes), sigma: 1.5)
        let mixture = try MixtureUncertainty(geometry: geometry, configuration: configuration)
        mixture.kernel = kernel
        try logits.withUnsafeBufferPointer { z in
            try gateLogits.withUnsafeBufferPointer { a in try mixture.compute(expertLogits: z, gateLogits: a, frameIndex: frameIndex) }
        }
        let reference = ReferenceCase(name: name, kind: .mixture(geometry, configuration, gateLogits: gateLogits, frameIndex: frameIndex),
                                      logits: logits)
        return Built(reference: reference, mixture: mixture)
    }

    /// Runs the numpy reference on every built case and compares all of its maps.
    static func expectReferenceMatches(_ built: [Built], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try PythonReference.run(built.map(\.reference))
        for item in built {
            guard case let .mixture(geometry, _, _, _) = item.reference.kind, let maps = reference[item.reference.name] else {
                Issue.record("no reference maps for \(item.reference.name)", sourceLocation: sourceLocation)
                continue
            }
            expectMapsMatch(SwiftMaps.of(item.mixture), maps, case: item.reference.name,
                            pixels: geometry.pixels, classes: geometry.classes, sourceLocation: sourceLocation)
        }
    }

    @Test func randomMixturesMatchNumpy() throws {
        var random = TestRandom(seed: 20_240_601)
        var built: [Built] = []
        var index: UInt64 = 0
        for experts in [2, 3, 5] {
            for classes in [2, 12] {
                for gate in GateKind.allCases {
                    for combine in CombineRule.allCases {
                        index += 1
                        // Alternate soft and hard routing, both routing forms, and moderate and very peaked logits.
                        let routing = RoutingSampling(samples: 3 + Int(index % 4), temperature: index % 3 == 0 ? 0 : 0.7,
                                                      seed: 1000 + index, form: index % 2 == 0 ? .tempered : .scaledNoise)
                        built.append(try Self.mixtureCase("e\(experts)-c\(classes)-\(gate.rawValue)-\(combine.rawValue)",
                                                          experts: experts, classes: classes, gate: gate, combine: combine,
                                                          routing: routing, frameIndex: index * 7,
                                                          sigma: index % 5 == 0 ? 25 : 3, random: &random))
                    }
                }
            }
        }
        // Full 64-bit seed and frame index: the two generators must agree on every bit.
        built.append(try Self.mixtureCase("wide-seed", experts: 3, classes: 12, gate: .classwise, combine: .logits,
                                          routing: RoutingSampling(samples: 6, temperature: 0.9, seed: 0xFEDC_BA98_7654_3211),
                                          frameIndex: 0xFFFF_FFFF_FFFF_FF01, sigma: 3, random: &random))
        // Several tiles, the last one partial (23×29 = 667 = 2·256 + 155).
        for gate in GateKind.allCases {
            built.append(try Self.mixtureCase("tiles-\(gate.rawValue)", experts: 3, classes: 12, height: 23, width: 29,
                                              gate: gate, combine: .logits,
                                              routing: RoutingSampling(samples: 5, temperature: 1.3, seed: 77),
                                              frameIndex: 123_456, sigma: 4, random: &random))
        }
        try Self.expectReferenceMatches(built)
    }

    /// The fused pass is built three times (AVX-512 and AVX2 with table-driven exp/log of 32 and 8
    /// entries, the baseline with bit-operation exp/log; 16- or 8-pixel blocks); each must match.
    @Test(arguments: [MixtureKernel.baseline, .avx2])
    func everyBuildMatchesNumpy(kernel: MixtureKernel) throws {
        var random = TestRandom(seed: 7_000 + UInt64(kernel.rawValue))
        var built: [Built] = []
        for (index, (experts, classes, gate, combine)) in [(2, 14, GateKind.simple, CombineRule.logits), (3, 12, .classwise, .logits),
                                                           (5, 2, .simple, .probabilities), (2, 12, .classwise, .probabilities)].enumerated() {
            built.append(try Self.mixtureCase("\(kernel)-\(index)", experts: experts, classes: classes, height: 23, width: 29,
                                              gate: gate, combine: combine,
                                              routing: RoutingSampling(samples: 3, temperature: 0.8, seed: UInt64(index)),
                                              frameIndex: UInt64(index), sigma: index == 2 ? 25 : 3, kernel: kernel,
                                              random: &random))
        }
        try Self.expectReferenceMatches(built)
    }

    /// Outputs computed alone skip the softmaxes nothing else needs (the prediction needs none, the
    /// weighted set no p_moe); what is computed must still match the reference.
    @Test func leanOutputsMatchNumpy() throws {
        var random = TestRandom(seed: 4_242)
        let geometry = try MixtureGeometry(experts: 3, classes: 12, height: 23, width: 29)
        let configuration = MixtureConfiguration(gate: .simple, memberSets: [.weighted], keepsProbabilities: false)
        let logits = random.normals(geometry.expertLogitCount, sigma: 3)
        let gateLogits = random.normals(3, sigma: 1.5)
        let reference = ReferenceCase(name: "lean", kind: .mixture(geometry, configuration, gateLogits: gateLogits, frameIndex: 0),
                                      logits: logits)
        let maps = try #require(try PythonReference.run([reference])["lean"])
        for (sets, keys) in [(Set<MemberSet>([.weighted]), ["prediction", "pe_weighted", "mi_weighted"]), ([], ["prediction"])] {
            let mixture = try MixtureUncertainty(geometry: geometry, configuration: configuration)
            mixture.activeMemberSets = sets
            mixture.computesExpertVariance = false
            try logits.withUnsafeBufferPointer { z in
                try gateLogits.withUnsafeBufferPointer { a in try mixture.compute(expertLogits: z, gateLogits: a) }
            }
            let swift = SwiftMaps.of(mixture).filter { keys.contains($0.key) }
            expectMapsMatch(swift, maps.filter { keys.contains($0.key) }, case: "lean \(keys)",
                            pixels: geometry.pixels, classes: geometry.classes)
        }
    }

    @Test func sampleSetsMatchNumpy() throws {
        var random = TestRandom(seed: 99)
        var cases: [(ReferenceCase, SampleSetUncertainty)] = []
        for (samples, classes, height, width) in [(1, 2, 7, 9), (4, 12, 7, 9), (8, 12, 17, 31), (3, 2, 1, 1)] {
            let logits = random.normals(samples * classes * height * width, sigma: 3)
            let set = try SampleSetUncertainty(samples: samples, classes: classes, height: height, width: width)
            try logits.withUnsafeBufferPointer { try set.compute(sampleLogits: $0) }
            let name = "samples-s\(samples)-c\(classes)-\(height)x\(width)"
            cases.append((ReferenceCase(name: name, kind: .samples(count: samples, classes: classes, height: height, width: width),
                                        logits: logits), set))
        }
        let reference = try PythonReference.run(cases.map(\.0))
        for (item, set) in cases {
            guard case let .samples(_, classes, height, width) = item.kind, let maps = reference[item.name] else {
                Issue.record("no reference maps for \(item.name)")
                continue
            }
            expectMapsMatch(SwiftMaps.of(set), maps, case: item.name, pixels: height * width, classes: classes,
                            probabilityKey: "mean")
        }
    }
}
