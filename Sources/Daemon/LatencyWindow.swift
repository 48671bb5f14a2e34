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
