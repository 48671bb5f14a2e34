/// Why an image could not be encoded.
public enum PNGError: Error, Equatable, CustomStringConvertible {
    /// Dimensions or buffer size do not describe an image.
    case invalidImage(String)

    public var description: String {
        switch self {
        case let .invalidImage(reason): "cannot encode PNG: \(reason)"
        }
    }
}

/// Encodes 8-bit PNG images (RGB, greyscale or palette) for contact sheets and debugging.
public enum PNGWriter {
    /// How the image data is compressed inside the zlib stream.
    public enum Compression: Sendable {
        /// Uncompressed deflate blocks: fastest, largest.
        case stored
        /// Fixed-Huffman deflate with LZ77 matching and per-row PNG filters.
        case deflate
    }

    /// PNG of row-major RGB pixels (width * height * 3 bytes).
    public static func rgb(width: Int, height: Int, pixels: UnsafeBufferPointer<UInt8>,
                           compression: Compression = .deflate) throws -> [UInt8] {
        try encode(width: width, height: height, channels: 3, colorType: 2, pixels: pixels, palette: nil,
                   compression: compression)
    }

    /// PNG of row-major 8-bit greyscale pixels.
    public static func grey(width: Int, height: Int, pixels: UnsafeBufferPointer<UInt8>,
                            compression: Compression = .deflate) throws -> [UInt8] {
        try encode(width: width, height: height, channels: 1, colorType: 0, pixels: pixels, palette: nil,
                   compression: compression)
    }

    /// PNG of palette indices with a palette of up to 256 RGB entries (3 bytes each).
    public static func indexed(width: Int, height: Int, indices: UnsafeBufferPointer<UInt8>, palette: [UInt8],
                               compression: Compression = .deflate) throws -> [UInt8] {
        guard palette.count % 3 == 0, (3...768).contains(palette.count) else {
            throw PNGError.invalidImage("palette must hold 1...256 RGB entries, got \(palette.count) bytes")
        }
        return try encode(width: width, height: height, channels: 1, colorType: 3, pixels: indices, palette: palette,
                          compression: compression)
    }

    /// PNG of a label image, coloured with `ClassTable`'s display palette (the file keeps
    /// the raw ids as palette indices, so it round-trips to labels).
    public static func labels(width: Int, height: Int, labels: UnsafeBufferPointer<UInt8>,
                              compression: Compression = .deflate) throws -> [UInt8] {
        try indexed(width: width, height: height, indices: labels, palette: ClassTable.palette, compression: compression)
    }

    private static func encode(width: Int, height: Int, channels: Int, colorType: UInt8,
                               pixels: UnsafeBufferPointer<UInt8>, palette: [UInt8]?,
                               compression: Compression) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24 else {
            throw PNGError.invalidImage("size \(width)x\(height) is out of range")
        }
        let (rowBytes, overflow1) = width.multipliedReportingOverflow(by: channels)
        let (total, overflow2) = rowBytes.multipliedReportingOverflow(by: height)
        guard !overflow1, !overflow2, pixels.count >= total else {
            throw PNGError.invalidImage("\(pixels.count) bytes do not hold a \(width)x\(height)x\(channels) image")
        }
        var filtered = [UInt8]()
        filtered.reserveCapacity((rowBytes + 1) * height)
        let choose = compression == .deflate && palette == nil
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        var best = [UInt8](repeating: 0, count: rowBytes)
        for y in 0..<height {
            let row = y * rowBytes
            guard choose else {
                filtered.append(0)
                filtered += pixels[row..<(row + rowBytes)]
                continue
            }
            // Try Sub, Up and Paeth; keep the row whose bytes are smallest as signed values.
            var bestScore = Int.max, bestType: UInt8 = 0
            for type: UInt8 in 0...4 {
                var score = 0
                for i in 0..<rowBytes {
                    let x = Int(pixels[row + i])
                    let a = i >= channels ? Int(pixels[row + i - channels]) : 0
                    let b = y > 0 ? Int(pixels[row - rowBytes + i]) : 0
                    let c = (i >= channels && y > 0) ? Int(pixels[row - rowBytes + i - channels]) : 0
                    let predicted: Int
                    switch type {
                    case 0: predicted = 0
                    case 1: predicted = a
                    case 2: predicted = b
                    case 3: predicted = (a + b) / 2
                    default: predicted = paeth(a, b, c)
                    }
                    let value = UInt8(truncatingIfNeeded: x - predicted)
                    candidate[i] = value
                    score += value < 128 ? Int(value) : 256 - Int(value)
                }
                if score < bestScore {
                    bestScore = score
                    bestType = type
                    swap(&best, &candidate)
                }
            }
            filtered.append(bestType)
            filtered += best
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, colorType, 0, 0, 0]
        chunk("IHDR", header, into: &out)
        if let palette { chunk("PLTE", palette, into: &out) }
        chunk("IDAT", ZlibEncoder.compress(filtered, mode: compression == .stored ? .stored : .fixedHuffman), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    private static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        out += bigEndian(UInt32(data.count))
        let typeBytes = Array(type.utf8)
        var crc = CRC32()
        crc.update(typeBytes)
        crc.update(data)
        out += typeBytes
        out += data
        out += bigEndian(crc.checksum)
    }
}
