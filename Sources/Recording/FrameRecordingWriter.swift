import Glibc

/// Topic names and metadata keys moeseg uses in its recordings.
public enum RecordingConventions {
    /// Default camera topic (foxglove.RawImage, rgb8).
    public static let cameraTopic = "/camera/image"
    /// Default label-map topic (foxglove.RawImage, mono8 class ids).
    public static let labelTopic = "/camera/labels"
    /// Name of the per-recording Metadata record.
    public static let recordingMetadataName = "moeseg.recording"
    /// Label value for pixels without ground truth.
    public static let ignoreLabel: UInt8 = 255
    /// Label value for objects of classes absent from training.
    public static let unknownObjectLabel: UInt8 = 254
}

/// What moeseg stores about a recording in its `moeseg.recording` Metadata record.
public struct RecordingInfo: Sendable, Equatable {
    /// Scene domain, e.g. `urban`, `highway`, `ood`, or `camera` for live recordings.
    public var domain: String
    /// Generator seed (synthetic recordings).
    public var seed: UInt64?
    /// Version of the program that wrote the recording.
    public var generatorVersion: String
    /// Class table as JSON (id → name), the label maps' vocabulary.
    public var classTableJSON: String?
    /// Pinhole intrinsics in pixels.
    public var fx: Double?, fy: Double?, cx: Double?, cy: Double?
    /// Anything else worth keeping.
    public var extra: [String: String]

    /// Describes a recording.
    public init(domain: String, seed: UInt64? = nil, generatorVersion: String, classTableJSON: String? = nil,
                fx: Double? = nil, fy: Double? = nil, cx: Double? = nil, cy: Double? = nil,
                extra: [String: String] = [:]) {
        self.domain = domain
        self.seed = seed
        self.generatorVersion = generatorVersion
        self.classTableJSON = classTableJSON
        self.fx = fx
        self.fy = fy
        self.cx = cx
        self.cy = cy
        self.extra = extra
    }

    /// The metadata entries (extra keys never override the named ones).
    public var entries: [String: String] {
        var e = extra
        e["domain"] = domain
        e["generator_version"] = generatorVersion
        if let seed { e["seed"] = String(seed) }
        if let classTableJSON { e["class_table"] = classTableJSON }
        if let fx { e["fx"] = "\(fx)" }
        if let fy { e["fy"] = "\(fy)" }
        if let cx { e["cx"] = "\(cx)" }
        if let cy { e["cy"] = "\(cy)" }
        return e
    }

    /// Parses entries written by `entries`; nil without the required keys.
    public init?(entries: [String: String]) {
        guard let domain = entries["domain"], let version = entries["generator_version"] else { return nil }
        let named: Set<String> = ["domain", "generator_version", "seed", "class_table", "fx", "fy", "cx", "cy"]
        self.init(domain: domain, seed: entries["seed"].flatMap { UInt64($0) }, generatorVersion: version,
                  classTableJSON: entries["class_table"],
                  fx: entries["fx"].flatMap { Double($0) }, fy: entries["fy"].flatMap { Double($0) },
                  cx: entries["cx"].flatMap { Double($0) }, cy: entries["cy"].flatMap { Double($0) },
                  extra: entries.filter { !named.contains($0.key) })
    }
}

/// Writes camera frames and label maps as foxglove.RawImage protobuf messages.
///
/// log_time is the capture time and the RawImage timestamp; publish_time is when the
/// frame was written. Sequence numbers run on across the files of a split recording
/// (`continueInNewFile`). Not thread-safe.
public final class FrameRecordingWriter {
    /// The underlying MCAP writer of the current file (for extra channels).
    public private(set) var mcap: MCAPWriter
    /// Counts the files started so far after the first; writers that cache channel ids on
    /// `mcap` compare it to know when to register them again.
    public private(set) var fileGeneration = 0
    private let options: MCAPWriterOptions
    private let cameraTopic: String
    private let labelTopic: String
    private var schemaId: UInt16?
    private var cameraChannel: UInt16?
    private var labelChannel: UInt16?
    private var cameraSequence: UInt32 = 0
    private var labelSequence: UInt32 = 0

    /// Creates the file; channels are added when their first message arrives.
    public init(path: String, options: MCAPWriterOptions = MCAPWriterOptions(),
                cameraTopic: String = RecordingConventions.cameraTopic,
                labelTopic: String = RecordingConventions.labelTopic) throws(MCAPError) {
        mcap = try MCAPWriter(path: path, options: options)
        self.options = options
        self.cameraTopic = cameraTopic
        self.labelTopic = labelTopic
    }

    /// Adds one camera frame (`rgb8` unless said otherwise); rows may be padded to `step`.
    public func addCameraFrame(pixels: UnsafeRawBufferPointer, width: Int, height: Int, step: Int? = nil,
                               encoding: String = "rgb8", captureTimeNanos: UInt64, frameId: String = "camera",
                               publishTimeNanos: UInt64? = nil) throws(MCAPError) {
        let channel = try channel(for: cameraTopic, cached: &cameraChannel)
        try addImage(channel: channel, sequence: &cameraSequence, pixels: pixels, width: width, height: height,
                     step: step ?? width * (RawImage.bytesPerPixel(encoding: encoding) ?? 1), encoding: encoding,
                     captureTimeNanos: captureTimeNanos, frameId: frameId, publishTimeNanos: publishTimeNanos)
    }

    /// Adds one label map: one class id per pixel, 255 ignore, 254 unknown object.
    public func addLabelMap(labels: UnsafeRawBufferPointer, width: Int, height: Int, captureTimeNanos: UInt64,
                            frameId: String = "camera", publishTimeNanos: UInt64? = nil) throws(MCAPError) {
        let channel = try channel(for: labelTopic, cached: &labelChannel)
        try addImage(channel: channel, sequence: &labelSequence, pixels: labels, width: width, height: height,
                     step: width, encoding: "mono8", captureTimeNanos: captureTimeNanos, frameId: frameId,
                     publishTimeNanos: publishTimeNanos)
    }

    /// Array conveniences.
    public func addCameraFrame(pixels: [UInt8], width: Int, height: Int, step: Int? = nil, encoding: String = "rgb8",
                               captureTimeNanos: UInt64, frameId: String = "camera",
                               publishTimeNanos: UInt64? = nil) throws(MCAPError) {
        try withBuffer(pixels) { buffer throws(MCAPError) in
            try addCameraFrame(pixels: buffer, width: width, height: height, step: step, encoding: encoding,
                               captureTimeNanos: captureTimeNanos, frameId: frameId, publishTimeNanos: publishTimeNanos)
        }
    }

    /// Array convenience for label maps.
    public func addLabelMap(labels: [UInt8], width: Int, height: Int, captureTimeNanos: UInt64,
                            frameId: String = "camera", publishTimeNanos: UInt64? = nil) throws(MCAPError) {
        try withBuffer(labels) { buffer throws(MCAPError) in
            try addLabelMap(labels: buffer, width: width, height: height, captureTimeNanos: captureTimeNanos,
                            frameId: frameId, publishTimeNanos: publishTimeNanos)
        }
    }

    /// Writes a Metadata record.
    public func addMetadata(name: String, entries: [String: String]) throws(MCAPError) {
        try mcap.addMetadata(name: name, entries: entries)
    }

    /// Writes the `moeseg.recording` Metadata record.
    public func addRecordingInfo(_ info: RecordingInfo) throws(MCAPError) {
        try mcap.addMetadata(name: RecordingConventions.recordingMetadataName, entries: info.entries)
    }

    /// Finishes the file (summary, footer).
    public func close() throws(MCAPError) { try mcap.close() }

    /// Bytes the current file holds or will hold once the open chunk is written (uncompressed).
    public var currentFileBytes: UInt64 { mcap.bytesWritten + UInt64(mcap.pendingChunkBytes) }

    /// Finishes the current file and goes on in a new one at `path`, which gets its own schema
    /// and channel records (added with its first messages) and its own summary.
    public func continueInNewFile(path: String) throws(MCAPError) {
        try mcap.close()
        mcap = try MCAPWriter(path: path, options: options)
        fileGeneration += 1
        schemaId = nil
        cameraChannel = nil
        labelChannel = nil
    }

    // MARK: - Internals

    private func withBuffer(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(MCAPError) -> Void) throws(MCAPError) {
        var failure: MCAPError?
        bytes.withUnsafeBytes { buffer in
            do throws(MCAPError) { try body(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func channel(for topic: String, cached: inout UInt16?) throws(MCAPError) -> UInt16 {
        if let cached { return cached }
        let schema: UInt16
        if let schemaId {
            schema = schemaId
        } else {
            schema = try mcap.addSchema(name: RawImageSchema.name, encoding: RawImageSchema.encoding,
                                        data: RawImageSchema.descriptorSet)
            schemaId = schema
        }
        let id = try mcap.addChannel(topic: topic, messageEncoding: "protobuf", schemaId: schema)
        cached = id
        return id
    }

    private func addImage(channel: UInt16, sequence: inout UInt32, pixels: UnsafeRawBufferPointer, width: Int,
                          height: Int, step: Int, encoding: String, captureTimeNanos: UInt64, frameId: String,
                          publishTimeNanos: UInt64?) throws(MCAPError) {
        guard width >= 0, height >= 0, step >= 0, width <= Int(UInt32.max), height <= Int(UInt32.max),
              step <= Int(UInt32.max) else {
            throw MCAPError.invalidArgument("image geometry \(width)x\(height) step \(step)")
        }
        let (needed, overflow) = step.multipliedReportingOverflow(by: height)
        guard !overflow, pixels.count == needed else {
            throw MCAPError.invalidArgument("\(pixels.count) pixel bytes for \(height) rows of \(step) bytes")
        }
        let message = RawImage.encode(
            timestampSeconds: Int64(captureTimeNanos / 1_000_000_000),
            timestampNanos: Int32(captureTimeNanos % 1_000_000_000), frameId: frameId,
            width: UInt32(width), height: UInt32(height), encoding: encoding, step: UInt32(step), data: pixels)
        try mcap.addMessage(channelId: channel, sequence: sequence, logTime: captureTimeNanos,
                            publishTime: publishTimeNanos ?? realtimeNanos(), data: message)
        sequence &+= 1
    }
}

/// CLOCK_REALTIME now, nanoseconds since the epoch.
func realtimeNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(max(0, ts.tv_sec)) * 1_000_000_000 + UInt64(max(0, ts.tv_nsec))
}
