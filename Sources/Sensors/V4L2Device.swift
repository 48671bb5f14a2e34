import Glibc

/// A fourcc pixel-format code as V4L2 spells it (e.g. `YUYV`, `RGB3`, `MJPG`).
public struct FourCC: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Builds the code from its four characters.
    public init(_ text: String) {
        var value: UInt32 = 0
        for (i, byte) in text.utf8.prefix(4).enumerated() { value |= UInt32(byte) << (8 * UInt32(i)) }
        rawValue = value
    }

    public var description: String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32($0))) }
        return String(decoding: bytes.map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            .trimmingTrailingSpaces()
    }

    public static let yuyv = FourCC("YUYV")
    public static let rgb24 = FourCC("RGB3")
    public static let bgr24 = FourCC("BGR3")
    public static let mjpeg = FourCC("MJPG")
    public static let grey = FourCC("GREY")

    /// The frame pixel format this code is delivered as, if moeseg consumes it directly.
    public var pixelFormat: PixelFormat? {
        switch self {
        case .yuyv: .yuyv
        case .rgb24: .rgb8
        case .bgr24: .bgr8
        default: nil
        }
    }

    /// The code that carries `format`.
    public init?(_ format: PixelFormat) {
        switch format {
        case .yuyv: self = .yuyv
        case .rgb8: self = .rgb24
        case .bgr8: self = .bgr24
        case .mono8: return nil
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// What a node says about itself (VIDIOC_QUERYCAP).
public struct V4L2Capabilities: Sendable, Equatable {
    public var driver: String
    public var card: String
    public var busInfo: String
    /// This node's capability bits (device_caps when the driver reports them).
    public var capabilities: UInt32
    public var canCapture: Bool { capabilities & V4L2Capabilities.videoCapture != 0 }
    public var canStream: Bool { capabilities & V4L2Capabilities.streaming != 0 }

    /// V4L2_CAP_VIDEO_CAPTURE.
    public static let videoCapture: UInt32 = 0x0000_0001
    /// V4L2_CAP_STREAMING.
    public static let streaming: UInt32 = 0x0400_0000

    public init(driver: String, card: String, busInfo: String, capabilities: UInt32) {
        self.driver = driver
        self.card = card
        self.busInfo = busInfo
        self.capabilities = capabilities
    }
}

/// One entry of VIDIOC_ENUM_FMT.
public struct V4L2FormatDescription: Sendable, Equatable {
    public var fourcc: FourCC
    public var description: String
    /// Compressed on the wire (MJPEG, H.264...).
    public var compressed: Bool
    /// Not delivered by the camera but converted by libv4l2 in user space.
    public var emulated: Bool

    public init(fourcc: FourCC, description: String, compressed: Bool = false, emulated: Bool = false) {
        self.fourcc = fourcc
        self.description = description
        self.compressed = compressed
        self.emulated = emulated
    }
}

/// Frame sizes a format supports (VIDIOC_ENUM_FRAMESIZES).
public enum V4L2FrameSize: Sendable, Equatable {
    case discrete(width: Int, height: Int)
    /// Any size in the range (continuous or stepwise).
    case range(minWidth: Int, minHeight: Int, maxWidth: Int, maxHeight: Int)
}

/// The image format a node is set to.
public struct V4L2Format: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var fourcc: FourCC
    /// Bytes per row in the buffers (may exceed width x bytes per pixel).
    public var bytesPerLine: Int
    /// Bytes in one buffer.
    public var sizeImage: Int

    public init(width: Int, height: Int, fourcc: FourCC, bytesPerLine: Int, sizeImage: Int) {
        self.width = width
        self.height = height
        self.fourcc = fourcc
        self.bytesPerLine = bytesPerLine
        self.sizeImage = sizeImage
    }
}

/// A buffer the driver filled (VIDIOC_DQBUF).
public struct V4L2DequeuedBuffer: Sendable, Equatable {
    public var index: Int
    public var bytesUsed: Int
    public var flags: UInt32
    /// The driver's frame counter; gaps mean the driver dropped frames.
    public var sequence: UInt32
    /// Capture stamp in nanoseconds, on the clock `flags` names.
    public var timestampNanos: UInt64

    /// V4L2_BUF_FLAG_ERROR: the data may be corrupt.
    public static let flagError: UInt32 = 0x0000_0040
    /// V4L2_BUF_FLAG_TIMESTAMP_MASK.
    public static let timestampMask: UInt32 = 0x0000_e000
    /// V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC.
    public static let timestampMonotonic: UInt32 = 0x0000_2000

    public var hasError: Bool { flags & Self.flagError != 0 }
    public var isMonotonic: Bool { flags & Self.timestampMask == Self.timestampMonotonic }

    public init(index: Int, bytesUsed: Int, flags: UInt32, sequence: UInt32, timestampNanos: UInt64) {
        self.index = index
        self.bytesUsed = bytesUsed
        self.flags = flags
        self.sequence = sequence
        self.timestampNanos = timestampNanos
    }
}

/// What waiting for a buffer produced.
public enum V4L2PollResult: Sendable, Equatable {
    /// A buffer can be dequeued.
    case ready
    /// Nothing within the timeout.
    case timeout
    /// The node reported an error or hang-up (e.g. the device was unplugged).
    case failed
}

/// Why a V4L2 call failed.
public enum V4L2Error: Error, Equatable, CustomStringConvertible {
    /// A system call failed with errno.
    case system(path: String, call: String, errno: Int32)
    /// The node is not a video capture device.
    case notCapture(path: String, card: String)
    /// The node cannot stream (no MMAP streaming I/O).
    case noStreaming(path: String, card: String)
    /// None of the offered formats can be delivered as YUYV, RGB24 or BGR24.
    case noUsableFormat(path: String, offered: [String])
    /// The driver replaced the requested format with another.
    case formatRejected(path: String, wanted: String, got: String)
    /// Too few buffers granted.
    case tooFewBuffers(path: String, granted: Int)
    /// A buffer shorter than one image.
    case shortBuffer(path: String, bytes: Int, needed: Int)
    /// Nothing arrived for longer than the stall timeout.
    case stalled(path: String, seconds: Double)
    /// The node reported an error or hang-up while polling.
    case pollFailed(path: String)

    /// True when the device itself is gone (unplugged, module unloaded, node removed).
    public var deviceGone: Bool {
        if case let .system(_, _, code) = self { return [ENODEV, ENOENT, ENXIO].contains(code) }
        return false
    }

    public var description: String {
        switch self {
        case let .system(path, "open", code) where code == ENOTTY:
            return "\(path) is not a video4linux device"
        case let .system(path, call, code):
            return "\(path): \(call) failed: \(String(cString: strerror(code)))"
        case let .notCapture(path, card):
            return "\(path) (\(card)) is not a video capture device"
        case let .noStreaming(path, card):
            return "\(path) (\(card)) does not support streaming I/O"
        case let .noUsableFormat(path, offered):
            let list = offered.isEmpty ? "none" : offered.joined(separator: ", ")
            return "\(path) offers no format moeseg can use (YUYV, RGB3, BGR3, or one libv4l2 converts to them); offered: \(list)"
        case let .formatRejected(path, wanted, got):
            return "\(path) was asked for \(wanted) but set \(got)"
        case let .tooFewBuffers(path, granted):
            return "\(path) granted \(granted) capture buffers, need at least 2"
        case let .shortBuffer(path, bytes, needed):
            return "\(path) delivered a \(bytes)-byte buffer, one image needs \(needed)"
        case let .stalled(path, seconds):
            return "\(path) delivered no frame for \(seconds) s"
        case let .pollFailed(path):
            return "\(path): poll reported an error or hang-up"
        }
    }
}

/// The V4L2 calls a capture source makes, behind a protocol so that capture logic can be
/// tested against a scripted device. One instance serves one node at a time; `open` after
/// `close` opens it afresh.
public protocol V4L2Device: AnyObject {
    /// Opens `path` (following symlinks such as /dev/v4l/by-id/... anew), non-blocking.
    func open(path: String) throws(V4L2Error)
    /// Unmaps buffers and closes the node; harmless when nothing is open.
    func close()
    func queryCapabilities() throws(V4L2Error) -> V4L2Capabilities
    func enumerateFormats() throws(V4L2Error) -> [V4L2FormatDescription]
    func enumerateFrameSizes(_ fourcc: FourCC) throws(V4L2Error) -> [V4L2FrameSize]
    func currentFormat() throws(V4L2Error) -> V4L2Format
    /// Requests a format; returns what the driver set (it may adjust the size).
    func setFormat(width: Int, height: Int, fourcc: FourCC) throws(V4L2Error) -> V4L2Format
    /// Requests a frame interval of numerator/denominator seconds; nil when the driver has no frame-rate control.
    func setFrameInterval(numerator: UInt32, denominator: UInt32) throws(V4L2Error) -> (numerator: UInt32, denominator: UInt32)?
    /// Requests `count` MMAP buffers and maps them; returns how many were granted.
    func mapBuffers(count: Int) throws(V4L2Error) -> Int
    /// The mapped memory of buffer `index`.
    func buffer(_ index: Int) -> UnsafeRawBufferPointer
    func queue(_ index: Int) throws(V4L2Error)
    /// The next filled buffer, or nil when none is ready (EAGAIN).
    func dequeue() throws(V4L2Error) -> V4L2DequeuedBuffer?
    func streamOn() throws(V4L2Error)
    func streamOff()
    func poll(timeoutMillis: Int) throws(V4L2Error) -> V4L2PollResult
}
