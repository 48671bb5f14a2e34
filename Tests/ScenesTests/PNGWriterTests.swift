import Testing
@testable import Scenes

// Check values published with the algorithms: CRC-32/ISO-HDLC of "123456789" is
// 0xCBF43926 (the CRC catalogue's "check"), Adler-32 of "Wikipedia" is 0x11E60398.
@Test func checksumsMatchPublishedCheckValues() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
    #expect(Adler32.checksum([]) == 1)
}

/// A decoded PNG, parsed and unfiltered by the test itself (PNG spec, sections 5, 9, 11).
struct DecodedPNG {
    var width = 0, height = 0, colorType = 0
    var palette: [UInt8] = []
    var pixels: [UInt8] = []

    init(_ file: [UInt8]) throws {
        #expect(Array(file[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var position = 8
        var idat = [UInt8]()
        func u32(_ i: Int) -> Int { Int(file[i]) << 24 | Int(file[i + 1]) << 16 | Int(file[i + 2]) << 8 | Int(file[i + 3]) }
        var sawEnd = false
        while position + 12 <= file.count {
            let length = u32(position)
            let type = String(decoding: file[(position + 4)..<(position + 8)], as: UTF8.self)
            let body = Array(file[(position + 8)..<(position + 8 + length)])
            let crc = u32(position + 8 + length)
            #expect(UInt32(crc) == CRC32.checksum(Array(file[(position + 4)..<(position + 8 + length)])), "CRC of \(type)")
            switch type {
            case "IHDR":
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                #expect(body[8] == 8)
                colorType = Int(body[9])
            case "PLTE": palette = body
            case "IDAT": idat += body
            case "IEND": sawEnd = true
            default: break
            }
            position += 12 + length
        }
        #expect(sawEnd && position == file.count)
        // zlib: header check, raw deflate, Adler-32 trailer.
        #expect((Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0 && idat[0] & 0x0F == 8)
        var inflate = Inflate(Array(idat[2..<(idat.count - 4)]))
        let raw = try inflate.decode()
        let trailer = UInt32(idat[idat.count - 4]) << 24 | UInt32(idat[idat.count - 3]) << 16
            | UInt32(idat[idat.count - 2]) << 8 | UInt32(idat[idat.count - 1])
        #expect(trailer == Adler32.checksum(raw))
        let channels = colorType == 2 ? 3 : 1
        let rowBytes = width * channels
        #expect(raw.count == height * (rowBytes + 1))
        pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            for i in 0..<rowBytes {
                let x = Int(raw[y * (rowBytes + 1) + 1 + i])
                let a = i >= channels ? Int(pixels[y * rowBytes + i - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * rowBytes + i]) : 0
                let c = i >= channels && y > 0 ? Int(pixels[(y - 1) * rowBytes + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default:
                    Issue.record("unknown filter \(filter)")
                    predictor = 0
                }
                pixels[y * rowBytes + i] = UInt8((x + predictor) & 0xFF)
            }
        }
    }
}

@Test(arguments: [PNGWriter.Compression.stored, .deflate])
func rgbRoundTrips(_ compression: PNGWriter.Compression) throws {
    let renderer = try SceneRenderer(domain: .urban, seed: 3, width: 96, height: 48)
    let (rgb, labels) = renderFrame(renderer, 5)
    let file = try rgb.withUnsafeBufferPointer { try PNGWriter.rgb(width: 96, height: 48, pixels: $0, compression: compression) }
    let decoded = try DecodedPNG(file)
    #expect(decoded.width == 96 && decoded.height == 48 && decoded.colorType == 2)
    #expect(decoded.pixels == rgb)

    let labelFile = try labels.withUnsafeBufferPointer {
        try PNGWriter.labels(width: 96, height: 48, labels: $0, compression: compression)
    }
    let decodedLabels = try DecodedPNG(labelFile)
    #expect(decodedLabels.colorType == 3 && decodedLabels.pixels == labels)
    #expect(decodedLabels.palette == ClassTable.palette)
}

@Test func storedBlocksSplitLargeImages() throws {
    // More than 65535 bytes forces several stored blocks.
    let pixels = (0..<(300 * 100 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let file = try pixels.withUnsafeBufferPointer { try PNGWriter.rgb(width: 300, height: 100, pixels: $0, compression: .stored) }
    #expect(try DecodedPNG(file).pixels == pixels)
    let packed = try pixels.withUnsafeBufferPointer { try PNGWriter.rgb(width: 300, height: 100, pixels: $0) }
    #expect(try DecodedPNG(packed).pixels == pixels)
}

@Test func badImagesAreRejected() {
    let few = [UInt8](repeating: 0, count: 10)
    #expect(throws: PNGError.self) { try few.withUnsafeBufferPointer { try PNGWriter.rgb(width: 4, height: 4, pixels: $0) } }
    #expect(throws: PNGError.self) { try few.withUnsafeBufferPointer { try PNGWriter.grey(width: 0, height: 4, pixels: $0) } }
    #expect(throws: PNGError.self) {
        try few.withUnsafeBufferPointer { try PNGWriter.indexed(width: 2, height: 2, indices: $0, palette: [1, 2]) }
    }
}
