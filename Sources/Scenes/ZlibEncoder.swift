/// A minimal zlib (RFC 1950) encoder over DEFLATE (RFC 1951): either uncompressed "stored"
/// blocks, or one block with the fixed Huffman code and greedy LZ77 matching, which is
/// small, always valid and compresses label images and smooth renders well.
enum ZlibEncoder {
    enum Mode { case stored, fixedHuffman }

    static func compress(_ data: [UInt8], mode: Mode) -> [UInt8] {
        var out: [UInt8] = [0x78, mode == .stored ? 0x01 : 0x9C]
        data.withUnsafeBufferPointer { input in
            switch mode {
            case .stored: storedBlocks(input, into: &out)
            case .fixedHuffman: fixedBlock(input, into: &out)
            }
        }
        let adler = Adler32.checksum(data)
        out += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
        return out
    }

    private static func storedBlocks(_ input: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var index = 0
        repeat {
            let length = min(65535, input.count - index)
            let final: UInt8 = index + length == input.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE = 00, padded to the byte boundary
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += input[index..<(index + length)]
            index += length
        } while index < input.count
    }

    /// LSB-first bit packer.
    private struct BitWriter {
        var bytes: [UInt8]
        var buffer: UInt64 = 0
        var count = 0

        mutating func write(_ value: UInt32, bits: Int) {
            buffer |= UInt64(value) << UInt64(count)
            count += bits
            while count >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                count -= 8
            }
        }

        /// Huffman codes go out most significant bit first.
        mutating func writeCode(_ code: UInt32, bits: Int) {
            var reversed: UInt32 = 0
            for i in 0..<bits where code & (1 << UInt32(i)) != 0 { reversed |= 1 << UInt32(bits - 1 - i) }
            write(reversed, bits: bits)
        }

        mutating func flush() {
            if count > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
            buffer = 0
            count = 0
        }
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                            67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                             5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385,
                                              513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
                                               10, 11, 11, 12, 12, 13, 13]

    private static func writeSymbol(_ symbol: Int, _ bits: inout BitWriter) {
        switch symbol {
        case 0...143: bits.writeCode(UInt32(0x30 + symbol), bits: 8)
        case 144...255: bits.writeCode(UInt32(0x190 + symbol - 144), bits: 9)
        case 256...279: bits.writeCode(UInt32(symbol - 256), bits: 7)
        default: bits.writeCode(UInt32(0xC0 + symbol - 280), bits: 8)
        }
    }

    private static func writeMatch(length: Int, distance: Int, _ bits: inout BitWriter) {
        var code = lengthBase.count - 1
        while lengthBase[code] > length { code -= 1 }
        writeSymbol(257 + code, &bits)
        if lengthExtra[code] > 0 { bits.write(UInt32(length - lengthBase[code]), bits: lengthExtra[code]) }
        var dcode = distanceBase.count - 1
        while distanceBase[dcode] > distance { dcode -= 1 }
        bits.writeCode(UInt32(dcode), bits: 5)
        if distanceExtra[dcode] > 0 { bits.write(UInt32(distance - distanceBase[dcode]), bits: distanceExtra[dcode]) }
    }

    private static func fixedBlock(_ input: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var bits = BitWriter(bytes: out)
        bits.write(1, bits: 1)  // BFINAL
        bits.write(1, bits: 2)  // BTYPE = 01, fixed Huffman
        let window = 32768, maxChain = 24, maxMatch = 258
        let hashSize = 1 << 16
        var head = [Int32](repeating: -1, count: hashSize)
        var previous = [Int32](repeating: -1, count: window)
        let n = input.count
        @inline(__always) func hash(_ i: Int) -> Int {
            (Int(input[i]) << 8 ^ Int(input[i + 1]) << 4 ^ Int(input[i + 2]) &* 0x9E37) & (hashSize - 1)
        }
        @inline(__always) func insert(_ i: Int) {
            guard i + 2 < n else { return }
            let h = hash(i)
            previous[i & (window - 1)] = head[h]
            head[h] = Int32(i)
        }
        var i = 0
        while i < n {
            var bestLength = 0, bestDistance = 0
            if i + 2 < n {
                var candidate = Int(head[hash(i)])
                var chain = 0
                let limit = min(maxMatch, n - i)
                while candidate >= 0 && i - candidate <= window - 1 && chain < maxChain {
                    if input[candidate + bestLength] == input[i + bestLength] || bestLength == 0 {
                        var length = 0
                        while length < limit && input[candidate + length] == input[i + length] { length += 1 }
                        if length > bestLength {
                            bestLength = length
                            bestDistance = i - candidate
                            if length == limit { break }
                        }
                    }
                    let next = Int(previous[candidate & (window - 1)])
                    if next >= candidate { break }
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= 3 {
                writeMatch(length: bestLength, distance: bestDistance, &bits)
                for j in i..<(i + bestLength) { insert(j) }
                i += bestLength
            } else {
                writeSymbol(Int(input[i]), &bits)
                insert(i)
                i += 1
            }
        }
        writeSymbol(256, &bits)
        bits.flush()
        out = bits.bytes
    }
}
