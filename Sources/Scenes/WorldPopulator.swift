import Glibc

/// Where the camera is in the world for one frame (metres; heading in radians from +z).
struct CameraPose {
    var x: Double
    var z: Double
    var yaw: Double
}

/// A box placed by hand (tests): bottom on the ground, centred at `lateral` metres from the
/// road's centreline, `distance` metres along the road, aligned with the road.
struct PlacedBox {
    var lateral: Double
    var distance: Double
    var halfExtents: SIMD3<Float>
    var label: UInt8
    var color: SIMD3<Float> = SIMD3(0.5, 0.5, 0.5)
}

/// Fills a frame's shape buffer with the objects near the camera. The world is cut into
/// 20 m segments along the road; each segment's content comes from a hash of (seed,
/// segment), and moving things (traffic, walkers) live in segments of their own moving
/// frame, so any frame can be generated without generating the ones before it.
final class WorldPopulator {
    static let segmentLength = 20.0
    static let trafficSlot = 40.0
    static let walkerSlot = 10.0

    let style: SceneStyle
    private let base: UInt64
    /// Objects further ahead than this are not generated.
    let viewDistance: Double
    let behind = 30.0
    var populate = true
    var placedBoxes: [PlacedBox] = []

    init(style: SceneStyle, seed: UInt64, domain: SceneDomain) {
        self.style = style
        base = sceneHash(seed, UInt64(domain.hashSalt))
        viewDistance = style.layout.kind == .urban ? 220 : 260
    }

    // MARK: road geometry

    /// Object frame standing on the road at lateral offset `d`, distance `z`, aligned with the road.
    @inline(__always)
    func placement(_ d: Double, _ z: Double, _ pose: CameraPose) -> Placement {
        let slope = style.curve.slope(at: z)
        let norm = 1 / (1 + slope * slope).squareRoot()
        return Placement(origin: SIMD3(Float(style.curve.x(at: z) + d - pose.x), 0, Float(z - pose.z)),
                         cosYaw: Float(norm), sinYaw: Float(slope * norm))
    }

    /// The zebra crossing of a segment, if it has one: [start, end) in world z.
    func zebraCrossing(segment k: Int) -> (start: Double, end: Double)? {
        guard populate, style.population.zebraChance > 0 else { return nil }
        var rng = SceneRandom(sceneHash(base, SceneSalt.zebra.rawValue, index: k))
        guard rng.chance(style.population.zebraChance) else { return nil }
        let start = Double(k) * WorldPopulator.segmentLength + rng.uniform(4, 12)
        if let street = crossStreet(segment: k), start < street.end + 2, start + 4 > street.start - 2 { return nil }
        return (start, start + 4)
    }

    /// The side street crossing a segment, if it has one: [start, end) in world z.
    func crossStreet(segment k: Int) -> (start: Double, end: Double)? {
        guard populate, style.population.crossStreetChance > 0, style.layout.carriagewayEdge > 0 else { return nil }
        var rng = SceneRandom(sceneHash(base, SceneSalt.crossStreet.rawValue, index: k))
        guard rng.chance(style.population.crossStreetChance) else { return nil }
        let width = rng.uniform(9, 13)
        let start = Double(k) * WorldPopulator.segmentLength + rng.uniform(1, WorldPopulator.segmentLength - width - 1)
        return (start, start + width)
    }

    private func inCrossStreet(_ z: Double, margin: Double) -> Bool {
        let k = Int((z / WorldPopulator.segmentLength).rounded(.down))
        for segment in (k - 1)...(k + 1) {
            if let street = crossStreet(segment: segment),
               z > street.start - margin, z < street.end + margin { return true }
        }
        return false
    }

    private func inZebra(_ z: Double, margin: Double) -> Bool {
        let k = Int((z / WorldPopulator.segmentLength).rounded(.down))
        for segment in (k - 1)...(k + 1) {
            if let crossing = zebraCrossing(segment: segment),
               z > crossing.start - margin, z < crossing.end + margin { return true }
            if let street = crossStreet(segment: segment),
               z > street.start - margin, z < street.end + margin { return true }
        }
        return false
    }

    // MARK: frame

    func populate(_ out: ShapeBuffer, pose: CameraPose, time: Double) {
        out.removeAll()
        for box in placedBoxes {
            let p = placement(box.lateral, box.distance, pose)
            ObjectBuilder.part(out, .box, p, at: SIMD3(0, box.halfExtents.y, 0), half: box.halfExtents,
                               color: box.color, label: box.label, material: .plain)
        }
        guard populate else { return }
        let length = WorldPopulator.segmentLength
        let first = Int(((pose.z - behind) / length).rounded(.down))
        let last = Int(((pose.z + viewDistance) / length).rounded(.down))
        for k in first...last {
            staticSegment(out, k, pose: pose)
        }
        traffic(out, pose: pose, time: time)
        walkers(out, pose: pose, time: time)
    }

    // MARK: static content

    private func staticSegment(_ out: ShapeBuffer, _ k: Int, pose: CameraPose) {
        let layout = style.layout
        let pop = style.population
        let look = style.look
        let length = WorldPopulator.segmentLength
        let z0 = Double(k) * length
        let distance = z0 - pose.z
        let detail = distance < 110
        var rng = SceneRandom(sceneHash(base, SceneSalt.staticSegment.rawValue, index: k))

        if pop.guardRails {
            for rail in layout.guardRails {
                for piece in 0..<2 {
                    let p = placement(rail, z0 + 5 + 10 * Double(piece), pose)
                    ObjectBuilder.guardRail(out, p, x: 0, length: 10.02, postSide: rail > 0 ? 1 : -1, posts: detail)
                }
            }
        }

        if pop.trees > 0, pop.buildings != .street {
            for side in ObjectBuilder.bothSides {
                let count = poisson(pop.trees, &rng)
                for _ in 0..<count {
                    let setback = rng.uniform(pop.treeSetback.lowerBound, pop.treeSetback.upperBound)
                    let d = Double(side) * ((side > 0 ? layout.roadsideRight : -layout.roadsideLeft) + setback)
                    let z = z0 + rng.uniform(0, length)
                    let height = Float(rng.uniform(6, 17))
                    ObjectBuilder.tree(out, placement(d, z, pose), &rng, foliage: look.foliage, height: height)
                }
                let bushes = poisson(pop.bushes, &rng)
                for _ in 0..<bushes {
                    let setback = rng.uniform(0.8, 10)
                    let d = Double(side) * ((side > 0 ? layout.roadsideRight : -layout.roadsideLeft) + setback)
                    ObjectBuilder.bush(out, placement(d, z0 + rng.uniform(0, length), pose), &rng, foliage: look.foliage)
                }
            }
        }

        switch pop.buildings {
        case .none:
            break
        case .sparse:
            for side in ObjectBuilder.bothSides where rng.chance(pop.sparseBuildingChance) {
                let line = side > 0 ? layout.buildingLineRight : -layout.buildingLineLeft
                let d = Double(side) * (line + rng.uniform(0, 45))
                let frontage = Float(rng.uniform(8, 30))
                let depth = Float(rng.uniform(8, 18))
                let hall = rng.chance(0.4)
                let height = Float(hall ? rng.uniform(5, 9) : rng.uniform(5, 11))
                ObjectBuilder.building(out, placement(d, z0 + length / 2, pose), frontage: frontage, depth: depth,
                                       height: height, side: side, &rng, style: hall ? 2 : 1)
            }
        case .street:
            let street = crossStreet(segment: k)
            for side in ObjectBuilder.bothSides {
                let line = side > 0 ? layout.buildingLineRight : -layout.buildingLineLeft
                var cursor = z0
                while cursor < z0 + length - 0.5 {
                    if rng.chance(0.15) { cursor += rng.uniform(1.5, 4); continue }
                    var frontage = min(rng.uniform(6, 18), z0 + length - cursor)
                    if let street {
                        if cursor >= street.start - 0.5 && cursor < street.end + 0.5 { cursor = street.end + 0.5; continue }
                        if cursor < street.start - 0.5 { frontage = min(frontage, street.start - 0.5 - cursor) }
                    }
                    if frontage < 1.5 { cursor += frontage; continue }
                    let setback = rng.chance(0.5) ? 0 : rng.uniform(0, 1.5)
                    let height = Float(rng.uniform(7, 26))
                    let depth = Float(rng.uniform(10, 16))
                    ObjectBuilder.building(out, placement(Double(side) * (line + setback), cursor + frontage / 2, pose),
                                           frontage: Float(frontage), depth: depth, height: height, side: side,
                                           &rng, style: 0)
                    cursor += frontage
                }
            }
        }

        if pop.lampSpacing > 0 {
            let spacing = pop.lampSpacing
            var n = (z0 / spacing).rounded(.up)
            while n * spacing < z0 + length {
                let z = n * spacing
                if layout.kind == .highway {
                    ObjectBuilder.lamp(out, placement(0, z, pose), height: 10, towardsRoad: 1, double: true)
                } else {
                    if !inCrossStreet(z, margin: 1) {
                        ObjectBuilder.lamp(out, placement(layout.roadsideRight + 0.4, z, pose), height: 8,
                                           towardsRoad: -1, double: false)
                    }
                    if !inCrossStreet(z + spacing / 2, margin: 1) {
                        ObjectBuilder.lamp(out, placement(layout.roadsideLeft - 0.4, z + spacing / 2, pose), height: 8,
                                           towardsRoad: 1, double: false)
                    }
                }
                n += 1
            }
        }

        if rng.chance(pop.signChance) {
            if layout.kind == .highway {
                ObjectBuilder.sign(out, placement(layout.roadsideRight + 2.0, z0 + rng.uniform(0, length), pose),
                                   &rng, large: true)
            } else {
                let right = rng.chance(0.8)
                let d = right ? layout.roadsideRight + 0.35 : layout.roadsideLeft - 0.35
                let z = z0 + rng.uniform(0, length)
                if !inZebra(z, margin: 1) { ObjectBuilder.sign(out, placement(d, z, pose), &rng, large: false) }
            }
        }
        if rng.chance(pop.gantryChance), layout.kind == .highway {
            ObjectBuilder.gantry(out, placement(0, z0 + length / 2, pose), left: 0,
                                 right: Float(layout.roadsideRight + 0.6), &rng)
        }

        if pop.parkedCarChance > 0 {
            for (laneIndex, lane) in layout.parkingLanes.enumerated() {
                for slot in 0..<3 {
                    let z = z0 + 3.3 + 6.6 * Double(slot)
                    guard rng.chance(pop.parkedCarChance) else { continue }
                    var car = SceneRandom(sceneHash(base, 0x9A4C, index: k * 8 + slot * 2 + laneIndex))
                    if inZebra(z, margin: 3) { continue }
                    var p = placement(lane + car.uniform(-0.15, 0.15), z, pose)
                    if lane < 0 { p = p.turned(by: .pi) }
                    ObjectBuilder.car(out, p, &car, detail: detail)
                }
            }
        }

        if pop.streetTrees > 0 {
            for side in ObjectBuilder.bothSides where rng.chance(pop.streetTrees) {
                let d = side > 0 ? layout.roadsideRight + 0.9 : layout.roadsideLeft - 0.9
                let z = z0 + rng.uniform(0, length)
                let height = Float(rng.uniform(6, 11))
                if !inZebra(z, margin: 2) {
                    ObjectBuilder.tree(out, placement(d, z, pose), &rng, foliage: look.foliage, height: height)
                }
            }
        }

        if pop.pedestrians > 0, !layout.sidewalks.isEmpty {
            for walk in layout.sidewalks {
                let count = poisson(pop.pedestrians * 0.5, &rng)
                for _ in 0..<count {
                    let lo = min(walk.inner, walk.outer), hi = max(walk.inner, walk.outer)
                    let d = rng.uniform(lo + 0.4, max(lo + 0.5, hi - 0.4))
                    let z = z0 + rng.uniform(0, length)
                    let p = placement(d, z, pose).turned(by: Float(rng.uniform(-3.1, 3.1)))
                    if inCrossStreet(z, margin: 0.5) { continue }
                    ObjectBuilder.person(out, p, &rng, phase: 0, walking: false)
                }
            }
        }

        if let street = crossStreet(segment: k) {
            ObjectBuilder.trafficLight(out, placement(layout.roadsideRight + 0.4, street.start - 1.5, pose))
            ObjectBuilder.trafficLight(out, placement(layout.roadsideLeft - 0.4, street.end + 1.5, pose).turned(by: .pi))
        }
        if let crossing = zebraCrossing(segment: k) {
            ObjectBuilder.trafficLight(out, placement(layout.roadsideRight + 0.4, crossing.start - 0.5, pose))
            ObjectBuilder.trafficLight(out, placement(layout.roadsideLeft - 0.4, crossing.end + 0.5, pose)
                .turned(by: .pi))
        }

        unknownObjects(out, k, z0: z0, pose: pose)
    }

    /// Objects that never occur in training frames (ambiguous domain only).
    private func unknownObjects(_ out: ShapeBuffer, _ k: Int, z0: Double, pose: CameraPose) {
        let pop = style.population
        guard pop.unknownObjects > 0 || pop.roadworksChance > 0 else { return }
        let layout = style.layout
        let length = WorldPopulator.segmentLength
        var rng = SceneRandom(sceneHash(base, SceneSalt.ood.rawValue, index: k))
        if rng.chance(pop.roadworksChance) {
            // A line of cones along the ego lane's right edge, closed by a barrier.
            let edge = layout.egoOffset + 1.85
            var z = z0 + 1
            while z < z0 + length {
                ObjectBuilder.trafficCone(out, placement(edge, z, pose))
                z += 4
            }
            if rng.chance(0.5), let refuge = layout.refuges.first {
                ObjectBuilder.barrier(out, placement(refuge, z0 + rng.uniform(2, 18), pose), width: 1.6)
            }
        }
        let count = poisson(pop.unknownObjects, &rng)
        for _ in 0..<count {
            let z = z0 + rng.uniform(0, length)
            let onRoad = rng.chance(0.6) && !layout.refuges.isEmpty
            let d: Double
            if onRoad {
                d = layout.refuges[rng.below(layout.refuges.count)] + rng.uniform(-0.4, 0.4)
            } else {
                let side: Double = rng.chance(0.6) ? 1 : -1
                d = side > 0 ? layout.roadsideRight + rng.uniform(0.8, 12) : layout.roadsideLeft - rng.uniform(0.8, 12)
            }
            let p = placement(d, z, pose)
            let kind = rng.below(100)
            if kind < 35 {
                let cow = rng.chance(0.4)
                ObjectBuilder.animal(out, p.turned(by: Float(rng.uniform(-3.1, 3.1))), cow: cow,
                                     phase: Float(rng.uniform(0, 6)))
            } else if kind < 50 {
                ObjectBuilder.tractor(out, p, &rng)
            } else if kind < 70 {
                ObjectBuilder.debris(out, p, &rng)
            } else if kind < 85 {
                for i in 0..<(3 + rng.below(3)) {
                    ObjectBuilder.trafficCone(out, placement(d + Double(i) * 0.15, z + Double(i) * 1.5, pose))
                }
            } else {
                ObjectBuilder.barrier(out, p.turned(by: Float(rng.uniform(-0.4, 0.4))), width: Float(rng.uniform(1.2, 2.0)))
            }
        }
    }

    // MARK: moving content

    private func traffic(_ out: ShapeBuffer, pose: CameraPose, time: Double) {
        let slot = WorldPopulator.trafficSlot
        for (laneIndex, lane) in style.layout.lanes.enumerated() {
            let offset = lane.speed * time
            let first = Int(((pose.z - behind - offset) / slot).rounded(.down))
            let last = Int(((pose.z + viewDistance - offset) / slot).rounded(.down))
            guard first <= last else { continue }
            for j in first...last {
                var rng = SceneRandom(sceneHash(base, SceneSalt.trafficLane.rawValue &+ UInt64(laneIndex) << 8, index: j))
                guard rng.chance(lane.density) else { continue }
                let isTruck = rng.chance(lane.truckShare)
                let z = Double(j) * slot + rng.uniform(10, 30) + offset
                let lateral = lane.centre + rng.uniform(-0.3, 0.3)
                // Ego-lane traffic moves at the ego speed, so a vehicle that would overlap the
                // ego car always would: leave those out.
                if lane.isEgo, z > pose.z - 14, z < pose.z + 16 { continue }
                var p = placement(lateral, z, pose)
                if lane.speed < 0 { p = p.turned(by: .pi) }
                let detail = abs(z - pose.z) < 110
                if isTruck {
                    _ = ObjectBuilder.truck(out, p, &rng, bus: style.layout.kind == .urban, detail: detail)
                } else {
                    ObjectBuilder.car(out, p, &rng, detail: detail)
                }
            }
        }
    }

    private func walkers(_ out: ShapeBuffer, pose: CameraPose, time: Double) {
        let density = style.population.pedestrians
        guard density > 0 else { return }
        let slot = WorldPopulator.walkerSlot
        for (walkIndex, walk) in style.layout.sidewalks.enumerated() {
            for direction in ObjectBuilder.bothSides {
                let laneKey = UInt64(walkIndex * 2 + (direction > 0 ? 1 : 0))
                var laneRng = SceneRandom(sceneHash(base, SceneSalt.pedestrianLane.rawValue, laneKey))
                let speed = Double(direction) * laneRng.uniform(1.1, 1.6)
                let lo = min(walk.inner, walk.outer), hi = max(walk.inner, walk.outer)
                let lateral = lo + (hi - lo) * (direction > 0 ? laneRng.uniform(0.15, 0.45) : laneRng.uniform(0.55, 0.85))
                let offset = speed * time
                let first = Int(((pose.z - behind - offset) / slot).rounded(.down))
                let last = Int(((pose.z + viewDistance * 0.6 - offset) / slot).rounded(.down))
                guard first <= last else { continue }
                for j in first...last {
                    var rng = SceneRandom(sceneHash(base, SceneSalt.pedestrianLane.rawValue &+ (laneKey + 1) << 8, index: j))
                    guard rng.chance(min(0.9, density * 0.25)) else { continue }
                    let start = Double(j) * slot + rng.uniform(1, 9)
                    let z = start + offset
                    let walked = abs(offset)
                    var p = placement(lateral + rng.uniform(-0.3, 0.3), z, pose)
                    if direction < 0 { p = p.turned(by: .pi) }
                    let phase = Float((walked / 1.5 + rng.unit()).truncatingRemainder(dividingBy: 1)) * 2 * .pi
                    ObjectBuilder.person(out, p, &rng, phase: phase, walking: true)
                }
            }
        }
    }
}

/// A small Poisson-distributed count with the given mean (Knuth's method, capped).
func poisson(_ mean: Double, _ rng: inout SceneRandom) -> Int {
    guard mean > 0 else { return 0 }
    let limit = exp(-mean)
    var product = rng.unit()
    var count = 0
    while product > limit && count < 20 {
        product *= rng.unit()
        count += 1
    }
    return count
}
