import Foundation
import Testing
@testable import Recording

/// The same messages, built by the foxglove_schemas_protobuf classes in Python.
private let pythonCases = """
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
a = RawImage(width=4, height=2, encoding="rgb8", step=12, data=bytes(range(24)), frame_id="cam0")
a.timestamp.seconds = 1700000000; a.timestamp.nanos = 123456789
b = RawImage(); b.timestamp.SetInParent()
c = RawImage(width=0xFFFFFFFF, height=1, encoding="mono8", step=300, data=bytes(i % 251 for i in range(300)), frame_id="kamera-\\u00fc")
c.timestamp.seconds = -5; c.timestamp.nanos = -1
for m in (a, b, c): print(m.SerializeToString().hex())
"""

private let swiftCases: [RawImage] = {
    var a = RawImage(timestampNanoseconds: 1_700_000_000_123_456_789, frameId: "cam0", width: 4, height: 2,
                     encoding: "rgb8", step: 12, data: (0..<24).map { UInt8($0) })
    a.timestampNanos = 123_456_789
    let b = RawImage(timestampNanoseconds: 0, width: 0, height: 0, encoding: "", step: 0, data: [])
    var c = RawImage(timestampNanoseconds: 0, frameId: "kamera-ü", width: 0xFFFF_FFFF, height: 1, encoding: "mono8",
                     step: 300, data: (0..<300).map { UInt8($0 % 251) })
    c.timestampSeconds = -5
    c.timestampNanos = -1
    return [a, b, c]
}()

private func hexBytes(_ s: Substring) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex, let j = s.index(i, offsetBy: 2, limitedBy: s.endIndex), let b = UInt8(s[i..<j], radix: 16) {
        out.append(b)
        i = j
    }
    return out
}

@Test func rawImageEncodingMatchesPythonProtobufByteForByte() throws {
    let lines = try PythonTools.inline(pythonCases).split(separator: "\n")
    #expect(lines.count == swiftCases.count)
    for (line, image) in zip(lines, swiftCases) {
        let reference = hexBytes(line)
        #expect(image.encoded() == reference)
        #expect(try RawImage(decoding: reference) == image)
    }
}

@Test func rawImageTimestampRoundTrip() {
    let image = RawImage(timestampNanoseconds: 1_700_000_000_987_654_321, width: 1, height: 1, encoding: "mono8",
                         step: 1, data: [7])
    #expect(image.timestampSeconds == 1_700_000_000 && image.timestampNanos == 987_654_321)
    #expect(image.timestampNanoseconds == 1_700_000_000_987_654_321)
}

@Test func rawImageDecoderSkipsUnknownFieldsAndRejectsMalformedInput() throws {
    let valid = swiftCases[0].encoded()
    // Unknown varint field 15 and unknown length-delimited field 20 before the real fields.
    let withUnknown: [UInt8] = [0x78, 0x96, 0x01, 0xA2, 0x01, 0x02, 0xAA, 0xBB] + valid
    #expect(try RawImage(decoding: withUnknown) == swiftCases[0])

    let malformed: [(String, [UInt8])] = [
        ("truncated varint", [0x08, 0x80]),
        ("11-byte varint", [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]),
        ("length past end", [0x32, 0x05, 0x01]),
        ("group wire type", [0x0B]),
        ("field number 0", [0x00, 0x00]),
        ("width as varint", [0x10, 0x01]),
        ("truncated fixed32", [0x15, 0x01, 0x02]),
        ("timestamp seconds as fixed32", [0x0A, 0x05, 0x0D, 0, 0, 0, 0]),
    ]
    for (what, bytes) in malformed {
        #expect(throws: ProtobufDecodingError.self, "\(what)") { try RawImage(decoding: bytes) }
    }
    // Every prefix either decodes or throws; none traps.
    for cut in 0..<valid.count { _ = try? RawImage(decoding: Array(valid[..<cut])) }
    var rng = SeededGenerator(seed: 9)
    for _ in 0..<2000 {
        var bytes = valid
        bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
        _ = try? RawImage(decoding: bytes)
        _ = try? RawImage(decoding: rng.bytes(Int(rng.next() % 64)))
    }
}

@Test func rawImageGeometryCheck() {
    var image = RawImage(timestampNanoseconds: 0, width: 4, height: 2, encoding: "rgb8", step: 12,
                         data: [UInt8](repeating: 0, count: 24))
    #expect(image.geometryProblem() == nil)
    image.step = 11
    #expect(image.geometryProblem() != nil)
    image.step = 12
    image.data.removeLast()
    #expect(image.geometryProblem() != nil)
}
