import Mixture
import Testing

/// The `pe` / `mi` aliases resolve to the member set each kind of model has and summarises best.
@Suite struct PrincipalMapTests {
    static func manifest(_ variant: String) throws -> MixtureManifest {
        try MixtureModel.load(directory: DemoModelReferenceTests.demo.appendingPathComponent(variant).path).manifest
    }

    @Test func aliasesFollowTheModel() throws {
        let names = ["pe", "mi", "ev"]
        #expect(UncertaintyMap.resolve(names, for: try Self.manifest("moe-simple")) == [.peWeighted, .miWeighted, .ev])
        #expect(UncertaintyMap.resolve(names, for: try Self.manifest("moe-classwise")) == [.peStacked, .miStacked, .ev])
        #expect(UncertaintyMap.resolve(names, for: try Self.manifest("ensemble")) == [.peEnsemble, .miEnsemble, .ev])
        #expect(UncertaintyMap.resolve(names, for: try Self.manifest("baseline-mc")) == [.peEnsemble, .miEnsemble, .ev])
        // Concrete names pass through; names that are neither are dropped (configs are validated first).
        #expect(UncertaintyMap.resolve(["mi_stacked", "nonsense"], for: try Self.manifest("moe-simple")) == [.miStacked])
        #expect(UncertaintyMap.configurableNames.contains("mi") && UncertaintyMap.configurableNames.contains("routing_mi"))
    }
}
