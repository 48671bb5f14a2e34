import Glibc

func systemErrorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// What `st_mode` says a path is, for error lines.
func fileTypeName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: "a regular file"
    case S_IFDIR: "a directory"
    case S_IFLNK: "a symbolic link"
    case S_IFIFO: "a FIFO"
    case S_IFSOCK: "a socket"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    default: "not a regular file"
    }
}

/// An append-only file written with plain `write(2)` calls, so that every record handed
/// over is in the kernel (and survives a crash of this process) when the call returns.
///
/// The path must name a regular file or nothing: a symbolic link is refused rather than
/// followed (a recording must not truncate whatever the link points at), and so are FIFOs
/// and devices. New files are created with mode 0640 (less only if the umask is stricter);
/// an existing file is truncated and its mode narrowed to at most 0640 (recordings hold
/// camera images).
final class FileOutput {
    /// Permissions of a recording: owner read-write, group read, nobody else.
    static let mode: mode_t = 0o640

    let path: String
    private var fd: Int32
    /// Bytes written so far, i.e. the offset of the next byte.
    private(set) var offset: UInt64 = 0

    /// Opens `path` for writing; `allowingNonRegularFiles` exists for tests that write to
    /// /dev/full to see a real ENOSPC.
    init(path: String, allowingNonRegularFiles: Bool = false) throws(MCAPError) {
        self.path = path
        // O_NONBLOCK keeps open(2) from waiting forever for a reader when the path is a FIFO;
        // it is cleared again before the first write.
        let flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        var created = true
        fd = open(path, flags | O_CREAT | O_EXCL, Self.mode)
        if fd < 0 && errno == EEXIST {
            created = false
            fd = open(path, flags)
        }
        if fd < 0 {
            let code = errno
            throw MCAPError.io(path, Self.openFailure(path: path, code: code))
        }
        do throws(MCAPError) {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw MCAPError.io(path, "cannot stat: \(systemErrorText(errno))") }
            let isRegular = (st.st_mode & S_IFMT) == S_IFREG
            guard isRegular || allowingNonRegularFiles else {
                throw MCAPError.io(path, "is \(fileTypeName(st.st_mode)), not a regular file; refusing to write a recording to it")
            }
            let status = fcntl(fd, F_GETFL)
            guard status >= 0, fcntl(fd, F_SETFL, status & ~O_NONBLOCK) == 0 else {
                throw MCAPError.io(path, "cannot make the file blocking: \(systemErrorText(errno))")
            }
            if isRegular {
                // Truncate only now that the path is known to be a regular file.
                guard ftruncate(fd, 0) == 0 else { throw MCAPError.io(path, "cannot truncate: \(systemErrorText(errno))") }
                // A new file got 0640 minus the umask from open(2), so a permissive umask cannot
                // widen it and a stricter one is honoured; an old file keeps its mode only as
                // far as 0640 allows.
                let current = st.st_mode & 0o7777
                if !created, current & ~Self.mode != 0, fchmod(fd, current & Self.mode) != 0 {
                    throw MCAPError.io(path, "cannot narrow its mode to 0640: \(systemErrorText(errno))")
                }
            }
        } catch {
            _ = Glibc.close(fd)
            fd = -1
            throw error
        }
    }

    /// One line for a failed open(2), naming what is in the way when that is the reason.
    private static func openFailure(path: String, code: Int32) -> String {
        var st = stat()
        let present = lstat(path, &st) == 0
        if code == ELOOP, present, (st.st_mode & S_IFMT) == S_IFLNK {
            return "is a symbolic link; refusing to follow it (remove it or give another path)"
        }
        if code == ENXIO, present {
            return "is \(fileTypeName(st.st_mode)), not a regular file; refusing to write a recording to it"
        }
        if code == EISDIR { return "is a directory" }
        return "cannot create: \(systemErrorText(code))"
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Writes all of `bytes` or throws. On failure the file is cut back to the end of the
    /// last complete write, so it never ends inside a record this writer started.
    func write(_ bytes: [UInt8]) throws(MCAPError) {
        guard fd >= 0 else { throw MCAPError.io(path, "write after close") }
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
                if n == 0 {
                    failure = EIO
                    return
                }
                done += n
            }
        }
        if failure != 0 {
            // Best effort: on a full disk this also gives back the space of the partial record.
            _ = ftruncate(fd, off_t(offset))
            _ = lseek(fd, off_t(offset), SEEK_SET)
            throw MCAPError.io(path, "write failed: \(systemErrorText(failure))")
        }
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
