/// Latencies of the frames in the current status interval, in preallocated storage: recording
/// a frame never allocates; percentiles sort a preallocated copy once per interval.
public struct LatencyWindow: Sendable {
    private var samples: [UInt64]
    private var scratch: [UInt64]
    /// Frames recorded in this window (may exceed capacity; the excess is not kept).
    public private(set) var count = 0

    /// A window keeping up to `capacity` samples per interval.
    public init(capacity: Int = 4096) {
        samples = [UInt64](repeating: 0, count: max(1, capacity))
        scratch = samples
    }

    /// Records one frame's latency.
    public mutating func record(_ nanos: UInt64) {
        if count < samples.count { samples[count] = nanos }
        count += 1
    }

    /// Nearest-rank percentiles (e.g. [0.5, 0.9, 0.99]) of the kept samples, in nanoseconds; zeros when empty.
    public mutating func percentiles(_ quantiles: [Double]) -> [UInt64] {
        let n = min(count, samples.count)
        guard n > 0 else { return quantiles.map { _ in 0 } }
        for i in 0..<n { scratch[i] = samples[i] }
        // Insertion sort in place: a few dozen samples per second, and Array.sort may allocate.
        for i in 1..<max(1, n) {
            let value = scratch[i]
            var j = i - 1
            while j >= 0, scratch[j] > value {
                scratch[j + 1] = scratch[j]
                j -= 1
            }
            scratch[j + 1] = value
        }
        return quantiles.map { q in
            let rank = Int((q * Double(n)).rounded(.up))
            return scratch[min(n - 1, max(0, rank - 1))]
        }
    }

    /// Starts a new interval.
    public mutating func reset() { count = 0 }
}

/// Latencies of a whole run in fixed 20 µs buckets up to 2 s (allocated once): exact enough
/// percentiles over millions of frames without keeping them.
public struct LatencyHistogram: Sendable {
    /// Bucket width in nanoseconds.
    public static let bucketNanos: UInt64 = 20_000
    private var buckets: [UInt32]
    private var overflow: UInt64 = 0
    /// Frames recorded.
    public private(set) var count: UInt64 = 0

    /// An empty histogram.
    public init() {
        buckets = [UInt32](repeating: 0, count: 100_000)
    }

    /// Records one latency.
    public mutating func record(_ nanos: UInt64) {
        let index = Int(nanos / Self.bucketNanos)
        if index < buckets.count { buckets[index] &+= 1 } else { overflow += 1 }
        count += 1
    }

    /// The upper edge of the bucket holding the q-quantile, in nanoseconds (0 when empty; the
    /// histogram's range when the quantile overflowed it).
    public func percentile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = UInt64((q * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() {
            seen += UInt64(n)
            if seen >= max(1, rank) { return UInt64(index + 1) * Self.bucketNanos }
        }
        return UInt64(buckets.count) * Self.bucketNanos
    }
}
