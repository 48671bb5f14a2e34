import Foundation
import Glibc
import Testing
import ProcessSupport

/// Helpers for the tests that check the files `moeseg record` and `moeseg recover` write.
enum RecordingChecks {
    /// tools/mcap_check.py's JSON report on `path` (the Python `mcap` package's view).
    static func mcapCheck(_ path: String, messages: Bool = false) throws -> [String: Any] {
        let (_, json, err) = try ChildProcess.run(try MoesegTools.python(), [
            MoesegTools.packageRoot.appendingPathComponent("tools/mcap_check.py").path, path,
        ] + (messages ? [] : ["--no-messages"]))
        guard let report = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw MoesegTools.Failure(description: "mcap_check.py gave no JSON for \(path): \(err)")
        }
        return report
    }

    /// Message counts per topic in an mcap_check report.
    static func counts(_ report: [String: Any]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for channel in report["channels"] as? [[String: Any]] ?? [] {
            counts[channel["topic"] as? String ?? ""] = (channel["count"] as? NSNumber)?.intValue ?? -1
        }
        return counts
    }

    /// (topic, sequence, log time) of every message in an mcap_check report made with messages.
    static func messages(_ report: [String: Any]) -> [String] {
        (report["messages"] as? [[String: Any]] ?? []).map { m in
            "\(m["topic"] as? String ?? "?") \((m["sequence"] as? NSNumber)?.intValue ?? -1) \((m["log_time"] as? NSNumber)?.uint64Value ?? 0)"
        }
    }

    /// Starts `moeseg args...` under /bin/sh after `prelude` (e.g. `ulimit -f 100`, `umask 0`).
    static func moesegInShell(_ prelude: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildProcess {
        try ChildProcess("/bin/sh", ["-c", "\(prelude); exec \"$0\" \"$@\"", try MoesegTools.moeseg()] + arguments,
                          environment: environment)
    }

    /// The `moeseg: error:` lines of a command's stderr.
    static func errorLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("moeseg: error:") }
    }

    /// Permission bits of a path (not following a link).
    static func mode(_ path: String) -> UInt32 {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt32(st.st_mode) & 0o7777 : 0
    }

    /// Size of a file in bytes (0 if missing).
    static func size(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }
}
