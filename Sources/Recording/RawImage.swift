/// A `foxglove.RawImage` message, encoded by hand in protobuf wire format.
///
/// Field numbers (foxglove/RawImage.proto): timestamp 1 (google.protobuf.Timestamp:
/// seconds 1 int64, nanos 2 int32), width 2, height 3 (fixed32), encoding 4 (string),
/// step 5 (fixed32), data 6 (bytes), frame_id 7 (string).
public struct RawImage: Sendable, Equatable {
    /// Timestamp seconds since the Unix epoch.
    public var timestampSeconds: Int64
    /// Timestamp nanoseconds within the second.
    public var timestampNanos: Int32
    /// Coordinate frame of the camera.
    public var frameId: String
    /// Width in pixels.
    public var width: UInt32
    /// Height in pixels.
    public var height: UInt32
    /// Pixel encoding, e.g. `rgb8` or `mono8`.
    public var encoding: String
    /// Bytes per row.
    public var step: UInt32
    /// Pixel rows, `step * height` bytes.
    public var data: [UInt8]

    /// An image with a timestamp in nanoseconds since the epoch.
    public init(timestampNanoseconds: UInt64, frameId: String = "", width: UInt32, height: UInt32,
                encoding: String, step: UInt32, data: [UInt8]) {
        self.timestampSeconds = Int64(timestampNanoseconds / 1_000_000_000)
        self.timestampNanos = Int32(timestampNanoseconds % 1_000_000_000)
        self.frameId = frameId
        self.width = width
        self.height = height
        self.encoding = encoding
        self.step = step
        self.data = data
    }

    /// The timestamp in nanoseconds since the epoch, nil if negative or out of range.
    public var timestampNanoseconds: UInt64? {
        guard timestampSeconds >= 0, timestampNanos >= 0 else { return nil }
        let (s, o1) = UInt64(timestampSeconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (t, o2) = s.addingReportingOverflow(UInt64(timestampNanos))
        return o1 || o2 ? nil : t
    }

    /// Bytes per pixel for the encodings moeseg knows, nil for others.
    public static func bytesPerPixel(encoding: String) -> Int? {
        switch encoding {
        case "rgb8", "bgr8": 3
        case "rgba8", "bgra8", "32FC1": 4
        case "mono8", "8UC1": 1
        case "mono16", "16UC1", "yuyv", "yuv422", "uyvy", "yuv422_yuy2": 2
        default: nil
        }
    }

    /// Nil if the geometry is consistent (step covers a row, data covers every row), else why not.
    public func geometryProblem() -> String? {
        if let bpp = RawImage.bytesPerPixel(encoding: encoding), UInt64(step) < UInt64(width) * UInt64(bpp) {
            return "step \(step) is shorter than a \(width)-pixel \(encoding) row"
        }
        if UInt64(data.count) < UInt64(step) * UInt64(height) {
            return "\(data.count) data bytes cannot hold \(height) rows of \(step) bytes"
        }
        return nil
    }

    /// Protobuf encoding (proto3: default-valued scalars omitted, timestamp always present).
    public func encoded() -> [UInt8] {
        data.withUnsafeBytes { pixels in
            RawImage.encode(timestampSeconds: timestampSeconds, timestampNanos: timestampNanos, frameId: frameId,
                            width: width, height: height, encoding: encoding, step: step, data: pixels)
        }
    }

    /// Encodes a RawImage straight from a pixel buffer, without building the struct first.
    public static func encode(timestampSeconds: Int64, timestampNanos: Int32, frameId: String,
                              width: UInt32, height: UInt32, encoding: String, step: UInt32,
                              data: UnsafeRawBufferPointer) -> [UInt8] {
        var ts = ProtobufWriter()
        if timestampSeconds != 0 {
            ts.tag(1, .varint)
            ts.varint(UInt64(bitPattern: timestampSeconds))
        }
        if timestampNanos != 0 {
            ts.tag(2, .varint)
            ts.varint(UInt64(bitPattern: Int64(timestampNanos)))
        }
        var w = ProtobufWriter()
        w.bytes.reserveCapacity(data.count + 64 + frameId.utf8.count + encoding.utf8.count)
        w.lengthDelimited(1, ts.bytes)
        if width != 0 { w.tag(2, .fixed32); w.fixed32(width) }
        if height != 0 { w.tag(3, .fixed32); w.fixed32(height) }
        if !encoding.isEmpty { w.lengthDelimited(4, Array(encoding.utf8)) }
        if step != 0 { w.tag(5, .fixed32); w.fixed32(step) }
        if data.count > 0 { w.lengthDelimited(6, data) }
        if !frameId.isEmpty { w.lengthDelimited(7, Array(frameId.utf8)) }
        return w.bytes
    }

    /// Decodes a RawImage, copying its pixel data.
    public init(decoding bytes: [UInt8]) throws(ProtobufDecodingError) {
        let (image, range) = try RawImage.decodeFields(bytes)
        self = image
        self.data = Array(bytes[range])
    }

    /// Decodes every field except `data`, which is returned as a range of `bytes` so a
    /// caller can copy the pixels straight to where they are needed.
    public static func decodeFields(_ bytes: [UInt8]) throws(ProtobufDecodingError) -> (RawImage, Range<Int>) {
        var image = RawImage(timestampNanoseconds: 0, width: 0, height: 0, encoding: "", step: 0, data: [])
        var dataRange = 0..<0
        let result: Result<Void, ProtobufDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtobufDecodingError) {
                var r = ProtobufReader(buffer, range: 0..<buffer.count)
                while !r.isAtEnd {
                    let (field, type) = try r.tag()
                    switch (field, type) {
                    case (1, .lengthDelimited):
                        var ts = ProtobufReader(buffer, range: try r.lengthDelimited())
                        while !ts.isAtEnd {
                            let (tf, tt) = try ts.tag()
                            switch (tf, tt) {
                            case (1, .varint): image.timestampSeconds = Int64(bitPattern: try ts.varint())
                            case (2, .varint): image.timestampNanos = Int32(truncatingIfNeeded: Int64(bitPattern: try ts.varint()))
                            case (1, _), (2, _): throw ProtobufDecodingError("timestamp field \(tf) has wire type \(tt)")
                            default: try ts.skip(tt)
                            }
                        }
                    case (2, .fixed32): image.width = try r.fixed32()
                    case (3, .fixed32): image.height = try r.fixed32()
                    case (4, .lengthDelimited): image.encoding = r.string(try r.lengthDelimited())
                    case (5, .fixed32): image.step = try r.fixed32()
                    case (6, .lengthDelimited): dataRange = try r.lengthDelimited()
                    case (7, .lengthDelimited): image.frameId = r.string(try r.lengthDelimited())
                    case (1...7, _): throw ProtobufDecodingError("RawImage field \(field) has wire type \(type)")
                    default: try r.skip(type)
                    }
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        return (image, dataRange)
    }
}
