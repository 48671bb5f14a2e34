/// The package's way back to bytes: `np.uint8(np.clip(x, 0, 1) * 255)` truncates, it does not
/// round, so a corrupted frame is on average half a level darker than a rounded one. Keeping
/// that bias matters for the PSNR of the mild severities.
enum PixelStore {
    /// Bytes divided by 255, as the package starts most corruptions (`np.array(x) / 255.`).
    static func unit(_ rgb: [UInt8]) -> [Double] {
        rgb.map { Double($0) / 255 }
    }

    /// `np.uint8(np.clip(v, 0, 1) * 255)` in float64.
    @inline(__always)
    static func fromUnit(_ v: Double) -> UInt8 {
        // NaN (0/0 in a degenerate mask) becomes 0, as numpy's cast does on x86.
        guard v > 0 else { return 0 }
        return UInt8(min(v, 1) * 255)
    }

    /// `np.uint8(np.clip(v, 0, 1) * 255)` in float32, for the corruptions the package runs in float32.
    @inline(__always)
    static func fromUnit(_ v: Float) -> UInt8 {
        guard v > 0 else { return 0 }
        return UInt8(min(v, 1) * 255)
    }

    /// `np.uint8(np.clip(v, 0, 255))`, for the corruptions that stay in 0...255.
    @inline(__always)
    static func fromLevel(_ v: Double) -> UInt8 {
        guard v > 0 else { return 0 }
        return UInt8(min(v, 255))
    }
}
