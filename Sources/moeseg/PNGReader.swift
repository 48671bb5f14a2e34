import CZlib
import Sensors

/// Decodes 8-bit, non-interlaced PNG images (greyscale, RGB, palette, with or without alpha;
/// alpha is dropped) into frames, for `moeseg infer --image`.
enum PNGReader {
    static func decode(_ bytes: [UInt8], path: String) throws -> Frame {
        func bad(_ why: String) -> Error { fail("\(path): \(why)") }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8
        var width = 0, height = 0, colorType = -1
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        while i + 12 <= bytes.count {
            let length = be32(i)
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            guard length >= 0, i + 12 + length <= bytes.count else { throw bad("truncated PNG chunk \(type)") }
            let body = bytes[(i + 8)..<(i + 8 + length)]
            switch type {
            case "IHDR":
                guard length == 13 else { throw bad("bad IHDR") }
                width = be32(i + 8)
                height = be32(i + 12)
                let depth = Int(bytes[i + 16])
                colorType = Int(bytes[i + 17])
                guard depth == 8, bytes[i + 20] == 0 else { throw bad("only 8-bit non-interlaced PNG is supported") }
            case "PLTE": palette = Array(body)
            case "IDAT": compressed.append(contentsOf: body)
            default: break
            }
            i += 12 + length
            if type == "IEND" { break }
        }
        let channels: Int
        switch colorType {
        case 0: channels = 1
        case 2: channels = 3
        case 3: channels = 1
        case 4: channels = 2
        case 6: channels = 4
        default: throw bad("missing IHDR or unsupported PNG colour type \(colorType)")
        }
        guard width > 0, height > 0, width <= 16384, height <= 16384 else { throw bad("PNG size \(width)×\(height) out of range") }
        let rowBytes = width * channels
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        var outLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &outLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(outLength) == raw.count else { throw bad("corrupt PNG image data (zlib status \(status))") }
        // Undo the per-row filters (PNG spec §9), in place.
        var previous = [UInt8](repeating: 0, count: rowBytes)
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            let row = y * (rowBytes + 1) + 1
            for x in 0..<rowBytes {
                let a = x >= channels ? Int(pixels[y * rowBytes + x - channels]) : 0
                let b = Int(previous[x])
                let c = x >= channels ? Int(previous[x - channels]) : 0
                let value = Int(raw[row + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw bad("bad PNG row filter \(filter)")
                }
                pixels[y * rowBytes + x] = UInt8(truncatingIfNeeded: value + predicted)
            }
            for x in 0..<rowBytes { previous[x] = pixels[y * rowBytes + x] }
        }
        var frame = Frame()
        frame.reshape(width: width, height: height, format: .rgb8)
        for p in 0..<(width * height) {
            for k in 0..<3 {
                let v: UInt8
                switch colorType {
                case 0, 4: v = pixels[p * channels]
                case 3:
                    let index = Int(pixels[p]) * 3 + k
                    guard index < palette.count else { throw bad("palette index out of range") }
                    v = palette[index]
                default: v = pixels[p * channels + k]
                }
                frame.pixels[p * 3 + k] = v
            }
        }
        return frame
    }
}
