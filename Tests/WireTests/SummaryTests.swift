import Foundation
import SwiftProtobuf
import Testing
@testable import Wire

@Suite("Wire summaries")
struct SummaryTests {
    func message<M: SwiftProtobuf.Message>(_ topic: String, _ m: M) throws -> WireMessage {
        try WireMessage(topic: topic, body: try m.serializedBytes())
    }

    @Test("one line per message: header, sizes, class top-3, map statistics, verdict, status; no payload bytes")
    func lines() throws {
        let frame = TestFrame()
        var seg = Moeseg_V1_Segmentation()
        seg.header = frame.header(7)
        seg.width = 64; seg.height = 32
        seg.classIds = Data(frame.classIds)
        let segLine = MessageSummary.text(try message("cam0/seg", seg), meta: testMeta())
        #expect(segLine.hasPrefix("cam0/seg seq=7 src_seq=107 "))
        #expect(segLine.contains("size=64x32") && segLine.contains("top3=[road:21.9%,sidewalk:21.9%,car:18.8%]"), "\(segLine)")
        #expect(!segLine.contains("\n"))

        var map = Moeseg_V1_UncertaintyMap()
        map.header = frame.header(7)
        map.map = "pe_stacked"; map.encoding = .f32; map.width = 64; map.height = 32
        var data = Data(count: frame.ramp.count * 4)
        data.withUnsafeMutableBytes { raw in
            frame.ramp.withUnsafeBufferPointer { MapCodec.encode($0, as: .f32, scale: 1, offset: 0, into: raw.baseAddress!) }
        }
        map.data = data
        let mapLine = MessageSummary.text(try message("cam0/unc", map), meta: nil)
        #expect(mapLine.contains("map=pe_stacked encoding=f32 size=64x32 min=0.0 mean=0.5 max=1.0"), "\(mapLine)")
        map.data = Data(count: 3)
        #expect(MessageSummary.text(try message("cam0/unc", map), meta: nil).contains("error="))

        var verdict = Moeseg_V1_OodVerdict()
        verdict.header.sequence = 7
        var score = Moeseg_V1_OodScore()
        score.name = "mean_mutual_information"; score.present = true; score.value = 0.2
        score.enabled = true; score.threshold = 0.15; score.fired = true
        verdict.scores = [score]; verdict.ood = true; verdict.rawOod = true
        let verdictJSON = MessageSummary.json(try message("cam0/ood", verdict), meta: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(verdictJSON.utf8)) as? [String: Any])
        #expect(object["ood"] as? Bool == true && object["fired"] as? [String] == ["mean_mutual_information"])
        #expect((object["scores"] as? [String: [String: Double]])?["mean_mutual_information"]?["threshold"] == 0.15)

        var status = testStatus(9)
        status.sourceState = .unavailable
        status.sourceDetail = "ENODEV"
        let statusLine = MessageSummary.text(try message("cam0/status", status), meta: nil)
        #expect(statusLine.contains("source=unavailable source_detail=ENODEV budget=full(0)"), "\(statusLine)")

        var meta = testMeta()
        meta.schemaVersion = 1
        let metaLine = MessageSummary.text(try message("cam0/meta", meta), meta: nil)
        #expect(metaLine.contains("schema=1 model_id=demo-simple") && metaLine.contains("classes=5"), "\(metaLine)")
    }
}

@Suite("Wire schema descriptor")
struct SchemaDescriptorTests {
    @Test("the embedded FileDescriptorSet holds every moeseg.v1 message, dependencies first")
    func descriptorSet() throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: WireSchema.descriptorSet)
        #expect(set.file.first?.name == "moeseg/v1/header.proto")
        let messages = Set(set.file.flatMap { file in file.messageType.map { "\(file.package).\($0.name)" } })
        for name in ["Header", "StageLatency", "Segmentation", "UncertaintyMap", "OodVerdict", "OodScore", "Status", "Meta"] {
            #expect(messages.contains("moeseg.v1.\(name)"), "\(name)")
        }
        // Field numbers the hand-written frame encoder relies on.
        let map = try #require(set.file.flatMap(\.messageType).first { $0.name == "UncertaintyMap" })
        #expect(map.field.map(\.number) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(map.field.last?.name == "data")
    }
}
