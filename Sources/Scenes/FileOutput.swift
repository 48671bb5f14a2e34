import Glibc

/// Writes whole files with plain POSIX calls (atomically: temp file, then rename).
public enum FileOutput {
    /// Writes `bytes` to `path`, replacing any existing file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SceneError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var offset = 0
        let failure: String? = bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            while offset < raw.count {
                let written = Glibc.write(fd, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return nil
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw SceneError.writeFailed(path: path, reason: failure)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SceneError.writeFailed(path: path, reason: reason)
        }
    }
}
