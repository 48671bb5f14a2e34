import Glibc
import Recording

/// What `CorruptedRecording.write` did.
public struct CorruptedRecordingSummary: Sendable, Equatable {
    /// Camera frames corrupted and written.
    public var frames: Int
    /// Label maps copied unchanged.
    public var labelMaps: Int
    /// Camera frames left out because their encoding is neither rgb8 nor bgr8.
    public var skippedFrames: Int
    /// The camera topic read and written.
    public var cameraTopic: String
    /// The label topic, if the recording has one.
    public var labelTopic: String?
    /// Damage found in the input while reading it; what it hid is missing from the output.
    public var inputIssues: [String]
}

/// Why a recording could not be corrupted.
public enum CorruptedRecordingError: Error, Equatable, CustomStringConvertible {
    /// Reading or writing an MCAP file failed.
    case recording(String)
    /// The input has no rgb8 or bgr8 camera channel.
    case noCamera(String)
    /// The output would overwrite the input.
    case sameFile(String)
    /// A frame could not be corrupted.
    case corruption(CorruptionError)

    public var description: String {
        switch self {
        case let .recording(why): why
        case let .noCamera(path): "\(path): no foxglove.RawImage rgb8 or bgr8 camera channel to corrupt"
        case let .sameFile(path): "the output must not be the input (\(path))"
        case let .corruption(error): "\(error)"
        }
    }
}

/// A corrupted copy of a recording: every camera frame through one corruption, label maps
/// and metadata copied as they are, plus a `moeseg.corruption` metadata record saying what
/// was done. Other channels are not copied.
public enum CorruptedRecording {
    /// Name of the metadata record describing the corruption.
    public static let metadataName = "moeseg.corruption"

    /// The seed of frame `index`: consecutive frames get unrelated noise, and a recording
    /// corrupted twice with the same seed gets the same bytes.
    public static func frameSeed(_ seed: UInt64, index: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(index) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Reads `input`, corrupts its camera frames, writes `output`.
    public static func write(input: String, output: String, corruption: Corruption, severity: Int,
                             seed: UInt64) throws(CorruptedRecordingError) -> CorruptedRecordingSummary {
        guard Corruption.severities.contains(severity) else { throw .corruption(.severity(severity)) }
        if sameFile(input, output) { throw .sameFile(output) }
        let reader: FrameRecordingReader
        do { reader = try FrameRecordingReader(path: input) } catch { throw .recording("\(error)") }
        guard let camera = reader.firstTopic(withEncoding: "rgb8") ?? reader.firstTopic(withEncoding: "bgr8") else {
            throw .noCamera(input)
        }
        let label = reader.firstTopic(withEncoding: "mono8", excluding: [camera])
        var summary = CorruptedRecordingSummary(frames: 0, labelMaps: 0, skippedFrames: 0, cameraTopic: camera,
                                                labelTopic: label, inputIssues: [])
        var created = false
        do {
            let writer = try FrameRecordingWriter(path: output, cameraTopic: camera,
                                                  labelTopic: label ?? RecordingConventions.labelTopic)
            created = true
            for record in reader.mcap.metadata { try writer.addMetadata(name: record.name, entries: record.entries) }
            try writer.addMetadata(name: metadataName, entries: [
                "kind": corruption.name, "severity": String(severity), "seed": String(seed), "source": input,
                "reference": "imagecorruptions 1.1.2 (statistically; see docs/evaluation.md)",
            ])
            for frame in try reader.frames(cameraTopic: camera, labelTopic: label) {
                let image = frame.camera.image
                let (width, height) = (Int(image.width), Int(image.height))
                guard image.encoding == "rgb8" || image.encoding == "bgr8" else {
                    summary.skippedFrames += 1
                    continue
                }
                var pixels = packed(image.data, rowBytes: width * 3, step: Int(image.step), height: height)
                if image.encoding == "bgr8" { swapRedBlue(&pixels) }
                do {
                    try corruption.apply(to: &pixels, width: width, height: height, severity: severity,
                                         seed: frameSeed(seed, index: summary.frames))
                } catch { throw CorruptedRecordingError.corruption(error) }
                if image.encoding == "bgr8" { swapRedBlue(&pixels) }
                try writer.addCameraFrame(pixels: pixels, width: width, height: height, encoding: image.encoding,
                                          captureTimeNanos: frame.camera.logTime, frameId: image.frameId,
                                          publishTimeNanos: frame.camera.publishTime)
                summary.frames += 1
                if let labels = frame.labels {
                    let map = labels.image
                    try writer.addLabelMap(labels: packed(map.data, rowBytes: Int(map.width), step: Int(map.step),
                                                          height: Int(map.height)),
                                           width: Int(map.width), height: Int(map.height),
                                           captureTimeNanos: labels.logTime, frameId: map.frameId,
                                           publishTimeNanos: labels.publishTime)
                    summary.labelMaps += 1
                }
            }
            try writer.close()
        } catch {
            // A half-written recording would pass for a corrupted copy; leave nothing.
            if created { unlink(output) }
            if let error = error as? CorruptedRecordingError { throw error }
            throw .recording("\(error)")
        }
        summary.inputIssues = reader.mcap.issues.map { "\($0)" }
        return summary
    }

    /// Rows without their padding.
    private static func packed(_ data: [UInt8], rowBytes: Int, step: Int, height: Int) -> [UInt8] {
        guard step != rowBytes else { return Array(data.prefix(rowBytes * height)) }
        var out = [UInt8]()
        out.reserveCapacity(rowBytes * height)
        for y in 0..<height { out.append(contentsOf: data[(y * step)..<(y * step + rowBytes)]) }
        return out
    }

    private static func swapRedBlue(_ pixels: inout [UInt8]) {
        for i in stride(from: 0, to: pixels.count, by: 3) { pixels.swapAt(i, i + 2) }
    }

    private static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let ra = realPath(a), let rb = realPath(b) else { return a == b }
        return ra == rb
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
