/// Lets one line per key through every `intervalNanos` and counts the ones held back, so a
/// burst of the same event (a SIGHUP storm, a flapping device) cannot flood the journal.
struct LogThrottle {
    let intervalNanos: UInt64
    private var lastEmitted: [String: UInt64] = [:]
    private var suppressed: [String: Int] = [:]

    init(intervalNanos: UInt64) { self.intervalNanos = intervalNanos }

    /// Whether a line for `key` may be logged at `now`; if so, how many were held back since the last one.
    mutating func admit(_ key: String, now: UInt64) -> (allowed: Bool, suppressed: Int) {
        if let last = lastEmitted[key], now &- last < intervalNanos {
            suppressed[key, default: 0] += 1
            return (false, 0)
        }
        lastEmitted[key] = now
        let held = suppressed.removeValue(forKey: key) ?? 0
        return (true, held)
    }
}
