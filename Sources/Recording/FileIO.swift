import Glibc

func systemErrorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// An append-only file written with plain `write(2)` calls, so that every record handed
/// over is in the kernel (and survives a crash of this process) when the call returns.
final class FileOutput {
    let path: String
    private var fd: Int32
    /// Bytes written so far, i.e. the offset of the next byte.
    private(set) var offset: UInt64 = 0

    init(path: String) throws(MCAPError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw MCAPError.io(path, "cannot create: \(systemErrorText(errno))") }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    func write(_ bytes: [UInt8]) throws(MCAPError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw MCAPError.io(path, "write failed: \(systemErrorText(failure))") }
        offset += UInt64(bytes.count)
    }

    /// Forces written data to stable storage.
    func sync() throws(MCAPError) {
        if fsync(fd) != 0 { throw MCAPError.io(path, "fsync failed: \(systemErrorText(errno))") }
    }

    func close() throws(MCAPError) {
        guard fd >= 0 else { return }
        let result = Glibc.close(fd)
        fd = -1
        if result != 0 { throw MCAPError.io(path, "close failed: \(systemErrorText(errno))") }
    }
}

/// A read-only file accessed with `pread(2)`, so readers can jump to indexed chunks
/// without holding the whole recording in memory.
final class RandomAccessFile {
    let path: String
    private let fd: Int32
    /// File size when opened; every offset and length is checked against it.
    let size: UInt64

    init(path: String) throws(MCAPError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw MCAPError.io(path, "cannot open: \(systemErrorText(errno))") }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let reason = systemErrorText(errno)
            _ = Glibc.close(fd)
            throw MCAPError.io(path, "cannot stat: \(reason)")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            _ = Glibc.close(fd)
            throw MCAPError.io(path, "is a directory")
        }
        size = UInt64(max(0, st.st_size))
    }

    deinit { _ = Glibc.close(fd) }

    /// Reads exactly `count` bytes at `offset`; the range must lie inside the file.
    func read(at offset: UInt64, count: Int) throws(MCAPError) -> [UInt8] {
        guard count >= 0, offset <= size, UInt64(count) <= size - offset else {
            throw MCAPError.io(path, "read of \(count) bytes at \(offset) is past the end (\(size) bytes)")
        }
        if count == 0 { return [] }
        var failure: Int32 = 0
        var shortRead = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { shortRead = true; break }
                done += n
            }
            if done < count { buffer.baseAddress!.advanced(by: done).initialize(repeating: 0, count: count - done) }
            initialized = count
        }
        if failure != 0 { throw MCAPError.io(path, "read failed: \(systemErrorText(failure))") }
        if shortRead { throw MCAPError.io(path, "file shrank while reading") }
        return bytes
    }
}
