import Glibc

/// Builds the objects of the world out of primitives. Every object is built in its own
/// frame (`Placement`: origin on the ground, x right, y up, z forward) and writes its
/// parts straight into the frame's shape buffer.
enum ObjectBuilder {
    // Loops run over these instead of array literals, which could allocate per frame.
    static let bothSides: [Float] = [-1, 1]
    static let carColors: [SIMD3<Float>] = [
        SIMD3(0.6, 0.6, 0.62), SIMD3(0.02, 0.02, 0.025), SIMD3(0.75, 0.75, 0.76), SIMD3(0.3, 0.31, 0.33),
        SIMD3(0.45, 0.03, 0.02), SIMD3(0.03, 0.08, 0.3), SIMD3(0.12, 0.13, 0.15), SIMD3(0.05, 0.18, 0.1),
        SIMD3(0.55, 0.42, 0.25), SIMD3(0.02, 0.25, 0.45), SIMD3(0.7, 0.68, 0.6), SIMD3(0.25, 0.02, 0.04),
    ]
    static let truckColors: [SIMD3<Float>] = [
        SIMD3(0.8, 0.8, 0.8), SIMD3(0.5, 0.02, 0.02), SIMD3(0.05, 0.1, 0.35), SIMD3(0.75, 0.6, 0.05),
        SIMD3(0.85, 0.85, 0.83), SIMD3(0.1, 0.3, 0.1), SIMD3(0.2, 0.2, 0.22), SIMD3(0.9, 0.9, 0.9),
    ]
    static let facadeColors: [SIMD3<Float>] = [
        SIMD3(0.55, 0.5, 0.42), SIMD3(0.45, 0.3, 0.22), SIMD3(0.62, 0.6, 0.55), SIMD3(0.35, 0.33, 0.32),
        SIMD3(0.6, 0.48, 0.32), SIMD3(0.5, 0.2, 0.14), SIMD3(0.7, 0.68, 0.62), SIMD3(0.4, 0.42, 0.45),
        SIMD3(0.55, 0.55, 0.5), SIMD3(0.28, 0.25, 0.24),
    ]
    static let clothColors: [SIMD3<Float>] = [
        SIMD3(0.02, 0.02, 0.03), SIMD3(0.05, 0.07, 0.2), SIMD3(0.35, 0.04, 0.03), SIMD3(0.25, 0.25, 0.26),
        SIMD3(0.6, 0.58, 0.55), SIMD3(0.08, 0.2, 0.1), SIMD3(0.4, 0.3, 0.15), SIMD3(0.12, 0.1, 0.08),
        SIMD3(0.6, 0.35, 0.05), SIMD3(0.3, 0.05, 0.25),
    ]
    static let skinColors: [SIMD3<Float>] = [
        SIMD3(0.6, 0.4, 0.3), SIMD3(0.45, 0.28, 0.18), SIMD3(0.25, 0.14, 0.08), SIMD3(0.7, 0.5, 0.4),
    ]

    @inline(__always)
    static func part(_ out: ShapeBuffer, _ kind: ShapeKind, _ p: Placement, at local: SIMD3<Float>,
                     half: SIMD3<Float>, color: SIMD3<Float>, label: UInt8, material: Material,
                     variant: UInt8 = 0, param: Float = 1, tag: UInt32 = 0) {
        var s = SceneShape()
        s.center = p.world(local)
        s.half = half
        s.cosYaw = p.cosYaw
        s.sinYaw = p.sinYaw
        s.color = color
        s.kind = kind
        s.label = label
        s.material = material
        s.variant = variant
        s.param = param
        s.tag = tag
        out.append(s)
    }

    /// A shadow under an object of the given footprint and height.
    @inline(__always)
    static func shadow(_ out: ShapeBuffer, _ p: Placement, halfX: Float, halfZ: Float, height: Float,
                       strength: Float = 0.7) {
        out.append(ShadowDecal(center: p.origin, cosYaw: p.cosYaw, sinYaw: p.sinYaw, halfX: halfX, halfZ: halfZ,
                               height: height, strength: strength))
    }

    // MARK: vehicles

    /// A passenger car (sedan, hatchback, SUV or van) standing on the ground, facing +z.
    static func car(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, label: UInt8 = ClassID.car,
                    detail: Bool) {
        let style = rng.below(4)
        let color = carColors[rng.below(carColors.count)]
        let tag = UInt32(truncatingIfNeeded: rng.next())
        var length = Float(rng.uniform(4.0, 4.8)), width = Float(rng.uniform(1.72, 1.9))
        var bodyTop: Float = 1.0, roof: Float = 1.45, cabinLength: Float = 0.55, cabinShift: Float = -0.05
        switch style {
        case 1: length -= 0.5; roof = 1.5; cabinLength = 0.62; cabinShift = -0.1  // hatchback
        case 2: bodyTop = 1.15; roof = 1.72; width += 0.08; cabinLength = 0.62; cabinShift = -0.08  // SUV
        case 3: length += 0.2; bodyTop = 1.1; roof = 2.0; width += 0.1; cabinLength = 0.8; cabinShift = -0.08  // van
        default: break
        }
        let clearance: Float = 0.28
        shadow(out, p, halfX: width / 2 + 0.15, halfZ: length / 2 + 0.15, height: roof)
        part(out, .box, p, at: SIMD3(0, (clearance + bodyTop) / 2, 0),
             half: SIMD3(width / 2, (bodyTop - clearance) / 2, length / 2),
             color: color, label: label, material: .carBody, tag: tag)
        part(out, .box, p, at: SIMD3(0, (bodyTop + roof) / 2, cabinShift * length),
             half: SIMD3(width / 2 * 0.9, (roof - bodyTop) / 2, length * cabinLength / 2),
             color: color, label: label, material: .glass, tag: tag)
        guard detail else { return }
        let wheel: Float = 0.32
        for side in bothSides {
            for axle in bothSides {
                part(out, .cylinderX, p, at: SIMD3(side * (width / 2 - 0.13), wheel, axle * length * 0.33),
                     half: SIMD3(0.12, wheel, wheel), color: SIMD3(0.02, 0.02, 0.02), label: label, material: .tire)
            }
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.22), bodyTop - 0.2, -length / 2 - 0.01),
                 half: SIMD3(0.16, 0.06, 0.02), color: SIMD3(0.5, 0.02, 0.02), label: label, material: .taillight)
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.22), bodyTop - 0.25, length / 2 + 0.01),
                 half: SIMD3(0.15, 0.05, 0.02), color: SIMD3(0.8, 0.8, 0.75), label: label, material: .headlight)
        }
    }

    /// A truck (semi-trailer or box truck) or, in towns, a bus; all carry the truck label.
    static func truck(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, bus: Bool, detail: Bool,
                      label: UInt8 = ClassID.truck) -> Float {
        let tag = UInt32(truncatingIfNeeded: rng.next())
        let width: Float = 2.5
        if bus {
            let length = Float(rng.uniform(11, 13))
            let color = truckColors[rng.below(truckColors.count)]
            shadow(out, p, halfX: width / 2 + 0.15, halfZ: length / 2 + 0.15, height: 3.1)
            part(out, .box, p, at: SIMD3(0, 1.75, 0), half: SIMD3(width / 2, 1.4, length / 2),
                 color: color, label: label, material: .carBody, variant: 2, tag: tag)
            if detail { wheels(out, p, width: width, radius: 0.5, axles: SIMD8(-length * 0.3, length * 0.3, 0, 0, 0, 0, 0, 0), count: 2, label: label) }
            lights(out, p, width: width, length: length, height: 1.0, label: label)
            return length
        }
        let semi = rng.chance(0.7)
        let cabColor = truckColors[rng.below(truckColors.count)]
        let boxColor = rng.chance(0.5) ? SIMD3<Float>(0.82, 0.82, 0.8) : truckColors[rng.below(truckColors.count)]
        let cabLength: Float = 2.3
        let boxLength: Float = semi ? Float(rng.uniform(12.5, 13.6)) : Float(rng.uniform(5.5, 7.5))
        let total = cabLength + 0.5 + boxLength
        let front = total / 2
        let cabTop: Float = semi ? 3.6 : 3.1
        shadow(out, p, halfX: width / 2 + 0.15, halfZ: total / 2 + 0.15, height: semi ? 4 : 3.4)
        part(out, .box, p, at: SIMD3(0, (0.5 + cabTop) / 2, front - cabLength / 2),
             half: SIMD3(width / 2, (cabTop - 0.5) / 2, cabLength / 2),
             color: cabColor, label: label, material: .carBody, variant: 1, tag: tag)
        let boxBottom: Float = semi ? 1.2 : 1.0
        let boxTop: Float = semi ? 4.0 : 3.4
        part(out, .box, p, at: SIMD3(0, (boxBottom + boxTop) / 2, front - cabLength - 0.5 - boxLength / 2),
             half: SIMD3(width / 2 + 0.03, (boxTop - boxBottom) / 2, boxLength / 2),
             color: boxColor, label: label, material: .truckBox, tag: tag)
        part(out, .box, p, at: SIMD3(0, 0.75, 0), half: SIMD3(width / 2 - 0.3, 0.22, total / 2 - 0.3),
             color: SIMD3(0.03, 0.03, 0.03), label: label, material: .metal)
        if detail {
            let rear = -total / 2
            if semi {
                wheels(out, p, width: width, radius: 0.52,
                       axles: SIMD8(front - 1.2, front - cabLength - 0.2, rear + 1.2, rear + 2.5, rear + 3.8, 0, 0, 0),
                       count: 5, label: label)
            } else {
                wheels(out, p, width: width, radius: 0.5, axles: SIMD8(front - 1.2, rear + 1.5, 0, 0, 0, 0, 0, 0),
                       count: 2, label: label)
            }
        }
        lights(out, p, width: width, length: total, height: 0.9, label: label)
        return total
    }

    private static func wheels(_ out: ShapeBuffer, _ p: Placement, width: Float, radius: Float, axles: SIMD8<Float>,
                               count: Int, label: UInt8) {
        for axle in 0..<count {
            let z = axles[axle]
            for side in bothSides {
                part(out, .cylinderX, p, at: SIMD3(side * (width / 2 - 0.15), radius, z),
                     half: SIMD3(0.16, radius, radius), color: SIMD3(0.02, 0.02, 0.02), label: label, material: .tire)
            }
        }
    }

    private static func lights(_ out: ShapeBuffer, _ p: Placement, width: Float, length: Float, height: Float,
                               label: UInt8) {
        for side in bothSides {
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.25), height, -length / 2 - 0.02),
                 half: SIMD3(0.15, 0.08, 0.02), color: SIMD3(0.5, 0.02, 0.02), label: label, material: .taillight)
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.3), height - 0.1, length / 2 + 0.02),
                 half: SIMD3(0.18, 0.08, 0.02), color: SIMD3(0.8, 0.8, 0.75), label: label, material: .headlight)
        }
    }

    // MARK: people

    /// A pedestrian facing +z; `phase` animates the gait (0 = standing).
    static func person(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, phase: Float, walking: Bool,
                       label: UInt8 = ClassID.person) {
        let height = Float(rng.uniform(1.55, 1.92))
        let shirt = clothColors[rng.below(clothColors.count)]
        let trousers = clothColors[rng.below(clothColors.count)]
        let skin = skinColors[rng.below(skinColors.count)]
        let legTop = height * 0.47
        shadow(out, p, halfX: 0.35, halfZ: 0.3, height: height, strength: 0.55)
        let swing: Float = walking ? 0.16 * sinf(phase) : 0
        for side in bothSides {
            part(out, .box, p, at: SIMD3(side * 0.09, legTop / 2, side * swing),
                 half: SIMD3(0.075, legTop / 2, 0.085), color: trousers, label: label, material: .cloth)
            part(out, .box, p, at: SIMD3(side * 0.25, height * 0.64, -side * swing * 0.8),
                 half: SIMD3(0.05, height * 0.16, 0.06), color: shirt, label: label, material: .cloth)
        }
        part(out, .box, p, at: SIMD3(0, height * 0.635, 0), half: SIMD3(0.2, height * 0.165, 0.12),
             color: shirt, label: label, material: .cloth)
        part(out, .ellipsoid, p, at: SIMD3(0, height * 0.9, 0), half: SIMD3(0.095, height * 0.075, 0.105),
             color: skin, label: label, material: .skin)
    }

    // MARK: vegetation and furniture

    /// A deciduous or coniferous tree; trunks carry the vegetation label as in Cityscapes.
    static func tree(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, foliage: SIMD3<Float>,
                     height: Float) {
        let tag = UInt32(truncatingIfNeeded: rng.next())
        let shade = Float(rng.uniform(0.75, 1.25))
        let trunkRadius = max(0.08, height * 0.022)
        shadow(out, p, halfX: height * 0.3, halfZ: height * 0.3, height: height * 0.5, strength: 0.45)
        if rng.chance(0.3) {
            part(out, .cylinderY, p, at: SIMD3(0, height * 0.15, 0), half: SIMD3(trunkRadius, height * 0.15, trunkRadius),
                 color: SIMD3(0.1, 0.06, 0.035), label: ClassID.vegetation, material: .bark)
            part(out, .cone, p, at: SIMD3(0, height * 0.58, 0), half: SIMD3(height * 0.2, height * 0.42, height * 0.2),
                 color: foliage * shade * SIMD3(0.8, 0.9, 0.9), label: ClassID.vegetation, material: .foliage,
                 param: 0.06, tag: tag)
            return
        }
        part(out, .cylinderY, p, at: SIMD3(0, height * 0.25, 0), half: SIMD3(trunkRadius, height * 0.25, trunkRadius),
             color: SIMD3(0.12, 0.08, 0.05), label: ClassID.vegetation, material: .bark)
        let crown = height * Float(rng.uniform(0.26, 0.36))
        part(out, .ellipsoid, p, at: SIMD3(0, height - crown * 1.05, 0), half: SIMD3(crown, crown * 1.1, crown),
             color: foliage * shade, label: ClassID.vegetation, material: .foliage, tag: tag)
        if rng.chance(0.6) {
            let dx = Float(rng.uniform(-0.6, 0.6)) * crown
            part(out, .ellipsoid, p, at: SIMD3(dx, height - crown * 1.6, Float(rng.uniform(-0.5, 0.5)) * crown),
                 half: SIMD3(crown * 0.8, crown * 0.75, crown * 0.8),
                 color: foliage * shade * 0.9, label: ClassID.vegetation, material: .foliage, tag: tag &+ 7)
        }
    }

    static func bush(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, foliage: SIMD3<Float>) {
        let r = Float(rng.uniform(0.5, 1.4))
        shadow(out, p, halfX: r * 1.5, halfZ: r * 1.2, height: r, strength: 0.5)
        part(out, .ellipsoid, p, at: SIMD3(0, r * 0.55, 0), half: SIMD3(r * 1.3, r * 0.8, r),
             color: foliage * Float(rng.uniform(0.8, 1.3)), label: ClassID.vegetation, material: .foliage,
             tag: UInt32(truncatingIfNeeded: rng.next()))
    }

    /// A street or motorway lamp; the arm reaches towards the road (`towardsRoad` = -1 or 1 in x).
    static func lamp(_ out: ShapeBuffer, _ p: Placement, height: Float, towardsRoad: Float, double: Bool) {
        let grey = SIMD3<Float>(0.32, 0.33, 0.34)
        part(out, .cylinderY, p, at: SIMD3(0, height / 2, 0), half: SIMD3(0.09, height / 2, 0.09),
             color: grey, label: ClassID.pole, material: .metal)
        for side in bothSides where double || side == towardsRoad {
            part(out, .box, p, at: SIMD3(side * 0.8, height - 0.05, 0), half: SIMD3(0.8, 0.05, 0.05),
                 color: grey, label: ClassID.pole, material: .metal)
            part(out, .box, p, at: SIMD3(side * 1.5, height - 0.14, 0), half: SIMD3(0.3, 0.06, 0.14),
                 color: SIMD3(0.6, 0.6, 0.55), label: ClassID.pole, material: .lamp)
        }
    }

    /// A roadside sign on one or two posts; the face looks towards -z (oncoming view).
    static func sign(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom, large: Bool) {
        let grey = SIMD3<Float>(0.35, 0.36, 0.37)
        if large {
            let width = Float(rng.uniform(2.2, 4.0)), height = Float(rng.uniform(1.4, 2.4))
            let bottom: Float = 1.8
            for side in bothSides {
                part(out, .cylinderY, p, at: SIMD3(side * width * 0.3, (bottom + height) / 2, 0.06),
                     half: SIMD3(0.06, (bottom + height) / 2, 0.06), color: grey, label: ClassID.pole, material: .metal)
            }
            part(out, .box, p, at: SIMD3(0, bottom + height / 2, 0), half: SIMD3(width / 2, height / 2, 0.04),
                 color: SIMD3(0.02, 0.2, 0.08), label: ClassID.trafficSign, material: .signFace,
                 variant: rng.chance(0.6) ? 1 : 0, tag: UInt32(truncatingIfNeeded: rng.next()))
            return
        }
        let postHeight = Float(rng.uniform(2.0, 2.6))
        part(out, .cylinderY, p, at: SIMD3(0, postHeight / 2, 0.05), half: SIMD3(0.04, postHeight / 2, 0.04),
             color: grey, label: ClassID.pole, material: .metal)
        let design = rng.below(4)
        if design < 2 {
            // Round sign: a thin cylinder whose axis points along the road.
            part(out, .cylinderX, p.turned(by: Float.pi / 2), at: SIMD3(0, postHeight + 0.3, 0),
                 half: SIMD3(0.025, 0.32, 0.32), color: SIMD3(0.6, 0.6, 0.6), label: ClassID.trafficSign,
                 material: .signFace, variant: UInt8(2 + design))
        } else {
            part(out, .box, p, at: SIMD3(0, postHeight + 0.3, 0), half: SIMD3(0.3, 0.3, 0.02),
                 color: SIMD3(0.02, 0.12, 0.45), label: ClassID.trafficSign, material: .signFace,
                 variant: design == 2 ? 0 : 4)
        }
    }

    /// A gantry across the carriageway (from `left` to `right` in x) with overhead signs.
    static func gantry(_ out: ShapeBuffer, _ p: Placement, left: Float, right: Float, _ rng: inout SceneRandom) {
        let grey = SIMD3<Float>(0.4, 0.41, 0.42)
        let top: Float = 7
        for side in bothSides {
            let x = side < 0 ? left : right
            part(out, .box, p, at: SIMD3(x, top / 2, 0), half: SIMD3(0.18, top / 2, 0.18),
                 color: grey, label: ClassID.pole, material: .metal)
        }
        part(out, .box, p, at: SIMD3((left + right) / 2, top - 0.3, 0), half: SIMD3((right - left) / 2, 0.25, 0.3),
             color: grey, label: ClassID.pole, material: .metal)
        let signs = 1 + rng.below(3)
        let span = (right - left) / Float(signs)
        for i in 0..<signs {
            let cx = left + span * (Float(i) + 0.5)
            part(out, .box, p, at: SIMD3(cx, top - 1.4, -0.4), half: SIMD3(span * 0.4, 1.0, 0.05),
                 color: SIMD3(0.02, 0.2, 0.08), label: ClassID.trafficSign, material: .signFace, variant: 1,
                 tag: UInt32(truncatingIfNeeded: rng.next()))
        }
    }

    /// A traffic light on a post, housing facing -z.
    static func trafficLight(_ out: ShapeBuffer, _ p: Placement) {
        part(out, .cylinderY, p, at: SIMD3(0, 1.6, 0.1), half: SIMD3(0.06, 1.6, 0.06),
             color: SIMD3(0.2, 0.2, 0.2), label: ClassID.pole, material: .metal)
        part(out, .box, p, at: SIMD3(0, 3.55, 0), half: SIMD3(0.17, 0.45, 0.12),
             color: SIMD3(0.03, 0.03, 0.03), label: ClassID.trafficSign, material: .signFace, variant: 5)
    }

    /// A guard rail beam of `length` along z at `x`, with posts behind it on the far side.
    static func guardRail(_ out: ShapeBuffer, _ p: Placement, x: Float, length: Float, postSide: Float, posts: Bool) {
        let steel = SIMD3<Float>(0.42, 0.43, 0.44)
        part(out, .box, p, at: SIMD3(x, 0.62, 0), half: SIMD3(0.05, 0.17, length / 2),
             color: steel, label: ClassID.guardRail, material: .guardRail)
        guard posts else { return }
        var z = -length / 2 + 1
        while z < length / 2 {
            part(out, .box, p, at: SIMD3(x + postSide * 0.12, 0.37, z), half: SIMD3(0.06, 0.37, 0.05),
                 color: steel * 0.8, label: ClassID.guardRail, material: .metal)
            z += 4
        }
    }

    /// A building block of `frontage` along z and `depth` away from the road (side = -1 left, 1 right).
    static func building(_ out: ShapeBuffer, _ p: Placement, frontage: Float, depth: Float, height: Float,
                         side: Float, _ rng: inout SceneRandom, style: UInt8) {
        let color = facadeColors[rng.below(facadeColors.count)] * Float(rng.uniform(0.85, 1.15))
        let tag = UInt32(truncatingIfNeeded: rng.next())
        part(out, .box, p, at: SIMD3(side * depth / 2, height / 2, 0), half: SIMD3(depth / 2, height / 2, frontage / 2),
             color: color, label: ClassID.building, material: .facade, variant: style, tag: tag)
        if rng.chance(0.3) {
            // Roof structure (stair house, plant room).
            let w = Float(rng.uniform(2, 4)), h = Float(rng.uniform(1.5, 3))
            part(out, .box, p, at: SIMD3(side * depth * 0.6, height + h / 2, 0), half: SIMD3(w, h / 2, min(w, frontage / 2)),
                 color: color * 0.8, label: ClassID.building, material: .plain, tag: tag)
        }
    }

    // MARK: unknown objects (ambiguous domain only)

    /// A traffic cone.
    static func trafficCone(_ out: ShapeBuffer, _ p: Placement) {
        part(out, .box, p, at: SIMD3(0, 0.02, 0), half: SIMD3(0.2, 0.02, 0.2), color: SIMD3(0.05, 0.05, 0.05),
             label: ClassID.unknown, material: .plain)
        part(out, .cone, p, at: SIMD3(0, 0.4, 0), half: SIMD3(0.17, 0.36, 0.17), color: SIMD3(0.9, 0.15, 0.01),
             label: ClassID.unknown, material: .coneStripes, param: 0.15)
    }

    /// A striped road-works barrier board on feet.
    static func barrier(_ out: ShapeBuffer, _ p: Placement, width: Float) {
        part(out, .box, p, at: SIMD3(0, 0.75, 0), half: SIMD3(width / 2, 0.22, 0.03), color: SIMD3(0.7, 0.02, 0.02),
             label: ClassID.unknown, material: .barrierStripes)
        for side in bothSides {
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.1), 0.3, 0), half: SIMD3(0.04, 0.3, 0.04),
                 color: SIMD3(0.8, 0.8, 0.8), label: ClassID.unknown, material: .plain)
            part(out, .box, p, at: SIMD3(side * (width / 2 - 0.1), 0.05, 0), half: SIMD3(0.1, 0.05, 0.35),
                 color: SIMD3(0.05, 0.05, 0.05), label: ClassID.unknown, material: .plain)
        }
    }

    /// A deer (variant 0) or a cow (variant 1), facing +z.
    static func animal(_ out: ShapeBuffer, _ p: Placement, cow: Bool, phase: Float) {
        let label = ClassID.unknown
        let coat: SIMD3<Float> = cow ? SIMD3(0.7, 0.68, 0.62) : SIMD3(0.3, 0.16, 0.07)
        let bodyLength: Float = cow ? 1.1 : 0.65
        let bodyHeight: Float = cow ? 1.15 : 0.95
        let bodyRadius: Float = cow ? 0.38 : 0.24
        let legX: Float = cow ? 0.2 : 0.12
        let legRadius: Float = cow ? 0.07 : 0.035
        shadow(out, p, halfX: bodyRadius + 0.2, halfZ: bodyLength + 0.3, height: bodyHeight, strength: 0.6)
        part(out, .ellipsoid, p, at: SIMD3(0, bodyHeight, 0), half: SIMD3(bodyRadius, bodyRadius * 1.05, bodyLength),
             color: coat, label: label, material: .fur, variant: cow ? 1 : 0)
        let legTop = bodyHeight - bodyRadius * 0.4
        for (i, end) in bothSides.enumerated() {
            let z = -end * bodyLength * 0.7
            for side in bothSides {
                let swing = 0.06 * sinf(phase + Float(i) * 3.1 + side * 1.5)
                part(out, .cylinderY, p, at: SIMD3(side * legX, legTop / 2, z + swing),
                     half: SIMD3(legRadius, legTop / 2, legRadius), color: coat * 0.7, label: label, material: .fur)
            }
        }
        let neckZ = bodyLength * 0.95
        part(out, .ellipsoid, p, at: SIMD3(0, bodyHeight + (cow ? 0.15 : 0.35), neckZ),
             half: SIMD3(0.12, cow ? 0.22 : 0.32, 0.14), color: coat, label: label, material: .fur, variant: cow ? 1 : 0)
        part(out, .ellipsoid, p, at: SIMD3(0, bodyHeight + (cow ? 0.2 : 0.65), neckZ + (cow ? 0.35 : 0.18)),
             half: SIMD3(cow ? 0.16 : 0.09, cow ? 0.17 : 0.1, cow ? 0.28 : 0.2), color: coat * 0.85, label: label,
             material: .fur)
        if !cow {
            for side in bothSides {
                part(out, .box, p, at: SIMD3(side * 0.1, bodyHeight + 0.88, neckZ + 0.1),
                     half: SIMD3(0.015, 0.16, 0.015), color: SIMD3(0.25, 0.2, 0.15), label: label, material: .plain)
            }
        }
    }

    /// A farm tractor with large rear wheels, facing +z.
    static func tractor(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom) {
        let label = ClassID.unknown
        let paint: SIMD3<Float> = rng.chance(0.5) ? SIMD3(0.05, 0.3, 0.04) : SIMD3(0.5, 0.04, 0.02)
        shadow(out, p, halfX: 1.4, halfZ: 2.2, height: 2.8)
        part(out, .box, p, at: SIMD3(0, 1.1, 0.6), half: SIMD3(0.5, 0.45, 1.1), color: paint, label: label,
             material: .plain)
        part(out, .box, p, at: SIMD3(0, 2.0, -0.6), half: SIMD3(0.75, 0.75, 0.7), color: SIMD3(0.3, 0.35, 0.4),
             label: label, material: .glass, tag: 1)
        part(out, .box, p, at: SIMD3(0, 2.8, -0.6), half: SIMD3(0.8, 0.05, 0.8), color: paint, label: label,
             material: .plain)
        for side in bothSides {
            part(out, .cylinderX, p, at: SIMD3(side * 0.95, 0.8, -0.7), half: SIMD3(0.28, 0.8, 0.8),
                 color: SIMD3(0.03, 0.03, 0.03), label: label, material: .tire)
            part(out, .cylinderX, p, at: SIMD3(side * 0.75, 0.45, 1.3), half: SIMD3(0.18, 0.45, 0.45),
                 color: SIMD3(0.03, 0.03, 0.03), label: label, material: .tire)
        }
    }

    /// Lost cargo: a pile of crates or tyres.
    static func debris(_ out: ShapeBuffer, _ p: Placement, _ rng: inout SceneRandom) {
        let label = ClassID.unknown
        let count = 1 + rng.below(3)
        for i in 0..<count {
            let local = SIMD3<Float>(Float(rng.uniform(-0.8, 0.8)), 0, Float(rng.uniform(-0.8, 0.8)))
            if rng.chance(0.6) {
                let s = Float(rng.uniform(0.3, 0.6))
                part(out, .box, p.turned(by: Float(rng.uniform(-0.8, 0.8))), at: local + SIMD3(0, s + Float(i) * 0.05, 0),
                     half: SIMD3(s, s, s * 1.2), color: SIMD3(0.45, 0.3, 0.12), label: label, material: .bark)
            } else {
                part(out, .cylinderY, p, at: local + SIMD3(0, 0.12, 0), half: SIMD3(0.36, 0.12, 0.36),
                     color: SIMD3(0.03, 0.03, 0.03), label: label, material: .tire)
            }
        }
    }
}
