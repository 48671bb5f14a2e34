import Testing
@testable import Scenes

/// Pixel share of every label value over `frames` frames of a drive.
func labelShares(_ domain: SceneDomain, seed: UInt64, frames: Int = 20) throws -> [Double] {
    let renderer = try SceneRenderer(domain: domain, seed: seed, width: 256, height: 128)
    var counts = [Int](repeating: 0, count: 256)
    var total = 0
    for k in 0..<frames {
        let (_, labels) = renderFrame(renderer, k * 15)
        for label in labels { counts[Int(label)] += 1 }
        total += labels.count
    }
    return counts.map { Double($0) / Double(total) }
}

@Test(arguments: [UInt64(1), 2, 3])
func domainsDifferInTheirStatistics(_ seed: UInt64) throws {
    let highway = try labelShares(.highway, seed: seed)
    let urban = try labelShares(.urban, seed: seed)
    let ambiguous = try labelShares(.ambiguous, seed: seed)
    func share(_ shares: [Double], _ ids: UInt8...) -> Double { ids.reduce(0) { $0 + shares[Int($1)] } }
    #expect(share(highway, ClassID.guardRail) > 3 * share(urban, ClassID.guardRail))
    #expect(share(highway, ClassID.terrain) > share(urban, ClassID.terrain))
    #expect(share(urban, ClassID.sidewalk, ClassID.building) > 3 * share(highway, ClassID.sidewalk, ClassID.building))
    #expect(share(urban, ClassID.person) > share(highway, ClassID.person))
    #expect(share(highway, ClassTable.unknownObject) == 0)
    #expect(share(urban, ClassTable.unknownObject) == 0)
    #expect(share(ambiguous, ClassTable.unknownObject) > 0)
}

@Test func trucksAreMostlyAHighwayThing() throws {
    // Towns only have the odd bus; one bus right ahead can outweigh a highway's trucks in a
    // single short drive, so compare several drives.
    var highway = 0.0, urban = 0.0
    for seed in UInt64(1)...4 {
        highway += try labelShares(.highway, seed: seed)[Int(ClassID.truck)]
        urban += try labelShares(.urban, seed: seed)[Int(ClassID.truck)]
    }
    #expect(highway > 2 * urban)
}

@Test(arguments: SceneDomain.allCases)
func labelsAreValidAndImagesHaveContent(_ domain: SceneDomain) throws {
    let renderer = try SceneRenderer(domain: domain, seed: 11, width: 320, height: 160)
    for index in [0, 40, 80] {
        let (rgb, labels) = renderFrame(renderer, index)
        #expect(labels.allSatisfy(ClassTable.isValidLabel))
        // At least five different classes in view, and a road.
        #expect(Set(labels).count >= 5)
        #expect(labels.contains(ClassID.road))
        // Image statistics: clearly not constant.
        let mean = rgb.reduce(0.0) { $0 + Double($1) } / Double(rgb.count)
        let variance = rgb.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(rgb.count)
        #expect(variance.squareRoot() > 10, "\(domain) frame \(index): std \(variance.squareRoot())")
    }
}

@Test func classTableIsDenseAndDocumented() {
    for (index, entry) in ClassTable.classes.enumerated() {
        #expect(Int(entry.id) == index)
    }
    #expect((10...14).contains(ClassTable.classes.count))
    #expect(Set(ClassTable.classes.map(\.name)).count == ClassTable.classes.count)
    #expect(ClassTable.palette.count == 768)
    #expect(ClassTable.isValidLabel(254) && ClassTable.isValidLabel(255))
    #expect(!ClassTable.isValidLabel(UInt8(ClassTable.classes.count)))
}
