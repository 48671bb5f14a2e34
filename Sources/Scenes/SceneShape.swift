/// Geometric primitive of a scene object. Every primitive is stored as an affine image of
/// a unit solid (cube, sphere, cylinder, truncated cone), so a ray is intersected in the
/// unit solid's frame where the tests are simplest; the ray parameter is the same in both.
enum ShapeKind: UInt8 {
    /// Unit cube [-1, 1]^3.
    case box
    /// Unit sphere.
    case ellipsoid
    /// Cylinder x^2 + z^2 <= 1, |y| <= 1 (upright: poles, trunks).
    case cylinderY
    /// Cylinder y^2 + z^2 <= 1, |x| <= 1 (axis across the object: wheels).
    case cylinderX
    /// Truncated cone x^2 + z^2 <= k(y)^2 with k(-1) = 1, k(1) = `param`, |y| <= 1.
    case cone
}

/// How a primitive's surface is coloured; see `SceneShading`.
enum Material: UInt8 {
    case plain, facade, carBody, glass, tire, foliage, bark, metal, guardRail, signFace
    case coneStripes, barrierStripes, fur, lamp, truckBox, cloth, skin, headlight, taillight
}

/// One primitive of the world, positioned relative to the camera for the current frame.
struct SceneShape {
    /// Centre relative to the camera position (metres, world axes: x right, y up, z along the road).
    var center: SIMD3<Float> = .zero
    /// Half extents along the primitive's own axes (metres).
    var half: SIMD3<Float> = SIMD3(1, 1, 1)
    /// Rotation about the vertical axis; local z points along (sin, 0, cos).
    var cosYaw: Float = 1
    var sinYaw: Float = 0
    /// Base colour, linear RGB.
    var color: SIMD3<Float> = SIMD3(0.5, 0.5, 0.5)
    var kind: ShapeKind = .box
    var label: UInt8 = 0
    var material: Material = .plain
    /// Material-specific small parameter (window style, sign design, ...).
    var variant: UInt8 = 0
    /// Kind-specific parameter (cone top radius ratio).
    var param: Float = 1
    /// Random bits for surface patterns.
    var tag: UInt32 = 0

    // Filled by the renderer once per frame.
    /// Camera centre in the unit solid's frame.
    var origin: SIMD3<Float> = .zero
    /// Camera right, up and forward axes in the unit solid's frame: the ray through pixel
    /// (a, b) in normalised image coordinates is origin + t * (a * right + b * up + forward).
    var axisRight: SIMD3<Float> = .zero
    var axisUp: SIMD3<Float> = .zero
    var axisForward: SIMD3<Float> = .zero
    /// Smallest camera depth any point of the primitive can have.
    var near: Float = 0
    /// Pixel rectangle that contains the primitive's projection (inclusive).
    var u0: Int32 = 0, u1: Int32 = -1, v0: Int32 = 0, v1: Int32 = -1

    /// Local x axis in world coordinates.
    @inline(__always) var axisX: SIMD3<Float> { SIMD3(cosYaw, 0, -sinYaw) }
    /// Local z axis in world coordinates.
    @inline(__always) var axisZ: SIMD3<Float> { SIMD3(sinYaw, 0, cosYaw) }
}

/// Ray-primitive intersection in the unit solid's frame. Each returns the entry parameter
/// t > 0 of the ray o + t d, or +infinity when the ray misses (or starts inside).
enum UnitSolid {
    @inline(__always)
    static func slab(_ o: Float, _ d: Float) -> (Float, Float) {
        let inv = 1 / d
        let t1 = (-1 - o) * inv
        let t2 = (1 - o) * inv
        return t1 < t2 ? (t1, t2) : (t2, t1)
    }

    @inline(__always)
    static func box(_ o: SIMD3<Float>, _ d: SIMD3<Float>) -> Float {
        let (ax, bx) = slab(o.x, d.x)
        let (ay, by) = slab(o.y, d.y)
        let (az, bz) = slab(o.z, d.z)
        let enter = max(ax, max(ay, az))
        let exit = min(bx, min(by, bz))
        return (enter <= exit && enter > 0) ? enter : .infinity
    }

    @inline(__always)
    static func sphere(_ o: SIMD3<Float>, _ d: SIMD3<Float>, _ c: Float) -> Float {
        let a = (d * d).sum()
        let b = (o * d).sum()
        let disc = b * b - a * c
        if disc < 0 { return .infinity }
        let t = (-b - disc.squareRoot()) / a
        return t > 0 ? t : .infinity
    }

    /// Cylinder about the y axis (`acrossX == false`) or the x axis.
    @inline(__always)
    static func cylinder(_ o: SIMD3<Float>, _ d: SIMD3<Float>, acrossX: Bool) -> Float {
        let (p, q, axisO, axisD) = acrossX ? (SIMD2(o.y, o.z), SIMD2(d.y, d.z), o.x, d.x)
                                           : (SIMD2(o.x, o.z), SIMD2(d.x, d.z), o.y, d.y)
        let a = (q * q).sum()
        let b = (p * q).sum()
        let c = (p * p).sum() - 1
        let disc = b * b - a * c
        if disc < 0 || a == 0 { return .infinity }
        let root = disc.squareRoot()
        let c0 = (-b - root) / a
        let c1 = (-b + root) / a
        let (s0, s1) = slab(axisO, axisD)
        let enter = max(c0, s0)
        let exit = min(c1, s1)
        return (enter <= exit && enter > 0) ? enter : .infinity
    }

    /// Truncated cone with radius 1 at y = -1 and `top` at y = 1 (top > 0).
    @inline(__always)
    static func cone(_ o: SIMD3<Float>, _ d: SIMD3<Float>, top: Float) -> Float {
        // k(y) = alpha + beta * y; inside when x^2 + z^2 <= k(y)^2 (k > 0 on the slab).
        let beta = (top - 1) / 2
        let alpha = (top + 1) / 2
        let ko = alpha + beta * o.y
        let kd = beta * d.y
        let a = d.x * d.x + d.z * d.z - kd * kd
        let b = o.x * d.x + o.z * d.z - kd * ko
        let c = o.x * o.x + o.z * o.z - ko * ko
        let (s0, s1) = slab(o.y, d.y)
        if s0 > s1 { return .infinity }
        let disc = b * b - a * c
        var enter: Float = .infinity
        if a > 0 {
            if disc < 0 { return .infinity }
            let root = disc.squareRoot()
            let t0 = (-b - root) / a
            let t1 = (-b + root) / a
            let e = max(t0, s0)
            if e <= min(t1, s1) { enter = e }
        } else {
            // The ray runs steeper than the cone's flank: the inside of the double cone is
            // everything outside the roots (or the whole line when there are none).
            if disc < 0 {
                enter = s0
            } else {
                let root = disc.squareRoot()
                let t0 = a == 0 ? (-c / (2 * b)) : (-b + root) / a
                let t1 = a == 0 ? Float.infinity : (-b - root) / a
                let lo = min(t0, t1)
                let hi = max(t0, t1)
                if s0 <= lo { enter = s0 } else if hi <= s1 { enter = max(hi, s0) }
            }
        }
        return enter > 0 ? enter : .infinity
    }
}
