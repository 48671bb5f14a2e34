/// Writes the two large per-frame messages (Segmentation, UncertaintyMap) in protobuf wire
/// format straight into a reused buffer, so publishing a frame does not allocate. The output is
/// byte-identical to SwiftProtobuf's serializer for the same message (tested), so any protobuf
/// reader decodes it. Field numbers follow proto/moeseg/v1/*.proto.
enum FrameEncoder {
    /// The stamps the publisher sets on every message, whatever the caller's header says.
    struct Stamps {
        var publishRealtimeNanoseconds: Int64
        var stream: String
    }

    private static func latencySize(_ l: Moeseg_V1_StageLatency) -> Int {
        varintFieldSize(1, UInt64(l.preprocessUs)) + varintFieldSize(2, UInt64(l.expertsUs))
            + varintFieldSize(3, UInt64(l.gateUs)) + varintFieldSize(4, UInt64(l.combineUs))
            + varintFieldSize(5, UInt64(l.uncertaintyUs)) + varintFieldSize(6, UInt64(l.totalUs))
    }

    private static func headerSize(_ h: Moeseg_V1_Header, _ stamps: Stamps) -> Int {
        var size = varintFieldSize(1, h.sequence) + varintFieldSize(2, h.sourceSequence)
            + varintFieldSize(3, UInt64(bitPattern: h.captureMonotonicNs))
            + varintFieldSize(4, UInt64(bitPattern: h.captureRealtimeNs))
            + varintFieldSize(5, UInt64(bitPattern: stamps.publishRealtimeNanoseconds))
            + stringFieldSize(6, stamps.stream) + stringFieldSize(7, h.modelID)
        if h.hasLatency {
            let inner = latencySize(h.latency)
            size += 1 + varintSize(UInt64(inner)) + inner
        }
        return size
    }

    /// Field 1 of every message: the header, with the publisher's stamps.
    static func writeHeader(_ h: Moeseg_V1_Header, _ stamps: Stamps, to out: ProtoBuffer) {
        out.writeTag(1, 2)
        out.writeVarint(UInt64(headerSize(h, stamps)))
        out.writeVarintField(1, h.sequence)
        out.writeVarintField(2, h.sourceSequence)
        out.writeVarintField(3, UInt64(bitPattern: h.captureMonotonicNs))
        out.writeVarintField(4, UInt64(bitPattern: h.captureRealtimeNs))
        out.writeVarintField(5, UInt64(bitPattern: stamps.publishRealtimeNanoseconds))
        out.writeStringField(6, stamps.stream)
        out.writeStringField(7, h.modelID)
        if h.hasLatency {
            let l = h.latency
            out.writeTag(8, 2)
            out.writeVarint(UInt64(latencySize(l)))
            out.writeVarintField(1, UInt64(l.preprocessUs))
            out.writeVarintField(2, UInt64(l.expertsUs))
            out.writeVarintField(3, UInt64(l.gateUs))
            out.writeVarintField(4, UInt64(l.combineUs))
            out.writeVarintField(5, UInt64(l.uncertaintyUs))
            out.writeVarintField(6, UInt64(l.totalUs))
        }
    }

    /// A Segmentation message (class ids copied as they are).
    static func segmentation(header: Moeseg_V1_Header, stamps: Stamps, classIds: UnsafeBufferPointer<UInt8>,
                             width: Int, height: Int, to out: ProtoBuffer) {
        out.reset()
        writeHeader(header, stamps, to: out)
        out.writeVarintField(2, UInt64(width))
        out.writeVarintField(3, UInt64(height))
        if !classIds.isEmpty, let source = classIds.baseAddress {
            let destination = out.beginBytesField(4, length: classIds.count)
            destination.copyMemory(from: source, byteCount: classIds.count)
        }
    }

    /// An UncertaintyMap message, the values converted to `encoding` in place in the buffer.
    static func uncertaintyMap(header: Moeseg_V1_Header, stamps: Stamps, name: String, encoding: MapEncoding,
                               scale: Float, offset: Float, values: UnsafeBufferPointer<Float>,
                               width: Int, height: Int, to out: ProtoBuffer) {
        out.reset()
        writeHeader(header, stamps, to: out)
        out.writeStringField(2, name)
        out.writeVarintField(3, UInt64(encoding.wire.rawValue))
        if encoding == .u8 {
            out.writeFloatField(4, scale)
            out.writeFloatField(5, offset)
        }
        out.writeVarintField(6, UInt64(width))
        out.writeVarintField(7, UInt64(height))
        if !values.isEmpty {
            let destination = out.beginBytesField(8, length: values.count * encoding.bytesPerValue)
            MapCodec.encode(values, as: encoding, scale: scale, offset: offset, into: destination)
        }
    }
}
