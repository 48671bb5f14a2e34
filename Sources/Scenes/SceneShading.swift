import Glibc

/// Shading: the colour and label of every pixel from the surface the visibility pass
/// found there. Colours are linear RGB until the tone curve.
extension SceneRenderer {
    /// Beyond this fog fraction a surface is not recognisable any more: its label becomes ignore.
    static let fogHidesLabel: Float = 0.95

    /// Per-frame constants the shading loop needs, gathered once.
    struct ShadingFrame {
        var right: SIMD3<Float>
        var up: SIMD3<Float>
        var forward: SIMD3<Float>
        var mountHeight: Float
        var exposureScale: Float
        var dashPhase: Float
        var dashPeriod: Float
        var dashLength: Float
        var pavingPhase: Float
        var coarseScale: Float = 2
        var coarseX: Float
        var coarseZ: Float
        var fineScale: Float = 40
        var fineX: Float
        var fineZ: Float
        var cloudX: Float
        var cloudZ: Float
        var zebraLow: Float
        var zebraHigh: Float
        var carriagewayEdge: Float
        var crossCount: Int
        var time: Float
    }

    func shadingFrame() -> ShadingFrame {
        let s = state
        let layout = style.layout
        func wrap(_ value: Double, _ period: Double) -> Float {
            Float(value - (value / period).rounded(.down) * period)
        }
        let size = Double(tileA.size)
        return ShadingFrame(
            right: s.right, up: s.up, forward: s.forward,
            mountHeight: Float(camera.mountHeight),
            exposureScale: s.exposure * Float(SceneRenderer.toneSize) / SceneRenderer.toneRange,
            dashPhase: wrap(s.pose.z, layout.dashPeriod), dashPeriod: Float(layout.dashPeriod),
            dashLength: Float(layout.dashLength),
            pavingPhase: wrap(s.pose.z, 1.0),
            coarseX: wrap(s.pose.x * 2, size), coarseZ: wrap(s.pose.z * 2, size),
            fineX: wrap(s.pose.x * 40, size), fineZ: wrap(s.pose.z * 40, size),
            cloudX: wrap(s.pose.x * 0.05 + s.time * 0.3, size), cloudZ: wrap(s.pose.z * 0.05, size),
            zebraLow: Float(layout.zebraSpan.lowerBound), zebraHigh: Float(layout.zebraSpan.upperBound),
            carriagewayEdge: Float(layout.carriagewayEdge), crossCount: s.crossCount,
            time: Float(s.time))
    }

    /// Colours and labels every pixel; writes 8-bit RGB after exposure and tone curve.
    func shade(into image: UnsafeMutablePointer<UInt8>, labels: UnsafeMutablePointer<UInt8>) {
        let f = shadingFrame()
        let look = style.look
        let w = width
        let buffer = shapes.shapes
        let tone = toneCurve
        let toneMax = Int32(SceneRenderer.toneSize - 1)
        let zebraCount = state.zebraCount
        let sunLight = look.sunColor * max(0, look.sunDirection.y)
        for v in 0..<height {
            let b = rowB[v]
            let dirY = b * f.up.y + f.forward.y
            let rowX = b * f.up.x + f.forward.x
            let rowZ = b * f.up.z + f.forward.z
            let rowT = dirY < 0 ? -f.mountHeight / dirY : Float.infinity
            let rowFog = fog(rowT)
            for u in 0..<w {
                let p = v * w + u
                let id = ids[p]
                let a = columnA[u]
                let color: SIMD3<Float>
                let label: UInt8
                if id >= 0 {
                    let shape = buffer[Int(id)]
                    let t = depth[p]
                    (color, label) = shadeShape(shape, t: t, a: a, b: b, look: look)
                } else if id == Background.ground {
                    let dx = a * f.right.x + rowX
                    let dz = a * f.right.z + rowZ
                    let x = rowT * dx, z = rowT * dz
                    var (albedo, groundLabel) = groundSurface(x: x, z: z, t: rowT, f: f, look: look,
                                                              zebraCount: zebraCount)
                    let occlusion = shadow[p]
                    albedo *= look.ambientColor * (0.5 + 0.5 * occlusion) + sunLight * occlusion
                    if look.headlightGain > 0 { albedo += albedo * headlight(a: a, b: b, t: rowT, gain: look.headlightGain) }
                    color = albedo + (look.fogColor - albedo) * rowFog
                    label = rowFog > SceneRenderer.fogHidesLabel ? ClassTable.ignore : groundLabel
                } else {
                    let dx = a * f.right.x + rowX
                    let dz = a * f.right.z + rowZ
                    (color, label) = shadeBackground(id, dx: dx, dy: dirY, dz: dz, f: f, look: look)
                }
                labels[p] = label
                let scaled = color * f.exposureScale
                let o = p * 3
                image[o] = tone[Int(min(toneMax, max(0, Int32(clampingFloat: scaled.x))))]
                image[o + 1] = tone[Int(min(toneMax, max(0, Int32(clampingFloat: scaled.y))))]
                image[o + 2] = tone[Int(min(toneMax, max(0, Int32(clampingFloat: scaled.z))))]
            }
        }
    }

    @inline(__always)
    func fog(_ t: Float) -> Float {
        let i = Int(Int32(clampingFloat: t * (1 / SceneRenderer.fogStep)))
        return fogTable[min(max(i, 0), SceneRenderer.fogSize - 1)]
    }

    @inline(__always)
    func headlight(a: Float, b: Float, t: Float, gain: Float) -> Float {
        let beam = expf(-a * a * 5 - (b + 0.05) * (b + 0.05) * 20)
        let reach = t / 28
        return gain * beam / (1 + reach * reach)
    }

    // MARK: ground

    @inline(__always)
    func groundSurface(x: Float, z: Float, t: Float, f: ShadingFrame, look: LookStyle,
                       zebraCount: Int) -> (SIMD3<Float>, UInt8) {
        // Centreline offset at this distance, from the per-frame table.
        let position = (z - SceneRenderer.curveStart) * (1 / SceneRenderer.curveStep)
        let clamped = min(max(position, 0), Float(curveCount - 2))
        let i = Int(clamped)
        let frac = clamped - Float(i)
        let centre = curveTable[i] + (curveTable[i + 1] - curveTable[i]) * frac
        let offset = x - centre
        var kind = groundTable.outerKind
        var wear: Float = 0
        if let index = groundTable.index(offset) {
            kind = groundTable.kinds[index]
            wear = groundTable.wear[index]
        }
        if f.crossCount > 0 {
            kind = crossStreetGround(kind, offset: offset, z: z, f: f)
        }
        if kind == .dashedLine {
            let s = z + f.dashPhase
            let m = s - (s / f.dashPeriod).rounded(.down) * f.dashPeriod
            if m >= f.dashLength { kind = .road }
        }
        if zebraCount > 0, kind.rawValue <= GroundKind.dashedLine.rawValue, offset > f.zebraLow, offset < f.zebraHigh {
            for k in 0..<zebraCount where z >= zebraStart[k] && z < zebraEnd[k] {
                let stripe = (offset - f.zebraLow) * 2
                kind = Int(stripe) & 1 == 0 ? .solidLine : .road
                break
            }
        }
        // Texture: coarse patches everywhere, fine grain fading out with distance.
        let cx = x * f.coarseScale + f.coarseX
        let cz = z * f.coarseScale + f.coarseZ
        let coarse = tileA.sample(cx, cz)
        let nearness = max(0, 1 - t * (1 / 35))
        let grain = nearness > 0 ? tileB.nearest(x * f.fineScale + f.fineX, z * f.fineScale + f.fineZ) * nearness : 0
        var albedo: SIMD3<Float>
        let label: UInt8
        switch kind {
        case .road, .parking:
            let tone: Float = kind == .parking ? 1.12 : 1
            albedo = look.asphalt * (tone * (1 + 0.28 * coarse + 0.22 * grain) * (1 - 0.22 * wear))
            if look.snowCover > 0 {
                let amount = look.snowCover * max(0, 1 - wear * 1.4) * min(1, max(0, 0.6 + coarse))
                albedo += (SIMD3(0.62, 0.63, 0.66) - albedo) * amount
            }
            label = ClassID.road
        case .solidLine, .dashedLine:
            albedo = look.markingPaint * (0.92 + 0.06 * coarse + 0.06 * grain)
            var markingLabel = ClassID.laneMarking
            if look.snowCover > 0 {
                // Snow hides paint outside the wheel tracks: fully hidden paint is road, half
                // hidden paint is genuinely ambiguous.
                let amount = look.snowCover * max(0, 1 - wear * 1.4) * min(1, max(0, 0.6 + coarse))
                albedo += (SIMD3(0.62, 0.63, 0.66) - albedo) * amount
                if amount > 0.6 { markingLabel = ClassID.road } else if amount > 0.3 { markingLabel = ClassTable.ignore }
            }
            label = markingLabel
        case .sidewalk:
            let zz = z + f.pavingPhase
            let jx = offset * 2 - (offset * 2).rounded(.down)
            let jz = zz * 2 - (zz * 2).rounded(.down)
            let joint: Float = (jx < 0.06 || jz < 0.06) && t < 40 ? 0.8 : 1
            albedo = look.paving * ((1 + 0.12 * coarse + 0.1 * grain) * joint)
            albedo = snow(albedo, look, coarse)
            label = ClassID.sidewalk
        case .curb:
            albedo = look.paving * (1.35 + 0.08 * grain)
            albedo = snow(albedo, look, coarse)
            label = ClassID.curb
        case .terrain:
            let dry = min(1, max(0, 0.5 + 0.9 * coarse))
            albedo = (look.grass + (look.dryGrass - look.grass) * dry) * (0.85 + 0.35 * grain)
            albedo = snow(albedo, look, coarse)
            label = ClassID.terrain
        case .gravel:
            albedo = SIMD3<Float>(0.2, 0.18, 0.15) * (1 + 0.2 * coarse + 0.35 * grain)
            albedo = snow(albedo, look, coarse)
            label = ClassID.terrain
        }
        return (albedo, label)
    }

    /// Ground where a side street crosses: road beyond the curbs, curbs closing the
    /// sidewalks, and a stop line on the ego side before the junction.
    @inline(__always)
    func crossStreetGround(_ kind: GroundKind, offset: Float, z: Float, f: ShadingFrame) -> GroundKind {
        let edge = f.carriagewayEdge
        let outside = abs(offset) > edge
        for k in 0..<f.crossCount {
            let start = crossStart[k], end = crossEnd[k]
            if outside {
                if z >= start && z < end { return .road }
                if (z >= start - 0.25 && z < start) || (z >= end && z < end + 0.25) {
                    return kind == .sidewalk || kind == .curb ? .curb : kind
                }
            } else if offset > 0.1 && offset < f.zebraHigh - 0.12 && z >= start - 2.5 && z < start - 2.1 {
                return .solidLine
            } else if offset < -0.1 && offset > f.zebraLow + 0.12 && z >= end + 2.1 && z < end + 2.5 {
                return .solidLine
            }
        }
        return kind
    }

    @inline(__always)
    func snow(_ albedo: SIMD3<Float>, _ look: LookStyle, _ noise: Float) -> SIMD3<Float> {
        guard look.snowCover > 0 else { return albedo }
        let amount = look.snowCover * min(1, max(0, 0.85 + 0.4 * noise))
        return albedo + (SIMD3(0.8, 0.82, 0.86) - albedo) * amount
    }

    // MARK: sky and horizon

    @inline(__always)
    func shadeBackground(_ id: Int32, dx: Float, dy: Float, dz: Float, f: ShadingFrame,
                         look: LookStyle) -> (SIMD3<Float>, UInt8) {
        switch id {
        case Background.farTerrain:
            let base = look.snowCover > 0 ? SIMD3<Float>(0.7, 0.72, 0.76) : look.grass * 1.2
            let lit = base * (look.ambientColor + look.sunColor * 0.5)
            return (lit + (look.fogColor - lit) * 0.6, ClassID.terrain)
        case Background.farTrees:
            let lit = look.foliage * (look.ambientColor + look.sunColor * 0.4)
            return (lit + (look.fogColor - lit) * 0.45, ClassID.vegetation)
        case Background.farBuildings:
            let lit = SIMD3<Float>(0.3, 0.3, 0.32) * (look.ambientColor + look.sunColor * 0.4)
            return (lit + (look.fogColor - lit) * 0.5, ClassID.building)
        default:
            let length = (dx * dx + dy * dy + dz * dz).squareRoot()
            let ny = dy / length
            let g = max(ny, 0).squareRoot()
            var color = look.skyHorizon + (look.skyZenith - look.skyHorizon) * min(1, g * 1.3)
            if look.cloudCover > 0, dy > 0.005 {
                let inv = 40 / dy
                let n = tileA.sample(dx * inv + f.cloudX, dz * inv + f.cloudZ)
                let cover = min(1, max(0, (0.5 + 0.5 * n - (1 - look.cloudCover)) * 3)) * min(1, ny * 10)
                color += (look.cloudColor - color) * cover
            }
            if !look.lightsOn {
                let direction = SIMD3(dx, dy, dz) / length
                let c = max(0, (direction * look.sunDirection).sum())
                let c2 = c * c, c4 = c2 * c2, c8 = c4 * c4, c16 = c8 * c8, c64 = c16 * c16 * c16 * c16
                color += look.sunColor * (c8 * 0.12 + c64 * c64 * 3)
            }
            return (color, ClassID.sky)
        }
    }

    // MARK: objects

    @inline(__always)
    func shadeShape(_ shape: SceneShape, t: Float, a: Float, b: Float, look: LookStyle) -> (SIMD3<Float>, UInt8) {
        let direction = shape.axisUp * b + shape.axisForward + shape.axisRight * a
        let q = shape.origin + direction * t
        let local = q * shape.half
        // Normal in the primitive's own axes.
        var n: SIMD3<Float>
        let m = SIMD3(abs(q.x), abs(q.y), abs(q.z))
        switch shape.kind {
        case .box:
            if m.x >= m.y && m.x >= m.z { n = SIMD3(q.x < 0 ? -1 : 1, 0, 0) }
            else if m.y >= m.z { n = SIMD3(0, q.y < 0 ? -1 : 1, 0) }
            else { n = SIMD3(0, 0, q.z < 0 ? -1 : 1) }
        case .ellipsoid:
            n = q / shape.half
        case .cylinderY:
            n = m.y > 0.999 ? SIMD3(0, q.y < 0 ? -1 : 1, 0) : SIMD3(q.x / shape.half.x, 0, q.z / shape.half.z)
        case .cylinderX:
            n = m.x > 0.999 ? SIMD3(q.x < 0 ? -1 : 1, 0, 0) : SIMD3(0, q.y / shape.half.y, q.z / shape.half.z)
        case .cone:
            n = m.y > 0.999 ? SIMD3(0, q.y < 0 ? -1 : 1, 0) : SIMD3(q.x / shape.half.x, 0.35 / shape.half.y, q.z / shape.half.z)
        }
        n /= (n * n).sum().squareRoot()
        let worldNormal = SIMD3<Float>(n.x * shape.cosYaw + n.z * shape.sinYaw, n.y, -n.x * shape.sinYaw + n.z * shape.cosYaw)
        var (albedo, emission) = surface(shape, q: q, local: local, n: n, look: look)
        if look.snowCover > 0, worldNormal.y > 0.6, shape.label != ClassID.person {
            albedo += (SIMD3(0.8, 0.82, 0.86) - albedo) * (look.snowCover * 0.85)
        }
        let sun = max(0, (worldNormal * look.sunDirection).sum())
        var light = look.ambientColor * (0.75 + 0.25 * worldNormal.y) + look.sunColor * sun
        if look.headlightGain > 0 { light += SIMD3(repeating: headlight(a: a, b: b, t: t, gain: look.headlightGain)) }
        let lit = albedo * light + emission
        let haze = fog(t)
        return (lit + (look.fogColor - lit) * haze, haze > SceneRenderer.fogHidesLabel ? ClassTable.ignore : shape.label)
    }

    /// Albedo and emitted light of a primitive's surface at unit-solid point `q`
    /// (local metres `local`, local normal `n`).
    @inline(__always)
    func surface(_ shape: SceneShape, q: SIMD3<Float>, local: SIMD3<Float>, n: SIMD3<Float>,
                 look: LookStyle) -> (SIMD3<Float>, SIMD3<Float>) {
        let zero = SIMD3<Float>(repeating: 0)
        let tagOffset = Float(shape.tag & 255)
        switch shape.material {
        case .plain, .cloth:
            let noise = tileB.nearest((local.x + local.z) * 24 + tagOffset, local.y * 24)
            return (shape.color * (0.92 + 0.08 * noise), zero)
        case .metal:
            let noise = tileB.nearest((local.x + local.z) * 10 + tagOffset, local.y * 10)
            return (shape.color * (0.9 + 0.1 * noise), zero)
        case .skin:
            // Hair on the upper back part of the head.
            if q.y > 0.35 || (q.y > -0.2 && q.z < -0.5) { return (SIMD3(0.04, 0.03, 0.02), zero) }
            return (shape.color, zero)
        case .facade:
            return facade(shape, q: q, local: local, n: n, look: look)
        case .carBody:
            return carBody(shape, q: q, n: n, look: look)
        case .glass:
            if n.y > 0.5 { return (shape.color, zero) }
            // Side windows run nearly the cabin's length; screens leave pillars and a roof edge.
            let across = abs(n.x) > 0.5 ? q.z : q.x
            let limit: Float = abs(n.x) > 0.5 ? 0.85 : 0.78
            if abs(across) < limit && q.y > -0.7 && q.y < 0.72 {
                return (SIMD3(0.03, 0.035, 0.045) + look.skyHorizon * 0.06, zero)
            }
            return (shape.color, zero)
        case .tire:
            if shape.kind == .cylinderX && abs(q.x) > 0.999 && q.y * q.y + q.z * q.z < 0.3 {
                return (SIMD3(0.25, 0.25, 0.26), zero)
            }
            return (shape.color, zero)
        case .foliage:
            let noise = tileB.sample((local.x + local.z * 0.7) * 6 + tagOffset, local.y * 6)
            let clumps = tileA.sample((local.x - local.z) * 1.5 + tagOffset, local.y * 1.5)
            let height = 0.7 + 0.3 * (q.y * 0.5 + 0.5)
            return (shape.color * ((0.55 + 0.35 * noise + 0.3 * clumps) * height), zero)
        case .bark:
            let noise = tileB.nearest(atan2f(q.x, q.z) * 8 + tagOffset, local.y * 3)
            return (shape.color * (0.85 + 0.2 * noise), zero)
        case .guardRail:
            let wave = cosf(q.y * 4.7)
            return (shape.color * (0.75 + 0.3 * wave), zero)
        case .signFace:
            return signFace(shape, q: q, local: local, n: n, look: look)
        case .coneStripes:
            if q.y >= 0 && q.y < 0.4 { return (SIMD3(0.8, 0.8, 0.8), zero) }
            return (shape.color, zero)
        case .barrierStripes:
            if abs(n.z) > 0.5 {
                let s = (local.x + local.y) * 2.5
                return (s - s.rounded(.down) < 0.5 ? shape.color : SIMD3(0.8, 0.8, 0.8), zero)
            }
            return (SIMD3(0.8, 0.8, 0.8), zero)
        case .fur:
            let noise = tileB.sample(local.x * 14 + local.z * 9 + tagOffset, local.y * 14)
            if shape.variant == 1 {
                let patch = tileA.sample((local.x + local.z) * 5 + 31, local.y * 5 + 17)
                if patch > 0.15 { return (SIMD3(0.02, 0.02, 0.02), zero) }
            }
            let belly: Float = q.y < -0.55 ? 1.6 : 1
            return (shape.color * ((0.85 + 0.25 * noise) * belly), zero)
        case .lamp:
            if look.lightsOn && n.y < -0.5 { return (shape.color, SIMD3(3.0, 2.4, 1.5)) }
            return (shape.color, zero)
        case .truckBox:
            let across = abs(n.x) > 0.5 ? local.z : local.x
            let r = across * 2 - (across * 2).rounded(.down)
            var color = shape.color * (r < 0.12 ? 0.85 : 1)
            if q.y < -0.85 { color *= 0.7 }
            if shape.tag & 3 == 0, abs(n.x) > 0.5, q.y > -0.4, q.y < 0.1, abs(q.z) < 0.8 {
                color = SIMD3(Float(shape.tag >> 8 & 255), Float(shape.tag >> 16 & 255), Float(shape.tag >> 24 & 255)) / 400
            }
            return (color, zero)
        case .headlight:
            return (shape.color, look.lightsOn ? SIMD3(4, 3.8, 3.2) : zero)
        case .taillight:
            return (shape.color, look.lightsOn ? SIMD3(1.6, 0.05, 0.03) : zero)
        }
    }

    @inline(__always)
    func facade(_ shape: SceneShape, q: SIMD3<Float>, local: SIMD3<Float>, n: SIMD3<Float>,
                look: LookStyle) -> (SIMD3<Float>, SIMD3<Float>) {
        let zero = SIMD3<Float>(repeating: 0)
        if n.y > 0.5 {
            let roof: SIMD3<Float> = shape.variant == 1 ? SIMD3(0.22, 0.08, 0.05) : SIMD3(0.16, 0.16, 0.17)
            return (roof, zero)
        }
        let along = abs(n.x) > 0.5 ? local.z + shape.half.z : local.x + shape.half.x
        let y = local.y + shape.half.y
        let tag = shape.tag
        let texture = 0.9 + 0.1 * tileB.nearest(along * 12 + Float(tag & 255), y * 12)
        let wall = shape.color * texture
        let floorHeight: Float, spacing: Float, windowWidth: Float, windowLow: Float, windowHigh: Float
        switch shape.variant {
        case 1: floorHeight = 2.9; spacing = 3.6; windowWidth = 0.3; windowLow = 0.35; windowHigh = 0.75
        case 2:
            // Industrial hall: ribbed cladding and one band of windows under the eaves.
            let rib = along * 2.5 - (along * 2.5).rounded(.down)
            let top = shape.half.y * 2
            if y > top - 1.6 && y < top - 0.8 && along * 0.25 - (along * 0.25).rounded(.down) > 0.2 {
                return (SIMD3(0.05, 0.06, 0.07) + look.skyHorizon * 0.05, zero)
            }
            return (wall * (rib < 0.15 ? 0.82 : 1), zero)
        default:
            floorHeight = 2.9 + Float(tag & 3) * 0.2
            spacing = 2.0 + Float(tag >> 2 & 3) * 0.45
            windowWidth = 0.3 + Float(tag >> 4 & 3) * 0.06
            windowLow = 0.3; windowHigh = 0.8
            if y < 3.4 {
                // Ground floor: shop windows and doors.
                let s = along / (spacing * 2)
                let fs = s - s.rounded(.down)
                if fs > 0.1 && fs < 0.9 && y > 0.3 && y < 2.7 {
                    return (SIMD3(0.03, 0.035, 0.04) + look.skyHorizon * 0.04,
                            look.lightsOn && (Int(s.rounded(.down)) & 1 == 0) ? SIMD3(0.5, 0.4, 0.25) : zero)
                }
                return (wall * 0.75, zero)
            }
        }
        let column = along / spacing
        let fc = column - column.rounded(.down)
        let level = (y - (shape.variant == 1 ? 0 : 3.4)) / floorHeight
        let fl = level - level.rounded(.down)
        if abs(fc - 0.5) < windowWidth, fl > windowLow, fl < windowHigh {
            let cell = UInt64(bitPattern: Int64(column.rounded(.down))) &* 31 &+ UInt64(bitPattern: Int64(level.rounded(.down)))
            let h = sceneHash(UInt64(tag), cell)
            let glass = SIMD3<Float>(0.035, 0.04, 0.05) + look.skyHorizon * (0.03 + 0.08 * Float(h & 7) / 7)
            let lit = look.lightsOn && h & 0x30 == 0
            return (glass, lit ? SIMD3(0.9, 0.7, 0.4) : zero)
        }
        if fl >= windowHigh && fl < windowHigh + 0.04 { return (wall * 0.8, zero) }
        return (wall, zero)
    }

    @inline(__always)
    func carBody(_ shape: SceneShape, q: SIMD3<Float>, n: SIMD3<Float>, look: LookStyle) -> (SIMD3<Float>, SIMD3<Float>) {
        let zero = SIMD3<Float>(repeating: 0)
        let glass = SIMD3<Float>(0.03, 0.035, 0.045) + look.skyHorizon * 0.06
        switch shape.variant {
        case 1:
            // Truck cab: windscreen and side windows in the upper front part.
            if n.z > 0.5 && q.y > 0.15 && abs(q.x) < 0.9 { return (glass, zero) }
            if abs(n.x) > 0.5 && q.y > 0.15 && q.z > 0.1 && q.y < 0.85 { return (glass, zero) }
            if q.y < -0.75 { return (shape.color * 0.4, zero) }
            return (shape.color, zero)
        case 2:
            // Bus: a window band along the sides, big windscreen and rear window.
            if abs(n.x) > 0.5 && q.y > -0.05 && q.y < 0.7 && abs(q.z) < 0.95 {
                let pane = (q.z + 1) * shape.half.z / 1.4
                if pane - pane.rounded(.down) > 0.08 { return (glass, look.lightsOn ? SIMD3(0.25, 0.25, 0.2) : zero) }
            }
            if abs(n.z) > 0.5 && q.y > -0.1 && q.y < 0.8 && abs(q.x) < 0.9 { return (glass, zero) }
            if q.y < -0.8 { return (shape.color * 0.4, zero) }
            return (shape.color, zero)
        default:
            if abs(n.z) > 0.5 && abs(q.x) < 0.2 && q.y > -0.4 && q.y < 0.0 {
                return (SIMD3(0.7, 0.7, 0.68), zero)  // number plate
            }
            if q.y < -0.45 && n.y < 0.5 { return (shape.color * 0.3 + SIMD3(0.01, 0.01, 0.01), zero) }
            if n.y > 0.5 { return (shape.color + look.skyHorizon * 0.05, zero) }
            return (shape.color, zero)
        }
    }

    @inline(__always)
    func signFace(_ shape: SceneShape, q: SIMD3<Float>, local: SIMD3<Float>, n: SIMD3<Float>,
                  look: LookStyle) -> (SIMD3<Float>, SIMD3<Float>) {
        let zero = SIMD3<Float>(repeating: 0)
        let white = SIMD3<Float>(0.75, 0.75, 0.75)
        let back = SIMD3<Float>(0.28, 0.29, 0.3)
        switch shape.variant {
        case 2, 3:
            // Discs: the front is the cap facing the oncoming view.
            guard shape.kind == .cylinderX, q.x > 0.999 else { return (back, zero) }
            let r2 = q.y * q.y + q.z * q.z
            if shape.variant == 2 {
                if r2 > 0.6 { return (SIMD3(0.55, 0.02, 0.02), zero) }
                let digit = abs(abs(q.z) - 0.22) < 0.14 && abs(q.y) < 0.32
                let hollow = abs(abs(q.z) - 0.22) < 0.06 && abs(q.y) < 0.2
                return (digit && !hollow ? SIMD3(0.02, 0.02, 0.02) : white, zero)
            }
            if r2 > 0.85 { return (white, zero) }
            let arrow = abs(q.z) < 0.12 && abs(q.y) < 0.55 || (q.y > 0.15 && abs(q.z) < 0.55 - (q.y - 0.15))
            return (arrow ? white : SIMD3(0.02, 0.1, 0.45), zero)
        case 5:
            guard n.z < -0.5 else { return (shape.color, zero) }
            for lamp in 0..<3 {
                let cy = Float(1 - lamp) * 0.28
                let dx = local.x, dy = local.y - cy
                if dx * dx + dy * dy < 0.01 {
                    let phase = Int(shape.tag % 3)
                    let on = lamp == phase
                    let colors: SIMD3<Float> = lamp == 0 ? SIMD3(0.9, 0.05, 0.02) : (lamp == 1 ? SIMD3(0.9, 0.6, 0.02) : SIMD3(0.05, 0.8, 0.3))
                    return (colors * 0.2, on ? colors * 2 : zero)
                }
            }
            return (shape.color, zero)
        default:
            guard n.z < -0.5 else { return (back, zero) }
            let border = abs(q.x) > 1 - 0.08 / shape.half.x || abs(q.y) > 1 - 0.08 / shape.half.y
            if border { return (white, zero) }
            switch shape.variant {
            case 1:
                let rowPos = (q.y + 1) * shape.half.y / 0.45
                let fr = rowPos - rowPos.rounded(.down)
                let line = Int(rowPos.rounded(.down))
                let lengthFraction = 0.3 + 0.6 * Float(sceneHash(UInt64(shape.tag), UInt64(line)) & 255) / 255
                if fr > 0.35 && fr < 0.7 && q.x > -0.85 && q.x < -0.85 + 1.7 * lengthFraction {
                    return (white, zero)
                }
                return (SIMD3(0.02, 0.22, 0.08), zero)
            case 4:
                return (abs(q.x) + abs(q.y) < 0.8 ? SIMD3(0.75, 0.55, 0.02) : white, zero)
            default:
                let bar = abs(q.x) < 0.15 && abs(q.y) < 0.55
                return (bar ? white : SIMD3(0.02, 0.1, 0.45), zero)
            }
        }
    }
}
