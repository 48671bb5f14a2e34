import Glibc

/// Fixed-capacity storage for the primitives of one frame, allocated once per renderer so
/// that populating a frame never touches the heap. Primitives beyond capacity are dropped.
final class ShapeBuffer {
    let capacity: Int
    let shapes: UnsafeMutablePointer<SceneShape>
    private(set) var count = 0
    let decalCapacity: Int
    let decals: UnsafeMutablePointer<ShadowDecal>
    private(set) var decalCount = 0

    init(capacity: Int) {
        self.capacity = capacity
        shapes = .allocate(capacity: capacity)
        shapes.initialize(repeating: SceneShape(), count: capacity)
        decalCapacity = capacity / 2
        decals = .allocate(capacity: decalCapacity)
        decals.initialize(repeating: ShadowDecal(), count: decalCapacity)
    }

    deinit {
        shapes.deinitialize(count: capacity)
        shapes.deallocate()
        decals.deinitialize(count: decalCapacity)
        decals.deallocate()
    }

    func removeAll() {
        count = 0
        decalCount = 0
    }

    @inline(__always)
    func append(_ decal: ShadowDecal) {
        guard decalCount < decalCapacity else { return }
        decals[decalCount] = decal
        decalCount += 1
    }

    @inline(__always)
    func append(_ shape: SceneShape) {
        guard count < capacity else { return }
        shapes[count] = shape
        count += 1
    }
}

/// A local frame on the ground for building one object: origin (camera-relative metres)
/// and heading; parts are given in the object's own axes (x right, y up, z forward).
struct Placement {
    var origin: SIMD3<Float>
    var cosYaw: Float
    var sinYaw: Float

    /// World (camera-relative) position of a point given in object coordinates.
    @inline(__always)
    func world(_ local: SIMD3<Float>) -> SIMD3<Float> {
        origin + SIMD3(local.x * cosYaw + local.z * sinYaw, local.y, -local.x * sinYaw + local.z * cosYaw)
    }

    /// The same frame turned by `angle` radians (positive turns the forward axis towards the right).
    func turned(by angle: Float) -> Placement {
        let c = cosf(angle), s = sinf(angle)
        return Placement(origin: origin, cosYaw: cosYaw * c - sinYaw * s, sinYaw: sinYaw * c + cosYaw * s)
    }

    /// The same heading, moved by `local` in object coordinates.
    func moved(_ local: SIMD3<Float>) -> Placement {
        Placement(origin: world(local), cosYaw: cosYaw, sinYaw: sinYaw)
    }
}

/// A soft dark patch on the ground under an object (its shadow and contact darkening).
/// It only changes the image: the ground keeps its label.
struct ShadowDecal {
    /// Centre on the ground, camera-relative.
    var center: SIMD3<Float> = .zero
    var cosYaw: Float = 1
    var sinYaw: Float = 0
    var halfX: Float = 1
    var halfZ: Float = 1
    /// Height of the object casting it, which stretches the shadow away from the sun.
    var height: Float = 1
    var strength: Float = 0.6
}
