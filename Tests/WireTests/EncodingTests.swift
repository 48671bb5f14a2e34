import Foundation
import SwiftProtobuf
import Testing
@testable import Wire

@Suite("Wire encoding")
struct EncodingTests {
    static func stamps() -> FrameEncoder.Stamps {
        FrameEncoder.Stamps(publishRealtimeNanoseconds: 1_763_900_000_123_456_789, stream: "cam0")
    }

    static func headers() -> [Moeseg_V1_Header] {
        var full = TestFrame().header(123_456_789_012)
        full.captureMonotonicNs = -5  // negative int64 takes ten varint bytes
        full.modelID = "modèle-ü"
        var bare = Moeseg_V1_Header()
        bare.sequence = 0
        return [full, bare]
    }

    @Test("hand-written Segmentation bytes equal SwiftProtobuf's")
    func segmentationMatchesSwiftProtobuf() throws {
        let frame = TestFrame(width: 33, height: 7)
        for header in Self.headers() {
            let out = ProtoBuffer(capacity: 16)  // forces growth on the way
            frame.classIds.withUnsafeBufferPointer {
                FrameEncoder.segmentation(header: header, stamps: Self.stamps(), classIds: $0,
                                          width: frame.width, height: frame.height, to: out)
            }
            var expected = Moeseg_V1_Segmentation()
            expected.header = header
            expected.header.stream = "cam0"
            expected.header.publishRealtimeNs = Self.stamps().publishRealtimeNanoseconds
            expected.width = 33
            expected.height = 7
            expected.classIds = Data(frame.classIds)
            let reference: [UInt8] = try expected.serializedBytes()
            #expect(Array(out.bytes) == reference)
            #expect(try Moeseg_V1_Segmentation(serializedBytes: Array(out.bytes)) == expected)
        }
    }

    @Test("hand-written UncertaintyMap bytes equal SwiftProtobuf's for u8, f16 and f32", arguments: MapEncoding.allCases)
    func mapMatchesSwiftProtobuf(encoding: MapEncoding) throws {
        let frame = TestFrame(width: 40, height: 3)
        for header in Self.headers() {
            let out = ProtoBuffer(capacity: 16)
            frame.ramp.withUnsafeBufferPointer {
                FrameEncoder.uncertaintyMap(header: header, stamps: Self.stamps(), name: "mi_stacked", encoding: encoding,
                                            scale: 1.0 / 255, offset: 0, values: $0,
                                            width: frame.width, height: frame.height, to: out)
            }
            var expected = Moeseg_V1_UncertaintyMap()
            expected.header = header
            expected.header.stream = "cam0"
            expected.header.publishRealtimeNs = Self.stamps().publishRealtimeNanoseconds
            expected.map = "mi_stacked"
            expected.encoding = encoding.wire
            if encoding == .u8 { expected.scale = 1.0 / 255 }
            expected.width = 40
            expected.height = 3
            var data = Data(count: frame.ramp.count * encoding.bytesPerValue)
            data.withUnsafeMutableBytes { raw in
                frame.ramp.withUnsafeBufferPointer {
                    MapCodec.encode($0, as: encoding, scale: 1.0 / 255, offset: 0, into: raw.baseAddress!)
                }
            }
            expected.data = data
            let reference: [UInt8] = try expected.serializedBytes()
            #expect(Array(out.bytes) == reference)
            let decoded = try Moeseg_V1_UncertaintyMap(serializedBytes: Array(out.bytes))
            let values = try #require(MapCodec.decode(decoded))
            let tolerance: Float = encoding == .u8 ? 0.5 / 255 + 1e-6 : encoding == .f16 ? 5e-4 : 0
            let worst = zip(values, frame.ramp).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= tolerance, "worst error \(worst) for \(encoding)")
        }
    }

    @Test("u8 clamps outside the range, and NaN reads as most uncertain")
    func u8Clamping() {
        let values: [Float] = [-1, 0, 0.6, 1, 2, .nan, .infinity, -.infinity]
        var bytes = [UInt8](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            bytes.withUnsafeMutableBytes { MapCodec.encode(v, as: .u8, scale: 1.0 / 255, offset: 0, into: $0.baseAddress!) }
        }
        #expect(bytes == [0, 0, 153, 255, 255, 255, 255, 0])
    }

    @Test("a scaled u8 range round-trips within half a step")
    func u8Range() {
        let values: [Float] = [2, 2.5, 3.9, 4]
        var bytes = [UInt8](repeating: 0, count: values.count)
        let scale: Float = 2.0 / 255
        values.withUnsafeBufferPointer { v in
            bytes.withUnsafeMutableBytes { MapCodec.encode(v, as: .u8, scale: scale, offset: 2, into: $0.baseAddress!) }
        }
        for (b, v) in zip(bytes, values) { #expect(abs(2 + Float(b) * scale - v) <= scale / 2 + 1e-6) }
    }

    @Test("topics parse back to stream and kind")
    func topics() {
        for kind in TopicKind.allCases {
            let parsed = TopicKind.parse(kind.topic(stream: "front.left-1"))
            #expect(parsed?.stream == "front.left-1" && parsed?.kind == kind)
        }
        #expect(TopicKind.parse("cam0/other") == nil)
        #expect(TopicKind.parse("nothing") == nil)
        #expect(WireEndpoint.defaultEndpoint(stream: "cam0") == "ipc:///run/moeseg/cam0.sock")
    }
}

@Suite("Wire half floats")
struct HalfFloatTests {
    @Test("the vectorised float→half conversion equals Float16(x) bit for bit")
    func halfMatchesFloat16() {
        var specials: [Float] = [0, -0, 1, -1, 0.5, 65504, 65519.99, 65520, 1e9, -1e9, .infinity, -.infinity,
                                 .nan, 6.1035156e-05, 6.0e-05, 5.9604645e-08, 2.98e-08, 2.9802322e-08, 1e-12,
                                 .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1.0009766, 1.00048828125, 1.00146484375]
        var state: UInt64 = 42
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            specials.append(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)))
        }
        var mismatches = 0
        for x in specials {
            let want = Float16(x)
            let got = MapCodec.halfBits(x)
            if want.isNaN ? !Float16(bitPattern: got).isNaN : want.bitPattern != got { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
