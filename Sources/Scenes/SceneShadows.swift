/// Soft shadows on the ground under objects, as a per-pixel light factor. Only ground
/// pixels are darkened and only in the image; labels never see this pass.
extension SceneRenderer {
    func castShadows() {
        let pixels = width * height
        shadow.update(repeating: 1, count: pixels)
        let count = shapes.decalCount
        guard count > 0 else { return }
        let s = state
        let h = Float(camera.mountHeight)
        let fx = Float(camera.fx), fy = Float(camera.fy)
        let cx = Float(camera.cx), cy = Float(camera.cy)
        let sun = style.look.sunDirection
        let lean = SIMD2<Float>(-sun.x, -sun.z) / max(sun.y, 0.3)
        let w = width
        let plane = SceneRenderer.nearPlane
        for i in 0..<count {
            let decal = shapes.decals[i]
            var offset = lean * decal.height * 0.6
            let length = (offset * offset).sum().squareRoot()
            if length > decal.height * 1.5 { offset *= decal.height * 1.5 / length }
            let ox = offset.x * decal.cosYaw - offset.y * decal.sinYaw
            let oz = offset.x * decal.sinYaw + offset.y * decal.cosYaw
            let halfX = decal.halfX + abs(ox) / 2
            let halfZ = decal.halfZ + abs(oz) / 2
            let centre = SIMD2(decal.center.x + offset.x / 2, decal.center.z + offset.y / 2)
            let ex = SIMD2(decal.cosYaw, -decal.sinYaw), ez = SIMD2(decal.sinYaw, decal.cosYaw)
            // Screen bounds of the rectangle, clipped to the near plane.
            var depthOf = SIMD4<Float>(), xOf = SIMD4<Float>(), yOf = SIMD4<Float>()
            for corner in 0..<4 {
                let sx: Float = corner == 0 || corner == 3 ? -1 : 1
                let sz: Float = corner < 2 ? -1 : 1
                let g = centre + ex * (sx * halfX) + ez * (sz * halfZ)
                let p = SIMD3(g.x, -h, g.y)
                depthOf[corner] = (p * s.forward).sum()
                xOf[corner] = (p * s.right).sum()
                yOf[corner] = (p * s.up).sum()
            }
            if depthOf.max() <= plane || depthOf.min() > 300 { continue }
            var umin = Float.infinity, umax = -Float.infinity, vmin = Float.infinity, vmax = -Float.infinity
            @inline(__always) func include(_ x: Float, _ y: Float, _ z: Float) {
                let u = cx + fx * x / z, v = cy - fy * y / z
                umin = min(umin, u); umax = max(umax, u)
                vmin = min(vmin, v); vmax = max(vmax, v)
            }
            for corner in 0..<4 {
                let next = (corner + 1) & 3
                let z0 = depthOf[corner], z1 = depthOf[next]
                if z0 >= plane { include(xOf[corner], yOf[corner], z0) }
                if (z0 - plane) * (z1 - plane) < 0 {
                    let f = (plane - z0) / (z1 - z0)
                    include(xOf[corner] + (xOf[next] - xOf[corner]) * f, yOf[corner] + (yOf[next] - yOf[corner]) * f, plane)
                }
            }
            let u0 = max(0, Int(Int32(clampingFloat: (umin - 0.5).rounded(.up))))
            let u1 = min(width - 1, Int(Int32(clampingFloat: (umax - 0.5).rounded(.down))))
            let v0 = max(0, Int(Int32(clampingFloat: (vmin - 0.5).rounded(.up))))
            let v1 = min(height - 1, Int(Int32(clampingFloat: (vmax - 0.5).rounded(.down))))
            guard u0 <= u1, v0 <= v1 else { continue }
            let softX = 1 / (0.4 * halfX), softZ = 1 / (0.4 * halfZ)
            for v in v0...v1 {
                let b = rowB[v]
                let dirY = b * s.up.y + s.forward.y
                guard dirY < 0 else { continue }
                let t = -h / dirY
                let rowX = b * s.up.x + s.forward.x
                let rowZ = b * s.up.z + s.forward.z
                for u in u0...u1 {
                    let p = v * w + u
                    guard ids[p] == Background.ground else { continue }
                    let a = columnA[u]
                    let gx = t * (a * s.right.x + rowX) - centre.x
                    let gz = t * (a * s.right.z + rowZ) - centre.y
                    let lx = abs(gx * ex.x + gz * ex.y)
                    let lz = abs(gx * ez.x + gz * ez.y)
                    let fx = min(1, max(0, (halfX - lx) * softX))
                    let fz = min(1, max(0, (halfZ - lz) * softZ))
                    let density = fx * fz * decal.strength
                    if density > 0 { shadow[p] *= 1 - density }
                }
            }
        }
    }
}
