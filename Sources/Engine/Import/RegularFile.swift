import Foundation

/// Why a file that must be regular could not be opened or read; `reason` is one short phrase.
public struct RegularFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let reason: String
    /// True when nothing exists at `path`, so callers can say which file was expected.
    public let isMissing: Bool

    public var description: String { "cannot read \(path): \(reason)".escapedForOneLine }
}

/// An open regular file, closed when released. A FIFO, a device or a socket given where a model,
/// manifest or configuration belongs would block in open or read, or never end (`/dev/zero`),
/// so the file is opened without blocking and anything but a regular file is refused at once.
public final class RegularFile {
    public let path: String
    /// Size in bytes when opened.
    public let size: Int
    private let descriptor: Int32

    /// Opens `path` (symbolic links followed) for reading; throws unless it is a regular file.
    public init(path: String) throws(RegularFileError) {
        self.path = path
        var info = stat()
        // stat first only for the message: it names a socket, which open() refuses with ENXIO.
        if stat(path, &info) == 0, let kind = Self.kind(info.st_mode) {
            throw RegularFileError(path: path, reason: "not a regular file (\(kind))", isMissing: false)
        }
        // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever; fstat below
        // then refuses whatever the path turned into between the two calls.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw RegularFileError(path: path, reason: Self.text(code), isMissing: code == ENOENT || code == ENOTDIR)
        }
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw RegularFileError(path: path, reason: Self.text(code), isMissing: false)
        }
        if let kind = Self.kind(info.st_mode) {
            close(fd)
            throw RegularFileError(path: path, reason: "not a regular file (\(kind))", isMissing: false)
        }
        descriptor = fd
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes at `offset`; fewer only where the file ends.
    public func read(offset: Int, count: Int) throws(RegularFileError) -> Data {
        guard offset >= 0, count >= 0 else { throw fail("bad read range \(offset)+\(count)") }
        var data = Data(count: count)
        var done = 0
        var failure: Int32 = 0
        data.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n > 0 {
                    done += n
                } else if n == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
        }
        guard failure == 0 else { throw fail(Self.text(failure)) }
        if done < count { data.removeSubrange(done...) }
        return data
    }

    /// The whole file, refused when larger than `limit` bytes.
    public func readAll(limit: Int) throws(RegularFileError) -> Data {
        guard size <= limit else { throw tooLarge(limit) }
        return try read(offset: 0, count: size)
    }

    /// The whole file mapped read-only, refused when larger than `limit` bytes: a model's
    /// weights stay in the page cache instead of the heap until they are decoded.
    public func mapAll(limit: Int) throws(RegularFileError) -> Data {
        guard size <= limit else { throw tooLarge(limit) }
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            throw fail(Self.text(errno))
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    private func fail(_ reason: String) -> RegularFileError { RegularFileError(path: path, reason: reason, isMissing: false) }

    private func tooLarge(_ limit: Int) -> RegularFileError {
        fail("\(size) bytes, larger than the \(limit) bytes allowed")
    }

    /// What a non-regular file is, or nil for a regular file.
    private static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a file"
        }
    }

    private static func text(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
