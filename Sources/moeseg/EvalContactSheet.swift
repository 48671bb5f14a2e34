import Foundation
import Mixture
import Scenes
import Sensors

/// Rows of the `--report` contact sheet: input, prediction (class colours), principal MI and gate
/// entropy (grey, white = high), for the first few in-distribution and OOD frames.
struct EvalContactSheet {
    let width: Int, height: Int
    let perKind: Int
    private(set) var rows: [[UInt8]] = []
    private var taken = [false: 0, true: 0]
    private let palette = ClassTable.palette

    /// Model-sized maps are shown at half size (the page shows six rows of four).
    private let sourceWidth: Int, sourceHeight: Int

    init(width: Int, height: Int, perKind: Int = 3) {
        sourceWidth = width
        sourceHeight = height
        self.width = max(1, width / 2)
        self.height = max(1, height / 2)
        self.perKind = perKind
    }

    mutating func add(frame: Frame, result: MixtureFrameResult, principalMI: UncertaintyMap?, isOOD: Bool) {
        guard taken[isOOD, default: 0] < perKind else { return }
        taken[isOOD, default: 0] += 1
        let panels = 4, rowWidth = width * panels
        var row = [UInt8](repeating: 40, count: rowWidth * height * 3)
        func put(_ panel: Int, _ x: Int, _ y: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let i = (y * rowWidth + panel * width + x) * 3
            row[i] = r; row[i + 1] = g; row[i + 2] = b
        }
        let mi = principalMI.flatMap { result.map($0) }
        let gate = result.map(.gateEntropy)
        for y in 0..<height {
            for x in 0..<width {
                if frame.format == .rgb8 || frame.format == .bgr8, frame.width > 0, frame.height > 0 {
                    let sx = x * frame.width / width, sy = y * frame.height / height
                    let i = sy * frame.stride + sx * 3
                    let (a, b, c) = (frame.pixels[i], frame.pixels[i + 1], frame.pixels[i + 2])
                    if frame.format == .rgb8 { put(0, x, y, a, b, c) } else { put(0, x, y, c, b, a) }
                }
                let p = (y * sourceHeight / height) * sourceWidth + x * sourceWidth / width
                let k = Int(result.prediction[p]) * 3
                put(1, x, y, palette[k], palette[k + 1], palette[k + 2])
                if let mi { let v = UInt8(max(0, min(255, mi[p] * 255))); put(2, x, y, v, v, v) }
                if let gate { let v = UInt8(max(0, min(255, gate[p] * 255))); put(3, x, y, v, v, v) }
            }
        }
        rows.append(row)
    }

    /// The sheet as PNG, or nil without rows.
    func png() throws -> [UInt8]? {
        guard !rows.isEmpty else { return nil }
        let pixels = rows.flatMap { $0 }
        return try pixels.withUnsafeBufferPointer { try PNGWriter.rgb(width: width * 4, height: height * rows.count, pixels: $0) }
    }
}
