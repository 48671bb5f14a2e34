import Foundation

/// Resident memory of this process from /proc/self/status, in MiB.
enum ProcessMemory {
    /// Current resident set (VmRSS).
    static var residentMB: Double { field("VmRSS:") }
    /// Peak resident set since start (VmHWM).
    static var peakResidentMB: Double { field("VmHWM:") }

    private static func field(_ key: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let kb = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            return (kb.flatMap { Double($0) } ?? 0) / 1024
        }
        return 0
    }
}
