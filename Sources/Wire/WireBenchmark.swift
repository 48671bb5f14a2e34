import Foundation

/// Publishes realistic frames at the daemon's rate with and without a stalled subscriber
/// (connected, never reading) and compares the publisher's time per frame (acceptance 2 of
/// issue 6). Phases alternate (reader, reader+stalled, reader, ...) so drift hits both alike.
public struct WireBenchmark {
    public struct Options: Sendable {
        public var framesPerPhase = 150
        public var rounds = 2
        /// Frames per second; 0 publishes back to back.
        public var rate: Double = 15
        public var width = 512
        public var height = 256
        public var maps: [String: MapEncoding] = ["pe_stacked": .u8, "mi_stacked": .u8, "ev": .u8,
                                                  "gate_entropy": .f16, "routing_mi": .f16]
        /// Busy work per frame standing in for inference, in milliseconds (0: none).
        public var workMilliseconds: Double = 0
        public var endpoint: String?
        /// Run the reading subscriber (off for allocation counting under valgrind, where its
        /// receive arrays would be counted too).
        public var reader = true
        public init() {}
    }

    /// Per-phase figures, in microseconds per frame.
    public struct Phase: Sendable {
        public var name: String
        public var frames: Int
        public var publishMean: Double
        public var publishP50: Double
        public var publishP99: Double
        public var frameMean: Double
        public var frameP50: Double
        public var frameP99: Double
    }

    public struct Result: Sendable {
        public var withoutStalled: Phase
        public var withStalled: Phase
        /// Messages the reading subscriber got, and of those sent while it listened.
        public var readerReceived: Int
        public var sent: UInt64
        /// Seg messages that reached the stalled subscribers (it never reads, so few).
        public var stalledReceivedSeg: Int
        public var bytesPerFrame: Int
        /// Pooled encode buffers made in all (flat after warm-up: no per-frame allocation there).
        public var sendBuffersCreated: Int
        public var publishMeanRatio: Double { withStalled.publishMean / withoutStalled.publishMean }
        public var publishP99Ratio: Double { withStalled.publishP99 / withoutStalled.publishP99 }
        /// The figure least moved by preemption on a loaded machine.
        public var publishP50Ratio: Double { withStalled.publishP50 / withoutStalled.publishP50 }
        public var frameP50Ratio: Double { withStalled.frameP50 / withoutStalled.frameP50 }
        public var frameMeanRatio: Double { withStalled.frameMean / withoutStalled.frameMean }
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    public func run() throws -> Result {
        let scratch = "/tmp/moeseg-bench-wire-\(getpid())"
        let endpoint = options.endpoint ?? "ipc://\(scratch)/bench.sock"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var meta = Moeseg_V1_Meta()
        meta.modelID = "bench"
        meta.inputWidth = UInt32(options.width)
        meta.inputHeight = UInt32(options.height)
        meta.segmentation = true
        let publisher = try Publisher(options: PublisherOptions(stream: "bench", endpoint: endpoint, mapEncodings: options.maps),
                                      meta: meta)
        defer { publisher.close() }
        let reader = options.reader ? try Reader(endpoint: publisher.boundEndpoint) : nil
        defer { reader?.stop() }
        if reader != nil { try waitForSubscriptions(publisher, 1) }

        let n = options.width * options.height
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let classIds = (0..<n).map { i -> UInt8 in UInt8((i / options.width * 7 / options.height + (i % options.width) / 97) % 19) }
        let values = (0..<n).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let mapNames = options.maps.keys.sorted()
        var frameNumber: UInt64 = 0
        var stalledSeg = 0
        var samples: [Bool: (publish: [Double], frame: [Double])] = [false: ([], []), true: ([], [])]
        for _ in 0..<options.rounds {
            for stalledPhase in [false, true] {
                var stalled: Subscriber?
                if stalledPhase {
                    let before = publisher.statistics.subscriptions
                    stalled = try Subscriber(endpoint: publisher.boundEndpoint, receiveHighWaterMark: 1)
                    try waitForSubscriptions(publisher, before + 1)
                }
                let period = options.rate > 0 ? 1 / options.rate : 0
                var next = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<options.framesPerPhase {
                    let frameStart = DispatchTime.now().uptimeNanoseconds
                    if options.workMilliseconds > 0 { spin(options.workMilliseconds) }
                    let publishStart = DispatchTime.now().uptimeNanoseconds
                    publisher.pollSubscriptions()
                    var header = Moeseg_V1_Header()
                    header.sequence = frameNumber
                    header.sourceSequence = frameNumber
                    header.captureRealtimeNs = realtimeNanoseconds()
                    header.modelID = "bench"
                    classIds.withUnsafeBufferPointer {
                        publisher.publishSegmentation(header: header, classIds: $0, width: options.width, height: options.height)
                    }
                    values.withUnsafeBufferPointer { v in
                        for name in mapNames {
                            publisher.publishMap(header: header, name: name, values: v, width: options.width, height: options.height)
                        }
                    }
                    var verdict = Moeseg_V1_OodVerdict()
                    verdict.header = header
                    verdict.rawOod = frameNumber % 3 == 0
                    publisher.publishVerdict(verdict)
                    if frameNumber % 15 == 0 {
                        var status = Moeseg_V1_Status()
                        status.header = header
                        status.fps = Float(options.rate)
                        publisher.publishStatus(status)
                    }
                    let end = DispatchTime.now().uptimeNanoseconds
                    samples[stalledPhase]!.publish.append(Double(end - publishStart) / 1000)
                    samples[stalledPhase]!.frame.append(Double(end - frameStart) / 1000)
                    frameNumber += 1
                    next += UInt64(period * 1e9)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if next > now { usleep(UInt32((next - now) / 1000)) } else { next = now }
                }
                if let stalled {
                    // What did get through to it: libzmq dropped the rest for it alone.
                    while let m = try? stalled.receive(timeout: 0.05) { if m.kind == .segmentation { stalledSeg += 1 } }
                    stalled.close()
                }
            }
        }
        Thread.sleep(forTimeInterval: 0.2)
        reader?.stop()
        func phase(_ name: String, _ s: (publish: [Double], frame: [Double])) -> Phase {
            let p = s.publish.sorted(), f = s.frame.sorted()
            return Phase(name: name, frames: p.count, publishMean: p.reduce(0, +) / Double(p.count),
                         publishP50: percentile(p, 0.5), publishP99: percentile(p, 0.99),
                         frameMean: f.reduce(0, +) / Double(f.count), frameP50: percentile(f, 0.5),
                         frameP99: percentile(f, 0.99))
        }
        let bytesPerFrame = n + options.maps.values.reduce(0) { $0 + n * $1.bytesPerValue }
        return Result(withoutStalled: phase("reader", samples[false]!), withStalled: phase("reader+stalled", samples[true]!),
                      readerReceived: reader?.count ?? 0, sent: publisher.statistics.sent, stalledReceivedSeg: stalledSeg,
                      bytesPerFrame: bytesPerFrame, sendBuffersCreated: publisher.sendBuffersCreated)
    }

    private func waitForSubscriptions(_ publisher: Publisher, _ count: UInt64) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        while publisher.statistics.subscriptions < count {
            publisher.pollSubscriptions()
            if DispatchTime.now().uptimeNanoseconds - start > 5_000_000_000 {
                throw WireError.zmq("bench-wire", "subscriber did not connect within 5 s")
            }
            usleep(1000)
        }
    }

    private func spin(_ milliseconds: Double) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds * 1e6)
        var x: UInt64 = 1
        while DispatchTime.now().uptimeNanoseconds < end { for _ in 0..<1000 { x = x &* 31 &+ 7 } }
        if x == 0 { print("") }
    }

    private func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }

    /// A planner-like subscriber on its own thread that drains everything.
    final class Reader: @unchecked Sendable {
        private let subscriber: Subscriber
        private let lock = NSLock()
        private var received = 0
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)
        private var running = true

        init(endpoint: String) throws {
            subscriber = try Subscriber(endpoint: endpoint)
            Thread { [self] in
                while !isStopped {
                    if (try? subscriber.receiveFrames(timeout: 0.05)) != nil {
                        lock.lock(); received += 1; lock.unlock()
                    }
                }
                subscriber.close()
                done.signal()
            }.start()
        }

        private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
        var count: Int { lock.lock(); defer { lock.unlock() }; return received }

        func stop() {
            lock.lock()
            let wasRunning = running
            stopped = true
            running = false
            lock.unlock()
            if wasRunning { done.wait() }
        }
    }
}
