import CZstd

/// Chunks declaring more than this are treated as corrupt rather than decompressed.
let maxChunkUncompressedSize: UInt64 = 1 << 32

/// zstd compression of chunk records through libzstd.
enum Zstd {
    /// Compresses `input` as one zstd frame (with its content size in the frame header).
    static func compress(_ input: [UInt8], level: Int32, into output: inout [UInt8]) throws(MCAPError) {
        let bound = ZSTD_compressBound(input.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let written = input.withUnsafeBytes { src in
            output.withUnsafeMutableBytes { dst in
                ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw MCAPError.compression(String(cString: ZSTD_getErrorName(written)))
        }
        output.removeSubrange(written...)
    }

    /// Decompresses one chunk whose declared size is `expectedSize`.
    ///
    /// The declared size is untrusted: the output grows only as real decompressed bytes
    /// arrive (streaming API), so a lying header cannot make us allocate gigabytes, and
    /// the result must match the declared size exactly.
    static func decompress(_ input: ArraySlice<UInt8>, expectedSize: UInt64) throws(MCAPFormatError) -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw MCAPFormatError("zstd: out of memory") }
        defer { ZSTD_freeDStream(stream) }
        let initResult = ZSTD_initDStream(stream)
        if ZSTD_isError(initResult) != 0 { throw MCAPFormatError("zstd: cannot start decompression") }

        guard expectedSize <= maxChunkUncompressedSize else {
            throw MCAPFormatError("chunk declares \(expectedSize) uncompressed bytes, over the 4 GiB limit")
        }
        let expected = Int(expectedSize)
        // Trust the declared size only up to a plausible ratio of the input at first.
        let plausible = input.count.multipliedReportingOverflow(by: 64)
        var capacity = min(expected, plausible.overflow ? expected : max(plausible.partialValue, 64 * 1024))
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var consumed = 0
        var frameDone = false

        while true {
            if produced == capacity {
                if capacity >= expected {
                    if frameDone && consumed >= input.count { break }
                    // Give one spare byte: output beyond the declared size is corruption.
                    capacity = expected + 1
                } else {
                    capacity = min(expected, capacity * 2)
                }
                output.append(contentsOf: repeatElement(0, count: capacity - output.count))
            }
            let (ret, newProduced, newConsumed) = input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    var inBuf = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: consumed)
                    var outBuf = ZSTD_outBuffer(dst: dst.baseAddress, size: capacity, pos: produced)
                    let r = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                    return (r, outBuf.pos, inBuf.pos)
                }
            }
            produced = newProduced
            consumed = newConsumed
            if ZSTD_isError(ret) != 0 {
                throw MCAPFormatError("zstd: \(String(cString: ZSTD_getErrorName(ret)))")
            }
            if produced > expected {
                throw MCAPFormatError("zstd chunk holds more than its declared \(expectedSize) bytes")
            }
            frameDone = ret == 0
            if frameDone && consumed >= input.count && produced == expected { break }
            if consumed >= input.count && produced < capacity {
                // All input is in and output space is left: the frame is cut short.
                if !frameDone { throw MCAPFormatError("zstd chunk data ends inside a frame") }
                break
            }
        }
        guard produced == expected else {
            throw MCAPFormatError("zstd chunk decompressed to \(produced) bytes, declared \(expectedSize)")
        }
        output.removeSubrange(produced...)
        return output
    }
}
