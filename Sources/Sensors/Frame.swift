/// Pixel layouts a frame can carry.
public enum PixelFormat: String, Sendable, CaseIterable {
    case rgb8, bgr8, yuyv, mono8

    /// Bytes per pixel (YUYV packs two pixels in four bytes).
    public var bytesPerPixel: Int {
        switch self {
        case .rgb8, .bgr8: 3
        case .yuyv: 2
        case .mono8: 1
        }
    }
}

/// One camera frame. Sources fill a caller-owned frame in place so that steady-state
/// capture reuses the same pixel storage instead of allocating per frame.
public struct Frame: Sendable {
    /// Source-assigned sequence number; gaps mean frames were dropped before us.
    public var sequence: UInt64 = 0
    /// Capture time on CLOCK_MONOTONIC, nanoseconds.
    public var monotonicNanos: UInt64 = 0
    /// Capture time on CLOCK_REALTIME, nanoseconds since the Unix epoch.
    public var realtimeNanos: UInt64 = 0
    public var width: Int = 0
    public var height: Int = 0
    public var format: PixelFormat = .rgb8
    /// Bytes per row of `pixels`.
    public var stride: Int = 0
    public var pixels: [UInt8] = []
    /// Ground-truth class ids (mono8, one per pixel, 255 = ignore) when the source knows them.
    public var labels: [UInt8]? = nil
    /// True for frames that come from a recording rather than a live sensor.
    public var isReplayed: Bool = false

    public init() {}

    /// Resizes the pixel storage for a new geometry, reusing capacity when it suffices.
    public mutating func reshape(width: Int, height: Int, format: PixelFormat) {
        self.width = width
        self.height = height
        self.format = format
        self.stride = width * format.bytesPerPixel
        let count = stride * height
        if pixels.count != count {
            if pixels.capacity >= count {
                pixels.removeAll(keepingCapacity: true)
                pixels.append(contentsOf: repeatElement(0, count: count))
            } else {
                pixels = [UInt8](repeating: 0, count: count)
            }
        }
    }
}

/// What a request for the next frame produced.
public enum FrameResult: Sendable, Equatable {
    /// `frame` holds a new frame.
    case frame
    /// No new frame arrived within the timeout.
    case timeout
    /// The source has no more frames (end of a recording without loop).
    case endOfStream
}

/// Whether a source is delivering frames; live sources go `unavailable` while their device is gone.
public enum SourceState: String, Sendable, Equatable {
    /// Not yet opened (a camera that was absent at start and is being waited for).
    case starting
    /// Delivering frames.
    case streaming
    /// The device vanished or failed; the source is trying to reopen it.
    case unavailable
    /// `close()` was called or the stream ended.
    case closed
}

/// A producer of camera frames. Consumers always get the newest frame: a source never
/// builds a backlog, it drops what the consumer was too slow to take.
public protocol FrameSource: AnyObject {
    /// Human-readable identity, e.g. `replay:drive.mcap` or `synthetic:urban`.
    var name: String { get }
    /// Waits up to `timeout` for a frame newer than the last one returned and writes it
    /// into `frame`, reusing its storage.
    func nextFrame(into frame: inout Frame, timeout: Duration) throws -> FrameResult
    /// Releases the device or file; further calls return `.endOfStream`.
    func close()
    /// Whether the source is delivering frames right now.
    var state: SourceState { get }
    /// Frames the source produced or the sensor captured that the consumer never got.
    var drops: UInt64 { get }
    /// What is wrong right now, in one line: why a camera is unavailable, the latest damage
    /// found in a recording; nil when nothing is.
    var problem: String? { get }
    /// Damage found in the data since the source opened (corrupt chunks of a recording):
    /// frames were lost, so a run that ends after it has failed.
    var damageCount: Int { get }
}

extension FrameSource {
    /// Files and generators never lose their device.
    public var state: SourceState { .streaming }
    /// Sources that do not count drops report none.
    public var drops: UInt64 { 0 }
    /// Sources that cannot fail report nothing wrong.
    public var problem: String? { nil }
    /// Generators and devices have no stored data to find damaged.
    public var damageCount: Int { 0 }
}
