import Glibc

/// The pinhole camera the scenes are rendered with. The camera sits `mountHeight` metres
/// above a flat ground, looks along the road and is pitched down by `pitch` radians, with
/// no roll. Pixel (u, v) covers [u, u+1) x [v, v+1); its label and colour come from the
/// ray through its centre (u + 0.5, v + 0.5): x_image = cx + fx * X/Z, y_image = cy - fy * Y/Z
/// in camera coordinates (X right, Y up, Z forward).
public struct SceneCamera: Sendable, Equatable {
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// Focal length in pixels, horizontal.
    public var fx: Double
    /// Focal length in pixels, vertical.
    public var fy: Double
    /// Principal point, horizontal, in pixels from the left image edge.
    public var cx: Double
    /// Principal point, vertical, in pixels from the top image edge.
    public var cy: Double
    /// Height of the optical centre above the ground, metres.
    public var mountHeight: Double
    /// Downward pitch of the optical axis, radians.
    public var pitch: Double

    /// Creates a camera from explicit intrinsics and mounting.
    public init(width: Int, height: Int, fx: Double, fy: Double, cx: Double, cy: Double,
                mountHeight: Double, pitch: Double) {
        self.width = width
        self.height = height
        self.fx = fx
        self.fy = fy
        self.cx = cx
        self.cy = cy
        self.mountHeight = mountHeight
        self.pitch = pitch
    }

    /// A camera with the given horizontal field of view (radians), square pixels and the
    /// principal point at the image centre.
    public init(width: Int, height: Int, horizontalFieldOfView: Double, mountHeight: Double, pitch: Double) {
        let focal = Double(width) / (2 * tan(horizontalFieldOfView / 2))
        self.init(width: width, height: height, fx: focal, fy: focal,
                  cx: Double(width) / 2, cy: Double(height) / 2,
                  mountHeight: mountHeight, pitch: pitch)
    }

    /// Image row (fractional) where the horizon of the flat ground lies.
    public var horizonRow: Double { cy - fy * tan(pitch) }
}
