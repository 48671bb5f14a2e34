import Foundation
import Mixture
import Recording
import Sensors
import SwiftProtobuf
import Wire

/// Writes the messages the daemon publishes into an MCAP file next to the camera frames:
/// one channel per topic (`<stream>/seg`, ...), protobuf encoding, the moeseg.v1 schema as
/// FileDescriptorSet, so a recording replays what planners saw. Record mode only: building
/// the messages allocates, which the publish path itself avoids.
public final class ResultRecorder {
    private let writer: FrameRecordingWriter
    private let stream: String
    private var channels: [TopicKind: UInt16] = [:]
    /// The writer's file generation `channels` belong to (a split recording starts new files).
    private var generation = 0
    private var sequences: [TopicKind: UInt32] = [:]
    /// The first write error (the recording stops growing after it; reported at the end).
    public private(set) var failure: MCAPError?

    /// Records into `writer` under topics of `stream`.
    public init(writer: FrameRecordingWriter, stream: String) {
        self.writer = writer
        self.stream = stream
    }

    /// Adds one message at `logTime` (ns since the epoch).
    public func record<M: SwiftProtobuf.Message>(_ kind: TopicKind, _ message: M, logTime: UInt64) {
        guard failure == nil else { return }
        do {
            let channel = try channel(kind)
            let bytes: [UInt8] = try message.serializedBytes()
            let sequence = sequences[kind, default: 0]
            sequences[kind] = sequence &+ 1
            try bytes.withUnsafeBytes { raw in
                try writer.mcap.addMessage(channelId: channel, sequence: sequence, logTime: logTime,
                                           publishTime: realtimeNow(), data: raw)
            }
        } catch let error as MCAPError {
            failure = error
        } catch {
            failure = .invalidArgument("cannot serialise \(kind.topic(stream: stream)): \(error)")
        }
    }

    /// A segmentation message as published.
    public func segmentation(header: Moeseg_V1_Header, classIds: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                             logTime: UInt64) {
        var message = Moeseg_V1_Segmentation()
        message.header = stamped(header)
        message.width = UInt32(width)
        message.height = UInt32(height)
        message.classIds = Data(buffer: classIds)
        record(.segmentation, message, logTime: logTime)
    }

    /// An uncertainty map in the encoding the publisher uses for it.
    public func map(header: Moeseg_V1_Header, name: String, values: UnsafeBufferPointer<Float>, width: Int, height: Int,
                    quantization: (encoding: MapEncoding, scale: Float, offset: Float), logTime: UInt64) {
        var message = Moeseg_V1_UncertaintyMap()
        message.header = stamped(header)
        message.map = name
        message.encoding = quantization.encoding.wire
        if quantization.encoding == .u8 {
            message.scale = quantization.scale
            message.offset = quantization.offset
        }
        message.width = UInt32(width)
        message.height = UInt32(height)
        var data = Data(count: values.count * quantization.encoding.bytesPerValue)
        data.withUnsafeMutableBytes { raw in
            MapCodec.encode(values, as: quantization.encoding, scale: quantization.scale, offset: quantization.offset,
                            into: raw.baseAddress!)
        }
        message.data = data
        record(.uncertainty, message, logTime: logTime)
    }

    private func stamped(_ header: Moeseg_V1_Header) -> Moeseg_V1_Header {
        var header = header
        header.stream = stream
        header.publishRealtimeNs = Int64(bitPattern: realtimeNow())
        return header
    }

    private func channel(_ kind: TopicKind) throws(MCAPError) -> UInt16 {
        if generation != writer.fileGeneration {
            generation = writer.fileGeneration
            channels.removeAll(keepingCapacity: true)
        }
        if let id = channels[kind] { return id }
        // One FileDescriptorSet holds every moeseg.v1 file; the schema name picks the message.
        let name = switch kind {
        case .segmentation: "moeseg.v1.Segmentation"
        case .uncertainty: "moeseg.v1.UncertaintyMap"
        case .verdict: "moeseg.v1.OodVerdict"
        case .status: "moeseg.v1.Status"
        case .meta: "moeseg.v1.Meta"
        }
        let data = WireSchema.descriptorSet
        let schema = try writer.mcap.addSchema(name: name, encoding: "protobuf", data: data)
        let id = try writer.mcap.addChannel(topic: kind.topic(stream: stream), messageEncoding: "protobuf", schemaId: schema)
        channels[kind] = id
        return id
    }
}
