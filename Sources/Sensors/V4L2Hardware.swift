import CV4L2
import Glibc

/// A real video node through libv4l2 (which converts formats the camera lacks, e.g. MJPEG to RGB24).
public final class V4L2Hardware: V4L2Device {
    private var fd: Int32 = -1
    private var path = ""
    private var mappings: [UnsafeMutableRawBufferPointer] = []

    public init() {}

    deinit { close() }

    public func open(path: String) throws(V4L2Error) {
        close()
        self.path = path
        let opened = cv4l2_open(path)
        guard opened >= 0 else { throw failure("open") }
        fd = opened
    }

    public func close() {
        guard fd >= 0 else { return }
        for mapping in mappings { _ = cv4l2_unmap_buffer(mapping.baseAddress, mapping.count) }
        mappings.removeAll()
        _ = cv4l2_close(fd)
        fd = -1
    }

    public func queryCapabilities() throws(V4L2Error) -> V4L2Capabilities {
        var caps = cv4l2_caps()
        guard cv4l2_querycap(fd, &caps) == 0 else { throw failure("VIDIOC_QUERYCAP") }
        return V4L2Capabilities(driver: Self.string(&caps.driver), card: Self.string(&caps.card),
                                busInfo: Self.string(&caps.bus_info), capabilities: caps.capabilities)
    }

    public func enumerateFormats() throws(V4L2Error) -> [V4L2FormatDescription] {
        var result: [V4L2FormatDescription] = []
        var index: UInt32 = 0
        var text = [CChar](repeating: 0, count: 64)
        while true {
            var fourcc: UInt32 = 0, flags: UInt32 = 0
            guard cv4l2_enum_format(fd, index, &fourcc, &flags, &text) == 0 else {
                if errno == EINVAL { break }
                throw failure("VIDIOC_ENUM_FMT")
            }
            let description = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            result.append(V4L2FormatDescription(fourcc: FourCC(fourcc), description: description,
                                                compressed: flags & CV4L2_FMT_FLAG_COMPRESSED != 0,
                                                emulated: flags & CV4L2_FMT_FLAG_EMULATED != 0))
            index += 1
        }
        return result
    }

    public func enumerateFrameSizes(_ fourcc: FourCC) throws(V4L2Error) -> [V4L2FrameSize] {
        var result: [V4L2FrameSize] = []
        var index: UInt32 = 0
        while index < 256 {
            var kind: UInt32 = 0, width: UInt32 = 0, height: UInt32 = 0, maxWidth: UInt32 = 0, maxHeight: UInt32 = 0
            guard cv4l2_enum_framesize(fd, fourcc.rawValue, index, &kind, &width, &height, &maxWidth, &maxHeight) == 0 else {
                if errno == EINVAL || errno == ENOTTY { break }
                throw failure("VIDIOC_ENUM_FRAMESIZES")
            }
            if kind == 1 {
                result.append(.discrete(width: Int(width), height: Int(height)))
            } else {
                result.append(.range(minWidth: Int(width), minHeight: Int(height), maxWidth: Int(maxWidth), maxHeight: Int(maxHeight)))
                break
            }
            index += 1
        }
        return result
    }

    public func currentFormat() throws(V4L2Error) -> V4L2Format {
        var width: UInt32 = 0, height: UInt32 = 0, fourcc: UInt32 = 0, bytesPerLine: UInt32 = 0, size: UInt32 = 0
        guard cv4l2_get_format(fd, &width, &height, &fourcc, &bytesPerLine, &size) == 0 else { throw failure("VIDIOC_G_FMT") }
        return V4L2Format(width: Int(width), height: Int(height), fourcc: FourCC(fourcc), bytesPerLine: Int(bytesPerLine),
                          sizeImage: Int(size))
    }

    public func setFormat(width: Int, height: Int, fourcc: FourCC) throws(V4L2Error) -> V4L2Format {
        var w = UInt32(clamping: width), h = UInt32(clamping: height), code = fourcc.rawValue
        var bytesPerLine: UInt32 = 0, size: UInt32 = 0
        guard cv4l2_set_format(fd, &w, &h, &code, &bytesPerLine, &size) == 0 else { throw failure("VIDIOC_S_FMT") }
        return V4L2Format(width: Int(w), height: Int(h), fourcc: FourCC(code), bytesPerLine: Int(bytesPerLine),
                          sizeImage: Int(size))
    }

    public func setFrameInterval(numerator: UInt32, denominator: UInt32) throws(V4L2Error) -> (numerator: UInt32, denominator: UInt32)? {
        var n = numerator, d = denominator
        guard cv4l2_set_interval(fd, &n, &d) == 0 else {
            if errno == ENOTTY || errno == EINVAL { return nil }
            throw failure("VIDIOC_S_PARM")
        }
        return n == 0 || d == 0 ? nil : (n, d)
    }

    public func mapBuffers(count: Int) throws(V4L2Error) -> Int {
        let granted = cv4l2_request_buffers(fd, UInt32(clamping: count))
        guard granted >= 0 else { throw failure("VIDIOC_REQBUFS") }
        for index in 0..<Int(granted) {
            var length = 0
            guard let start = cv4l2_map_buffer(fd, UInt32(index), &length) else { throw failure("mmap") }
            mappings.append(UnsafeMutableRawBufferPointer(start: start, count: length))
        }
        return Int(granted)
    }

    public func buffer(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(mappings[index]) }

    public func queue(_ index: Int) throws(V4L2Error) {
        guard cv4l2_queue(fd, UInt32(index)) == 0 else { throw failure("VIDIOC_QBUF") }
    }

    public func dequeue() throws(V4L2Error) -> V4L2DequeuedBuffer? {
        // Ask poll first: libv4l2 prints an error line for every DQBUF that ends in EAGAIN,
        // and draining always ends in one. An error or hang-up still goes to DQBUF for its errno.
        var events: Int16 = 0
        let ready = cv4l2_poll(fd, 0, &events)
        guard ready >= 0 else { throw failure("poll") }
        if ready == 0 { return nil }
        var out = cv4l2_dequeued()
        guard cv4l2_dequeue(fd, &out) == 0 else {
            if errno == EAGAIN { return nil }
            throw failure("VIDIOC_DQBUF")
        }
        let stamp = UInt64(max(0, out.timestamp_sec)) &* 1_000_000_000 &+ UInt64(max(0, out.timestamp_usec)) &* 1000
        return V4L2DequeuedBuffer(index: Int(out.index), bytesUsed: Int(out.bytesused), flags: out.flags,
                                  sequence: out.sequence, timestampNanos: stamp)
    }

    public func streamOn() throws(V4L2Error) {
        guard cv4l2_stream_on(fd) == 0 else { throw failure("VIDIOC_STREAMON") }
    }

    public func streamOff() {
        guard fd >= 0 else { return }
        _ = cv4l2_stream_off(fd)
    }

    public func poll(timeoutMillis: Int) throws(V4L2Error) -> V4L2PollResult {
        var events: Int16 = 0
        let r = cv4l2_poll(fd, Int32(clamping: timeoutMillis), &events)
        guard r >= 0 else { throw failure("poll") }
        if r == 0 { return .timeout }
        if events & (CV4L2_POLLERR | CV4L2_POLLHUP) != 0 { return .failed }
        return .ready
    }

    private func failure(_ call: String) -> V4L2Error { .system(path: path, call: call, errno: errno) }

    private static func string<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
