import Glibc
@testable import Sensors

/// A scripted V4L2 node: each poll plays the next step of `script` (frames the driver fills,
/// silence, or an unplug), and the fake checks the buffer protocol (no double queueing, no
/// dequeue before streaming) the way the kernel would.
final class FakeV4L2Device: V4L2Device {
    enum Step {
        /// The driver fills one queued buffer per sequence number (dropping when none is queued).
        case frames([UInt32], flags: UInt32 = V4L2DequeuedBuffer.timestampMonotonic)
        /// Nothing arrives during this poll.
        case nothing
        /// The device disappears: poll reports an error, every later call fails with ENODEV.
        case unplug
    }

    var present = true
    var capabilities = V4L2Capabilities(driver: "fake", card: "Fake Camera", busInfo: "test:0",
                                        capabilities: V4L2Capabilities.videoCapture | V4L2Capabilities.streaming)
    var formats: [V4L2FormatDescription] = [V4L2FormatDescription(fourcc: .yuyv, description: "YUYV 4:2:2")]
    var currentSize = (width: 64, height: 32)
    /// Extra bytes at the end of every row.
    var rowPadding = 0
    /// The driver rounds widths down to a multiple of this.
    var widthAlignment = 1
    var grantedBuffers = 4
    var script: [Step] = []
    /// Stamp the driver writes, relative to now (negative = in the past).
    var timestampOffsetNanos: Int64 = -1_000_000

    private(set) var opens = 0
    private(set) var openAttempts = 0
    private(set) var isOpen = false
    private(set) var streaming = false
    private(set) var queued: [Int] = []
    private(set) var ready: [V4L2DequeuedBuffer] = []
    private(set) var protocolErrors: [String] = []
    private(set) var requestedFormat: (width: Int, height: Int, fourcc: FourCC)?
    private(set) var requestedInterval: (UInt32, UInt32)?
    private var gone = false
    private var format = V4L2Format(width: 0, height: 0, fourcc: .yuyv, bytesPerLine: 0, sizeImage: 0)
    private var memory: [UnsafeMutableRawBufferPointer] = []

    deinit { freeBuffers() }

    func open(path: String) throws(V4L2Error) {
        if isOpen { protocolErrors.append("open while open") }
        openAttempts += 1
        guard present else { throw .system(path: path, call: "open", errno: ENOENT) }
        gone = false
        isOpen = true
        opens += 1
    }

    func close() {
        freeBuffers()
        queued.removeAll()
        ready.removeAll()
        isOpen = false
        streaming = false
    }

    func queryCapabilities() throws(V4L2Error) -> V4L2Capabilities {
        try check("VIDIOC_QUERYCAP")
        return capabilities
    }

    func enumerateFormats() throws(V4L2Error) -> [V4L2FormatDescription] {
        try check("VIDIOC_ENUM_FMT")
        return formats
    }

    func enumerateFrameSizes(_ fourcc: FourCC) throws(V4L2Error) -> [V4L2FrameSize] {
        [.discrete(width: currentSize.width, height: currentSize.height)]
    }

    func currentFormat() throws(V4L2Error) -> V4L2Format {
        try check("VIDIOC_G_FMT")
        return V4L2Format(width: currentSize.width, height: currentSize.height, fourcc: formats[0].fourcc, bytesPerLine: 0, sizeImage: 0)
    }

    func setFormat(width: Int, height: Int, fourcc: FourCC) throws(V4L2Error) -> V4L2Format {
        try check("VIDIOC_S_FMT")
        requestedFormat = (width, height, fourcc)
        let w = width / widthAlignment * widthAlignment
        let bpp = fourcc == .yuyv ? 2 : 3
        let stride = w * bpp + rowPadding
        format = V4L2Format(width: w, height: height, fourcc: fourcc, bytesPerLine: stride, sizeImage: stride * height)
        return format
    }

    func setFrameInterval(numerator: UInt32, denominator: UInt32) throws(V4L2Error) -> (numerator: UInt32, denominator: UInt32)? {
        try check("VIDIOC_S_PARM")
        requestedInterval = (numerator, denominator)
        return (numerator, denominator)
    }

    func mapBuffers(count: Int) throws(V4L2Error) -> Int {
        try check("VIDIOC_REQBUFS")
        let n = min(count, grantedBuffers)
        for _ in 0..<n {
            memory.append(UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, format.sizeImage), alignment: 64))
        }
        return n
    }

    func buffer(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(memory[index]) }

    func queue(_ index: Int) throws(V4L2Error) {
        try check("VIDIOC_QBUF")
        if queued.contains(index) || ready.contains(where: { $0.index == index }) { protocolErrors.append("buffer \(index) queued twice") }
        queued.append(index)
    }

    func dequeue() throws(V4L2Error) -> V4L2DequeuedBuffer? {
        try check("VIDIOC_DQBUF")
        if !streaming { protocolErrors.append("dequeue before stream on") }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    func streamOn() throws(V4L2Error) {
        try check("VIDIOC_STREAMON")
        streaming = true
    }

    func streamOff() { streaming = false }

    func poll(timeoutMillis: Int) throws(V4L2Error) -> V4L2PollResult {
        if gone { return .failed }
        if !ready.isEmpty { return .ready }
        guard !script.isEmpty else {
            usleep(UInt32(min(timeoutMillis, 1000)) * 1000)
            return .timeout
        }
        switch script.removeFirst() {
        case .nothing:
            usleep(UInt32(min(timeoutMillis, 1000)) * 1000)
            return .timeout
        case .unplug:
            gone = true
            return .failed
        case let .frames(sequences, flags):
            for sequence in sequences {
                guard !queued.isEmpty else { continue }  // no free buffer: the driver drops the frame
                let index = queued.removeFirst()
                memset(memory[index].baseAddress!, Int32(sequence & 0xff), memory[index].count)
                // Row padding gets a marker the consumer must not copy.
                if rowPadding > 0 {
                    for row in 0..<format.height {
                        memset(memory[index].baseAddress! + row * format.bytesPerLine + format.bytesPerLine - rowPadding, 0xEE, rowPadding)
                    }
                }
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let nowNanos = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
                ready.append(V4L2DequeuedBuffer(index: index, bytesUsed: format.sizeImage, flags: flags, sequence: sequence,
                                                timestampNanos: UInt64(nowNanos + timestampOffsetNanos)))
            }
            return ready.isEmpty ? .timeout : .ready
        }
    }

    private func check(_ call: String) throws(V4L2Error) {
        if !isOpen { protocolErrors.append("\(call) on a closed device") }
        if gone { throw .system(path: "/dev/fake", call: call, errno: ENODEV) }
    }

    private func freeBuffers() {
        for buffer in memory { buffer.deallocate() }
        memory.removeAll()
    }
}
