/// Visibility: which surface each pixel's centre ray hits first. The ground and the far
/// horizon are resolved per row; each object primitive is ray-cast over the pixel
/// rectangle its projection covers, nearest primitives first, with a depth test.
extension SceneRenderer {
    static let nearPlane: Float = 0.05

    /// Computes each primitive's camera-relative frame and screen rectangle, culls what is
    /// out of view and orders the rest by nearest possible depth.
    func prepareShapes() {
        let s = state
        let camera = SIMD3<Float>(0, Float(self.camera.mountHeight), 0)
        let fx = Float(self.camera.fx), fy = Float(self.camera.fy)
        let cx = Float(self.camera.cx), cy = Float(self.camera.cy)
        let maxU = Int32(width - 1), maxV = Int32(height - 1)
        let buffer = shapes.shapes
        var visible = 0
        for i in 0..<shapes.count {
            var shape = buffer[i]
            let ex = shape.axisX, ez = shape.axisZ
            let ey = SIMD3<Float>(0, 1, 0)
            let inverse = 1 / shape.half
            let rel = camera - shape.center
            shape.origin = SIMD3((rel * ex).sum(), rel.y, (rel * ez).sum()) * inverse
            shape.axisRight = SIMD3((s.right * ex).sum(), s.right.y, (s.right * ez).sum()) * inverse
            shape.axisUp = SIMD3((s.up * ex).sum(), s.up.y, (s.up * ez).sum()) * inverse
            shape.axisForward = SIMD3((s.forward * ex).sum(), s.forward.y, (s.forward * ez).sum()) * inverse
            // Project the bounding box, clipped to the near plane: its in-front corners and
            // the points where its edges cross the plane bound the projection.
            let centre = shape.center - camera
            let hx = ex * shape.half.x, hy = ey * shape.half.y, hz = ez * shape.half.z
            var cornerDepth = SIMD8<Float>()
            var cornerX = SIMD8<Float>()
            var cornerY = SIMD8<Float>()
            for corner in 0..<8 {
                let sx: Float = corner & 1 == 0 ? -1 : 1
                let sy: Float = corner & 2 == 0 ? -1 : 1
                let sz: Float = corner & 4 == 0 ? -1 : 1
                let p = centre + hx * sx + hy * sy + hz * sz
                cornerDepth[corner] = (p * s.forward).sum()
                cornerX[corner] = (p * s.right).sum()
                cornerY[corner] = (p * s.up).sum()
            }
            let nearest = cornerDepth.min()
            if cornerDepth.max() <= SceneRenderer.nearPlane || nearest > maxGroundDistance { continue }
            var umin = Float.infinity, umax = -Float.infinity, vmin = Float.infinity, vmax = -Float.infinity
            @inline(__always) func include(_ x: Float, _ y: Float, _ z: Float) {
                let inv = 1 / z
                let u = cx + fx * x * inv
                let v = cy - fy * y * inv
                umin = min(umin, u); umax = max(umax, u)
                vmin = min(vmin, v); vmax = max(vmax, v)
            }
            let plane = SceneRenderer.nearPlane
            for corner in 0..<8 where cornerDepth[corner] >= plane {
                include(cornerX[corner], cornerY[corner], cornerDepth[corner])
            }
            if nearest < plane {
                for corner in 0..<8 {
                    for shift in 0..<3 where corner & (1 << shift) == 0 {
                        let other = corner | (1 << shift)
                        let z0 = cornerDepth[corner], z1 = cornerDepth[other]
                        guard (z0 - plane) * (z1 - plane) < 0 else { continue }
                        let f = (plane - z0) / (z1 - z0)
                        include(cornerX[corner] + (cornerX[other] - cornerX[corner]) * f,
                                cornerY[corner] + (cornerY[other] - cornerY[corner]) * f, plane)
                    }
                }
            }
            // Pixel u's centre is at u + 0.5: cover every centre inside [umin, umax].
            shape.u0 = max(0, Int32(clampingFloat: (umin - 0.5).rounded(.up)))
            shape.u1 = min(maxU, Int32(clampingFloat: (umax - 0.5).rounded(.down)))
            shape.v0 = max(0, Int32(clampingFloat: (vmin - 0.5).rounded(.up)))
            shape.v1 = min(maxV, Int32(clampingFloat: (vmax - 0.5).rounded(.down)))
            if shape.u0 > shape.u1 || shape.v0 > shape.v1 { continue }
            shape.near = max(0, nearest)
            buffer[i] = shape
            order[visible] = Int32(i)
            visible += 1
        }
        // Insertion sort by near depth: objects arrive roughly in road order already.
        for i in 1..<max(visible, 1) {
            let key = order[i]
            let near = buffer[Int(key)].near
            var j = i - 1
            while j >= 0 && buffer[Int(order[j])].near > near {
                order[j + 1] = order[j]
                j -= 1
            }
            order[j + 1] = key
        }
        visibleCount = visible
    }

    /// Fills the depth and id buffers with the ground (rows below the horizon, up to the
    /// far limit) or the distant horizon and sky.
    func initialiseVisibility() {
        let s = state
        let w = width
        let h = Float(camera.mountHeight)
        let profile = horizonProfile
        let limit = profile.maxTangent
        let yaw = Float(s.pose.yaw)
        let maxA = max(abs(columnA[0]), abs(columnA[width - 1]))
        for v in 0..<height {
            let b = rowB[v]
            let dirY = b * s.up.y + s.forward.y
            let row = v * w
            if dirY < 0 {
                let t = -h / dirY
                if t < maxGroundDistance {
                    for u in 0..<w {
                        depth[row + u] = t
                        ids[row + u] = Background.ground
                    }
                    continue
                }
            }
            // The horizon's profiles only reach `limit`; rays steeper than that see sky. The
            // ray's horizontal length is at most its full length sqrt(1 + a^2 + b^2).
            if dirY > limit * (1 + maxA * maxA + b * b).squareRoot() {
                for u in 0..<w {
                    depth[row + u] = .infinity
                    ids[row + u] = Background.sky
                }
                continue
            }
            let rowX = b * s.up.x + s.forward.x
            let rowZ = b * s.up.z + s.forward.z
            for u in 0..<w {
                let a = columnA[u]
                let dx = a * s.right.x + rowX
                let dz = a * s.right.z + rowZ
                let tangent = dirY / (dx * dx + dz * dz).squareRoot()
                let bin = HorizonProfile.bin(yaw + columnAzimuth[u])
                let id: Int32
                if tangent < profile.hills[bin] {
                    id = Background.farTerrain
                } else if tangent < profile.trees[bin] {
                    id = Background.farTrees
                } else if tangent < profile.skyline[bin] {
                    id = Background.farBuildings
                } else {
                    id = Background.sky
                }
                ids[row + u] = id
                depth[row + u] = id == Background.sky ? .infinity : 1e7
            }
        }
    }

    /// Ray-casts every visible primitive over its pixel rectangle, nearest first.
    func rasteriseShapes() {
        let buffer = shapes.shapes
        let w = width
        for n in 0..<visibleCount {
            let index = order[n]
            let shape = buffer[Int(index)]
            switch shape.kind {
            case .box: rasterise(shape, index, w) { UnitSolid.box($0, $1) }
            case .ellipsoid:
                let c = (shape.origin * shape.origin).sum() - 1
                rasterise(shape, index, w) { UnitSolid.sphere($0, $1, c) }
            case .cylinderY: rasterise(shape, index, w) { UnitSolid.cylinder($0, $1, acrossX: false) }
            case .cylinderX: rasterise(shape, index, w) { UnitSolid.cylinder($0, $1, acrossX: true) }
            case .cone:
                let top = shape.param
                rasterise(shape, index, w) { UnitSolid.cone($0, $1, top: top) }
            }
        }
    }

    @inline(__always)
    private func rasterise(_ shape: SceneShape, _ index: Int32, _ w: Int,
                           _ hit: (SIMD3<Float>, SIMD3<Float>) -> Float) {
        let origin = shape.origin
        let near = shape.near
        let right = shape.axisRight
        for v in Int(shape.v0)...Int(shape.v1) {
            let base = shape.axisUp * rowB[v] + shape.axisForward
            var p = v * w + Int(shape.u0)
            for u in Int(shape.u0)...Int(shape.u1) {
                let current = depth[p]
                if current > near {
                    let t = hit(origin, base + right * columnA[u])
                    if t < current {
                        depth[p] = t
                        ids[p] = index
                    }
                }
                p += 1
            }
        }
    }
}
