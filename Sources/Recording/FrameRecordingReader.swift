/// One decoded RawImage message with its MCAP timing.
public struct RecordedImage: Sendable, Equatable {
    /// Capture time (message log time), nanoseconds.
    public var logTime: UInt64
    /// Write time (message publish time), nanoseconds.
    public var publishTime: UInt64
    /// Per-channel sequence number from the message record.
    public var sequence: UInt32
    /// The image.
    public var image: RawImage
}

/// A camera frame and the label map logged at the same time, if any.
public struct LabelledFrame: Sendable, Equatable {
    /// The camera image.
    public var camera: RecordedImage
    /// The label map with the camera frame's log time, if the recording has one.
    public var labels: RecordedImage?
}

/// A camera message and its same-time label message, still encoded.
public struct FrameMessages: Sendable {
    /// The camera message.
    public var camera: MCAPMessage
    /// The label message with the same log time, if any.
    public var labels: MCAPMessage?
}

/// Why a recording cannot be read as frames.
public enum FrameRecordingError: Error, Equatable, CustomStringConvertible {
    /// The requested topic does not exist or is not a foxglove.RawImage channel.
    case noSuchImageTopic(String)
    /// The recording has no foxglove.RawImage channel of the wanted kind.
    case noImageChannel(String)

    public var description: String {
        switch self {
        case let .noSuchImageTopic(topic): "no foxglove.RawImage channel with topic \(topic)"
        case let .noImageChannel(what): "the recording has no \(what) channel"
        }
    }
}

/// Reads moeseg (or any foxglove.RawImage) recordings frame by frame, in log-time order.
public final class FrameRecordingReader {
    /// The underlying MCAP reader (issues, statistics, other channels).
    public let mcap: MCAPReader

    /// Opens a recording; damage is reported in `mcap.issues`, not thrown.
    public init(path: String) throws(MCAPError) {
        mcap = try MCAPReader(path: path)
    }

    /// Channels whose schema is foxglove.RawImage in protobuf, by channel id.
    public var imageChannels: [MCAPChannel] {
        mcap.channels.values
            .filter { ch in
                guard let schema = mcap.schema(forChannel: ch.id) else { return false }
                return schema.name == RawImageSchema.name && schema.encoding == RawImageSchema.encoding
                    && ch.messageEncoding == "protobuf"
            }
            .sorted { $0.id < $1.id }
    }

    /// Pixel encoding of the first readable message on `topic`.
    public func firstEncoding(topic: String) -> String? {
        guard let id = imageChannels.first(where: { $0.topic == topic })?.id else { return nil }
        var messages = mcap.messages(channels: [id])
        while let m = messages.next() {
            if let (image, _) = try? RawImage.decodeFields(m.data) { return image.encoding }
        }
        return nil
    }

    /// The first RawImage channel carrying `encoding` (by channel id), excluding some topics.
    public func firstTopic(withEncoding encoding: String, excluding: Set<String> = []) -> String? {
        for channel in imageChannels where !excluding.contains(channel.topic) {
            if firstEncoding(topic: channel.topic) == encoding { return channel.topic }
        }
        return nil
    }

    /// Entries of the first Metadata record called `name`.
    public func metadata(named name: String) -> [String: String]? {
        mcap.metadata.first { $0.name == name }?.entries
    }

    /// The `moeseg.recording` metadata, when present and well-formed.
    public var recordingInfo: RecordingInfo? {
        metadata(named: RecordingConventions.recordingMetadataName).flatMap { RecordingInfo(entries: $0) }
    }

    /// Decoded images of one topic in log-time order; undecodable messages are skipped
    /// and reported in `mcap.issues`.
    public func images(topic: String, startTime: UInt64 = 0) throws(FrameRecordingError) -> AnyIterator<RecordedImage> {
        guard let id = imageChannels.first(where: { $0.topic == topic })?.id else {
            throw FrameRecordingError.noSuchImageTopic(topic)
        }
        var messages = mcap.messages(channels: [id], startTime: startTime)
        let reader = self
        return AnyIterator {
            while let m = messages.next() {
                if let image = reader.decode(m, topic: topic) { return image }
            }
            return nil
        }
    }

    /// Camera frames paired with same-time label maps, still encoded (cheap to skip).
    public func frameMessages(cameraTopic: String, labelTopic: String?,
                              startTime: UInt64 = 0) throws(FrameRecordingError) -> FrameMessageIterator {
        guard let camera = imageChannels.first(where: { $0.topic == cameraTopic })?.id else {
            throw FrameRecordingError.noSuchImageTopic(cameraTopic)
        }
        var label: UInt16?
        if let labelTopic {
            guard let id = imageChannels.first(where: { $0.topic == labelTopic })?.id else {
                throw FrameRecordingError.noSuchImageTopic(labelTopic)
            }
            label = id
        }
        let wanted: Set<UInt16> = label.map { [camera, $0] } ?? [camera]
        return FrameMessageIterator(messages: mcap.messages(channels: wanted, startTime: startTime),
                                    camera: camera, label: label)
    }

    /// Camera frames with their label maps, decoded.
    public func frames(cameraTopic: String, labelTopic: String?,
                       startTime: UInt64 = 0) throws(FrameRecordingError) -> AnyIterator<LabelledFrame> {
        var pairs = try frameMessages(cameraTopic: cameraTopic, labelTopic: labelTopic, startTime: startTime)
        let reader = self
        return AnyIterator {
            while let pair = pairs.next() {
                guard let camera = reader.decode(pair.camera, topic: cameraTopic) else { continue }
                let labels = pair.labels.flatMap { reader.decode($0, topic: labelTopic ?? "") }
                return LabelledFrame(camera: camera, labels: labels)
            }
            return nil
        }
    }

    /// Decodes one RawImage message, or records why not.
    public func decode(_ message: MCAPMessage, topic: String) -> RecordedImage? {
        do {
            let image = try RawImage(decoding: message.data)
            if let problem = image.geometryProblem() {
                mcap.record(.malformed, at: nil, "\(topic) image at log time \(message.logTime) skipped: \(problem)")
                return nil
            }
            return RecordedImage(logTime: message.logTime, publishTime: message.publishTime,
                                 sequence: message.sequence, image: image)
        } catch {
            mcap.record(.malformed, at: nil, "\(topic) message at log time \(message.logTime) is not a RawImage: \(error)")
            return nil
        }
    }
}

/// Pairs each camera message with the label message of the same log time, whichever
/// of the two the file stores first.
public struct FrameMessageIterator: IteratorProtocol, Sequence {
    private var messages: MCAPMessageIterator
    private let camera: UInt16
    private let label: UInt16?
    private var peeked: MCAPMessage?
    /// Labels seen but not yet matched, newest per log time.
    private var pendingLabels: [UInt64: MCAPMessage] = [:]

    init(messages: MCAPMessageIterator, camera: UInt16, label: UInt16?) {
        self.messages = messages
        self.camera = camera
        self.label = label
    }

    private mutating func pull() -> MCAPMessage? {
        if let p = peeked {
            peeked = nil
            return p
        }
        return messages.next()
    }

    /// The next camera message with its label, or nil at the end.
    public mutating func next() -> FrameMessages? {
        var cameraMessage: MCAPMessage?
        while cameraMessage == nil {
            guard let m = pull() else { return nil }
            if m.channelId == camera {
                cameraMessage = m
            } else if m.channelId == label {
                pendingLabels[m.logTime] = m
            }
        }
        guard let cam = cameraMessage else { return nil }
        // A label written after its camera frame shares the frame's log time.
        while label != nil, let m = pull() {
            if m.logTime != cam.logTime || m.channelId == camera {
                peeked = m
                break
            }
            if m.channelId == label { pendingLabels[m.logTime] = m }
        }
        let labels = pendingLabels[cam.logTime]
        pendingLabels = pendingLabels.filter { $0.key > cam.logTime }
        return FrameMessages(camera: cam, labels: labels)
    }
}
