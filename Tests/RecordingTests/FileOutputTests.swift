import Foundation
import Glibc
@testable import Recording
import Testing

/// What a recording may be written over: regular files and new paths only, with mode 0640.
@Suite("Recording output files")
struct FileOutputTests {
    private func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    private func expectRefusal(_ path: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try MCAPWriter(path: path)
            Issue.record("writing \(path) should have been refused", sourceLocation: sourceLocation)
        } catch {
            let line = "\(error)"
            #expect(line.contains(phrase), "\(line)", sourceLocation: sourceLocation)
            #expect(!line.contains("\n"), sourceLocation: sourceLocation)
        }
    }

    /// A symbolic link at the path is refused, and the file it points at keeps its bytes.
    @Test func symbolicLinkIsNotFollowed() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("precious.txt")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: target))
        let link = dir.path("out.mcap")
        #expect(symlink(target, link) == 0)
        expectRefusal(link, "is a symbolic link; refusing to follow it")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")

        // A dangling link would otherwise create its target.
        let dangling = dir.path("dangling.mcap")
        let nowhere = dir.path("would-be-created.mcap")
        #expect(symlink(nowhere, dangling) == 0)
        expectRefusal(dangling, "is a symbolic link")
        #expect(!FileManager.default.fileExists(atPath: nowhere))
    }

    /// A FIFO is refused at once, with or without a reader (open(2) must not wait for one).
    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = try TemporaryDirectory()
        let fifo = dir.path("pipe.mcap")
        #expect(mkfifo(fifo, 0o600) == 0)
        expectRefusal(fifo, "is a FIFO, not a regular file")
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        expectRefusal(fifo, "is a FIFO, not a regular file")
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(read(reader, &buffer, 16) <= 0, "nothing may have been written into the FIFO")
    }

    @Test func devicesAndDirectoriesAreRefused() throws {
        expectRefusal("/dev/null", "is a character device, not a regular file")
        let dir = try TemporaryDirectory()
        expectRefusal(dir.url.path, "is a directory")
    }

    /// New files are 0640, not the world-readable 0644 the writer used to create.
    @Test func newFileIsMode0640() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("new.mcap")
        let writer = try MCAPWriter(path: path)
        try writer.close()
        #expect(mode(path) == 0o640, "mode \(String(mode(path), radix: 8))")
    }

    /// An existing world-readable file is truncated and narrowed to 0640, never widened.
    @Test func existingFileIsTruncatedAndNarrowed() throws {
        let dir = try TemporaryDirectory()
        let open = dir.path("open.mcap")
        try Data(repeating: 7, count: 100_000).write(to: URL(fileURLWithPath: open))
        #expect(chmod(open, 0o666) == 0)
        try MCAPWriter(path: open).close()
        #expect(mode(open) == 0o640, "mode \(String(mode(open), radix: 8))")
        let reader = try MCAPReader(path: open)
        #expect(reader.usedSummary && reader.issues.isEmpty)
        #expect(reader.fileSize < 1000)

        let closed = dir.path("closed.mcap")
        #expect(FileManager.default.createFile(atPath: closed, contents: Data([1, 2, 3])))
        #expect(chmod(closed, 0o600) == 0)
        try MCAPWriter(path: closed).close()
        #expect(mode(closed) == 0o600)
    }

    /// A full disk (/dev/full answers every write with ENOSPC) is an error that names the
    /// reason, and nothing is counted as written.
    @Test func writeFailureIsReported() throws {
        let output = try FileOutput(path: "/dev/full", allowingNonRegularFiles: true)
        #expect(throws: MCAPError.io("/dev/full", "write failed: No space left on device")) {
            try output.write([1, 2, 3])
        }
        #expect(output.offset == 0)
        #expect(throws: MCAPError.io("/dev/full", "write failed: No space left on device")) {
            _ = try MCAPWriter(path: "/dev/full", options: MCAPWriterOptions(), allowingNonRegularFiles: true)
        }
    }
}
