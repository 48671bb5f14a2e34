import Mixture
import Testing

/// The per-frame OOD verdict (UNCERTAINTY.md §4): which scores fire, and the debounce.
@Suite struct OODMonitorTests {
    static func scores(mi: Float) -> FrameScores { FrameScores(meanMutualInformation: mi) }

    @Test func debounceNeedsConsecutiveAgreeingFrames() throws {
        var monitor = try OODMonitor(thresholds: OODThresholds(meanMutualInformation: 0.5), enterFrames: 3, exitFrames: 2)
        // Raw frames and the debounced state worked out by hand from the rule: enter after 3
        // consecutive OOD frames, exit after 2 consecutive in-distribution frames.
        let raw: [Bool] = [false, true, true, false, true, true, true, true, false, true, false, false, true, false, false]
        let expected: [Bool] = [false, false, false, false, false, false, true, true, true, true, true, false, false, false, false]
        var states: [Bool] = [], changes: [Int] = []
        for (frame, ood) in raw.enumerated() {
            let verdict = monitor.update(Self.scores(mi: ood ? 0.9 : 0.1))
            #expect(verdict.frameIsOOD == ood)
            states.append(verdict.isOOD)
            if verdict.changed { changes.append(frame) }
        }
        #expect(states == expected)
        #expect(changes == [6, 11])
    }

    @Test func oneFrameSettingsFollowEveryFrame() throws {
        var monitor = try OODMonitor(thresholds: OODThresholds(gateEntropy: 0.5), enterFrames: 1, exitFrames: 1)
        for ood in [true, false, false, true, true, false] {
            #expect(monitor.update(FrameScores(gateEntropy: ood ? 0.7 : 0.2)).isOOD == ood)
        }
    }

    @Test func verdictCarriesScoresThresholdsAndWhichFired() throws {
        let thresholds = OODThresholds(gateEntropy: 0.8, meanMutualInformation: 0.2, uncertainPixelFraction: 0.1,
                                       routingMutualInformation: nil, pixelMutualInformation: 0.3)
        var monitor = try OODMonitor(thresholds: thresholds, enterFrames: 2, exitFrames: 2)
        let scores = FrameScores(gateEntropy: 0.9, meanMutualInformation: 0.2, uncertainPixelFraction: 0.15,
                                 routingMutualInformation: 0.99)
        let verdict = monitor.update(scores)
        // 0.2 equals its threshold (not above); routing MI has no threshold.
        #expect(verdict.fired == [.gateEntropy, .uncertainPixelFraction])
        #expect(verdict.frameIsOOD && !verdict.isOOD && !verdict.changed)
        #expect(verdict.scores == scores && verdict.thresholds == thresholds)

        let quiet = monitor.update(FrameScores(gateEntropy: 0.1, meanMutualInformation: nil, uncertainPixelFraction: 0.0))
        #expect(quiet.fired.isEmpty && quiet.missing == [.meanMutualInformation] && !quiet.frameIsOOD)

        let broken = monitor.update(FrameScores(gateEntropy: .nan, meanMutualInformation: 0, uncertainPixelFraction: 0))
        #expect(broken.fired == [.gateEntropy], "a NaN score must fire")
    }

    @Test func rejectsBadSettings() {
        #expect(throws: MixtureError.self) { try OODMonitor(thresholds: OODThresholds(), enterFrames: 0, exitFrames: 1) }
        #expect(throws: MixtureError.self) { try OODMonitor(thresholds: OODThresholds(), enterFrames: 1, exitFrames: -2) }
        #expect(throws: MixtureError.self) {
            try OODMonitor(thresholds: OODThresholds(meanMutualInformation: .nan), enterFrames: 1, exitFrames: 1)
        }
    }

    @Test func frameScoresSummariseTheMaps() throws {
        let geometry = try MixtureGeometry(experts: 2, classes: 4, height: 5, width: 7)
        var random = TestRandom(seed: 8)
        let logits = random.normals(geometry.expertLogitCount, sigma: 3)
        let mixture = try MixtureUncertainty(geometry: geometry, configuration: MixtureConfiguration(
            gate: .simple, memberSets: [.stacked], routing: RoutingSampling(samples: 4, temperature: 1, seed: 1)))
        // The pass sums the maps as it writes them (35 pixels: two full blocks and a partial one);
        // other thresholds are counted from the map afterwards. Both must agree with naive sums.
        mixture.scoreThreshold = 0.05
        try logits.withUnsafeBufferPointer { z in
            try [Float(0.4), -0.2].withUnsafeBufferPointer { a in try mixture.compute(expertLogits: z, gateLogits: a) }
        }
        let mi = Array(mixture.mutualInformation(.stacked)!)
        let routing = Array(mixture.routingMutualInformation!)
        // Naive float64 sums of the same maps.
        let meanMI = mi.map(Double.init).reduce(0, +) / Double(mi.count)
        let meanRouting = routing.map(Double.init).reduce(0, +) / Double(routing.count)
        for threshold in [0.05, mi.sorted()[mi.count / 2]] {
            let scores = mixture.frameScores(mutualInformationFrom: .stacked, pixelThreshold: threshold)
            let above = Double(mi.filter { $0 > threshold }.count) / Double(mi.count)
            #expect(above > 0 && above < 1)
            #expect(abs(Double(scores.meanMutualInformation!) - meanMI) <= 1e-7)
            #expect(abs(Double(scores.uncertainPixelFraction!) - above) <= 1e-7)
            #expect(abs(Double(scores.routingMutualInformation!) - meanRouting) <= 1e-7)
            #expect(scores.gateEntropy == mixture.gateEntropy)
        }
        #expect(mixture.frameScores(mutualInformationFrom: .ensemble, pixelThreshold: 0.5).meanMutualInformation == nil)
    }

    /// Sample sets (ensembles, MC dropout): split in parts, the maps are those of one pass, and the
    /// pass's score sums agree with naive sums of the map.
    @Test func sampleSetPartsAndScores() throws {
        var random = TestRandom(seed: 11)
        let (samples, classes, height, width) = (3, 5, 9, 61)  // 549 pixels: three tiles, the last partial
        let logits = random.normals(samples * classes * height * width, sigma: 3)
        let whole = try SampleSetUncertainty(samples: samples, classes: classes, height: height, width: width)
        let split = try SampleSetUncertainty(samples: samples, classes: classes, height: height, width: width, parts: 2)
        split.scoreThreshold = 0.05
        try logits.withUnsafeBufferPointer { try whole.compute(sampleLogits: $0) }
        try logits.withUnsafeBufferPointer { z in
            for s in 0..<samples { split.setSampleLogits(s, z.baseAddress! + s * classes * height * width) }
        }
        for part in 0..<2 { split.computeTiles(part: part, of: 2) }
        #expect(Array(split.mutualInformation) == Array(whole.mutualInformation))
        #expect(Array(split.prediction) == Array(whole.prediction))
        let mi = Array(split.mutualInformation)
        for threshold: Float in [0.05, mi.sorted()[mi.count / 2]] {
            let scores = split.frameScores(pixelThreshold: threshold)
            let mean = mi.map(Double.init).reduce(0, +) / Double(mi.count)
            let above = Double(mi.filter { $0 > threshold }.count) / Double(mi.count)
            #expect(above > 0 && above < 1)
            #expect(abs(Double(scores.meanMutualInformation) - mean) <= 1e-7)
            #expect(abs(Double(scores.uncertainPixelFraction) - above) <= 1e-7)
        }
    }
}
