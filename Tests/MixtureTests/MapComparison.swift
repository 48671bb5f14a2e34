import Mixture
import NumPyIO
import Testing

/// The Swift maps of one computation, named as the reference names them.
enum SwiftMaps {
    static func of(_ mixture: MixtureUncertainty) -> [String: [Float]] {
        var maps: [String: [Float]] = [
            "gate_weights": Array(mixture.gateWeights),
            "probabilities": Array(mixture.probabilities),
            "prediction": mixture.prediction.map { Float($0) },
            "expert_variance": Array(mixture.expertVariance),
            "gate_entropy": [mixture.gateEntropy],
        ]
        for set in MemberSet.allCases {
            if let pe = mixture.predictiveEntropy(set) { maps["pe_\(set.rawValue)"] = Array(pe) }
            if let mi = mixture.mutualInformation(set) { maps["mi_\(set.rawValue)"] = Array(mi) }
        }
        if let map = mixture.gateEntropyMap { maps["gate_entropy_map"] = Array(map) }
        if let pe = mixture.routingEntropy, let mi = mixture.routingMutualInformation {
            maps["routing_pe"] = Array(pe)
            maps["routing_mi"] = Array(mi)
            maps["routing_gates"] = Array(mixture.routingGateSamples)
        }
        return maps
    }

    static func of(_ samples: SampleSetUncertainty) -> [String: [Float]] {
        ["mean": Array(samples.mean), "prediction": samples.prediction.map { Float($0) },
         "pe": Array(samples.predictiveEntropy), "mi": Array(samples.mutualInformation)]
    }
}

/// Checks every Swift map against the reference within `tolerance` absolute.
///
/// The prediction may differ only where the reference's two candidate classes are tied
/// within 1e-5 in probability (fp32 vs float64 rounding picks either); maps read at the
/// predicted class (EV, classwise gate entropy) are then compared only where both agree.
func expectMapsMatch(_ swift: [String: [Float]], _ reference: [String: NumPyArray], case name: String,
                     pixels: Int, classes: Int, probabilityKey: String = "probabilities",
                     tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(swift.keys) == Set(reference.keys), "\(name): map names differ: swift \(swift.keys.sorted()), reference \(reference.keys.sorted())",
            sourceLocation: sourceLocation)
    var agree = [Bool](repeating: true, count: pixels)
    if let got = swift["prediction"], let want = reference["prediction"]?.values, let p = reference[probabilityKey]?.values {
        for i in 0..<min(pixels, got.count, want.count) where got[i] != want[i] {
            agree[i] = false
            let a = Int(got[i]), b = Int(want[i])
            let gap = abs(p[a * pixels + i] - p[b * pixels + i])
            #expect(gap <= 1e-5, "\(name): prediction differs at pixel \(i) (\(a) vs \(b)) without a tie (gap \(gap))",
                    sourceLocation: sourceLocation)
        }
    }
    for (key, want) in reference.sorted(by: { $0.key < $1.key }) {
        guard let got = swift[key] else { continue }
        guard got.count == want.values.count else {
            Issue.record("\(name)/\(key): \(got.count) values, reference has \(want.values.count) (shape \(want.shape))",
                         sourceLocation: sourceLocation)
            continue
        }
        let perPixel = key == "expert_variance" || key == "gate_entropy_map"
        var worst: Float = 0, at = 0
        for i in 0..<got.count where !(perPixel && !agree[i]) {
            let error = abs(got[i] - want.values[i])
            if !(error <= worst) { worst = error; at = i }
        }
        #expect(worst <= tolerance, "\(name)/\(key): max |swift − numpy| = \(worst) at \(at) (swift \(got[at]), numpy \(want.values[at]))",
                sourceLocation: sourceLocation)
    }
}
