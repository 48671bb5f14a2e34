import Glibc

/// What the ground is at a given lateral offset from the road's centreline.
enum GroundKind: UInt8 {
    case road = 0, parking, solidLine, dashedLine, sidewalk, curb, terrain, gravel
}

/// A strip of ground parallel to the centreline, [from, to) in metres (positive = right).
struct GroundBand {
    var kind: GroundKind
    var from: Double
    var to: Double
}

/// A lane that carries traffic; `speed` is signed (negative = oncoming).
struct TrafficLane {
    var centre: Double
    var speed: Double
    /// Expected vehicles per 40 m of lane.
    var density: Double
    /// Share of trucks among the vehicles.
    var truckShare: Double
    var isEgo: Bool
}

/// The road's cross-section: ground strips, lanes and the lateral positions where the
/// populator puts rails, parked cars, sidewalks and buildings.
struct RoadLayout {
    enum Kind { case highway, urban, rural }

    var kind: Kind
    var bands: [GroundBand] = []
    /// Ground beyond the outermost band.
    var outerKind: GroundKind = .terrain
    var lanes: [TrafficLane] = []
    var egoOffset: Double = 0
    var egoSpeed: Double = 20
    var dashLength: Double = 3
    var dashPeriod: Double = 12
    /// Lateral positions of guard rails; the sign tells which side of the road they face.
    var guardRails: [Double] = []
    var parkingLanes: [Double] = []
    /// Sidewalk strips (inner, outer) per side, left side with negative offsets.
    var sidewalks: [(inner: Double, outer: Double)] = []
    /// Where the roadside (verge, sidewalk) begins, right and left (left negative).
    var roadsideRight: Double = 10
    var roadsideLeft: Double = -10
    /// Where building frontages stand in dense areas (right, left), if any.
    var buildingLineRight: Double = 30
    var buildingLineLeft: Double = -30
    /// Lateral span a zebra crossing covers.
    var zebraSpan: ClosedRange<Double> = 0...0
    /// Half width of the carriageway up to the curbs: cross streets replace the ground beyond it.
    var carriagewayEdge: Double = 0
    /// Driving-lane centres that get worn wheel tracks.
    var wornLanes: [Double] = []
    /// Offsets on the road surface where nothing drives (shoulders, parking lanes, verges):
    /// the only places static obstacles may stand.
    var refuges: [Double] = []

    /// Motorway with a grass median, three lanes each way, hard shoulders and guard rails.
    static func highway(_ rng: inout SceneRandom) -> RoadLayout {
        var layout = RoadLayout(kind: .highway)
        let laneWidth = rng.uniform(3.5, 3.8)
        let lanesPerSide = rng.chance(0.3) ? 2 : 3
        let median = rng.uniform(1.8, 2.6)
        let innerShoulder = rng.uniform(0.6, 1.0)
        let outerShoulder = rng.uniform(2.0, 3.0)
        let line: Double = 0.2
        layout.dashLength = 6
        layout.dashPeriod = 18
        layout.outerKind = .terrain
        // Build the right carriageway, then mirror it.
        var right: [GroundBand] = []
        var x = median
        right.append(GroundBand(kind: .road, from: x, to: x + innerShoulder)); x += innerShoulder
        right.append(GroundBand(kind: .solidLine, from: x, to: x + line)); x += line
        var laneCentres: [Double] = []
        for lane in 0..<lanesPerSide {
            laneCentres.append(x + laneWidth / 2)
            right.append(GroundBand(kind: .road, from: x, to: x + laneWidth)); x += laneWidth
            if lane < lanesPerSide - 1 {
                right.append(GroundBand(kind: .dashedLine, from: x - line / 2, to: x + line / 2))
            }
        }
        right.append(GroundBand(kind: .solidLine, from: x, to: x + line)); x += line
        right.append(GroundBand(kind: .road, from: x, to: x + outerShoulder)); x += outerShoulder
        right.append(GroundBand(kind: .gravel, from: x, to: x + 1.0))
        let rail = x + 0.5
        x += 1.0
        layout.bands.append(GroundBand(kind: .terrain, from: -median, to: median))
        for band in right {
            layout.bands.append(band)
            layout.bands.append(GroundBand(kind: band.kind, from: -band.to, to: -band.from))
        }
        layout.guardRails = [rail, -rail, median - 0.4, -(median - 0.4)]
        let shoulderCentre = rail - 0.5 - outerShoulder / 2 + 0.3
        layout.refuges = [shoulderCentre, -shoulderCentre]
        layout.roadsideRight = x
        layout.roadsideLeft = -x
        layout.buildingLineRight = x + 25
        layout.buildingLineLeft = -x - 25
        let speeds: [Double] = lanesPerSide == 3 ? [36, 31, 25] : [34, 26]
        let trucks: [Double] = lanesPerSide == 3 ? [0.05, 0.3, 0.65] : [0.1, 0.6]
        let egoLane = rng.below(lanesPerSide)
        for (i, centre) in laneCentres.enumerated() {
            let density = rng.uniform(0.25, 0.6)
            layout.lanes.append(TrafficLane(centre: centre, speed: speeds[i], density: density,
                                            truckShare: trucks[i], isEgo: i == egoLane))
            layout.lanes.append(TrafficLane(centre: -centre, speed: -speeds[i], density: density,
                                            truckShare: trucks[i], isEgo: false))
        }
        layout.wornLanes = laneCentres + laneCentres.map { -$0 }
        layout.egoOffset = laneCentres[egoLane]
        layout.egoSpeed = speeds[egoLane]
        return layout
    }

    /// City street: one or two lanes each way, parking lanes on either side or both,
    /// curbs, sidewalks and a building line.
    static func urban(_ rng: inout SceneRandom) -> RoadLayout {
        var layout = RoadLayout(kind: .urban)
        let lanesPerSide = rng.chance(0.3) ? 2 : 1
        let laneWidth = rng.uniform(3.0, 3.4)
        let curb: Double = 0.25
        let sidewalk = rng.uniform(2.8, 4.5)
        let line: Double = 0.12
        layout.dashLength = 3
        layout.dashPeriod = 6
        layout.outerKind = .sidewalk
        let centreKind: GroundKind = lanesPerSide == 2 || rng.chance(0.2) ? .solidLine : .dashedLine
        layout.bands.append(GroundBand(kind: centreKind, from: -line / 2, to: line / 2))
        var edge = 0.0
        var zebra = 0.0
        var laneCentres: [Double] = []
        for side in [1.0, -1.0] {
            var bands: [GroundBand] = []
            var x = line / 2
            for lane in 0..<lanesPerSide {
                let outer = line / 2 + laneWidth * Double(lane + 1)
                if side > 0 { laneCentres.append(outer - laneWidth / 2) }
                bands.append(GroundBand(kind: .road, from: x, to: outer))
                if lane < lanesPerSide - 1 {
                    bands.append(GroundBand(kind: .dashedLine, from: outer - line / 2, to: outer + line / 2))
                }
                x = outer
            }
            bands.append(GroundBand(kind: .solidLine, from: x, to: x + line)); x += line
            zebra = max(zebra, x)
            if rng.chance(0.75) {
                let parking = rng.uniform(2.0, 2.4)
                layout.parkingLanes.append(side * (x + parking / 2))
                bands.append(GroundBand(kind: .parking, from: x, to: x + parking)); x += parking
            } else {
                bands.append(GroundBand(kind: .road, from: x, to: x + 0.4)); x += 0.4
            }
            edge = max(edge, x)
            bands.append(GroundBand(kind: .curb, from: x, to: x + curb)); x += curb
            let sidewalkInner = x
            bands.append(GroundBand(kind: .sidewalk, from: x, to: x + sidewalk)); x += sidewalk
            for band in bands {
                layout.bands.append(side > 0 ? band : GroundBand(kind: band.kind, from: -band.to, to: -band.from))
            }
            layout.sidewalks.append((side * sidewalkInner, side * x))
            if side > 0 {
                layout.roadsideRight = sidewalkInner
                layout.buildingLineRight = x
            } else {
                layout.roadsideLeft = -sidewalkInner
                layout.buildingLineLeft = -x
            }
        }
        layout.refuges = layout.parkingLanes.isEmpty ? [layout.roadsideRight - curb - 0.4] : layout.parkingLanes
        layout.zebraSpan = -zebra...zebra
        layout.carriagewayEdge = edge
        let baseSpeed = lanesPerSide == 2 ? 13.0 : 10.0
        let egoLane = lanesPerSide == 2 && rng.chance(0.5) ? 0 : lanesPerSide - 1
        for (i, centre) in laneCentres.enumerated() {
            let speed = baseSpeed + rng.uniform(-1.5, 2.5) + (lanesPerSide == 2 && i == 0 ? 2 : 0)
            layout.lanes.append(TrafficLane(centre: centre, speed: speed, density: rng.uniform(0.35, 0.6),
                                            truckShare: 0.04, isEgo: i == egoLane))
            layout.lanes.append(TrafficLane(centre: -centre, speed: -(baseSpeed + rng.uniform(-1.5, 2.5)),
                                            density: rng.uniform(0.3, 0.7), truckShare: 0.06, isEgo: false))
            if i == egoLane {
                layout.egoOffset = centre
                layout.egoSpeed = speed
            }
        }
        layout.wornLanes = laneCentres + laneCentres.map { -$0 }
        return layout
    }

    /// Two-lane country road: edge lines, gravel verges, fields.
    static func rural(_ rng: inout SceneRandom) -> RoadLayout {
        var layout = RoadLayout(kind: .rural)
        let laneWidth = rng.uniform(3.0, 3.5)
        let line: Double = 0.15
        layout.dashLength = 4
        layout.dashPeriod = 12
        layout.outerKind = .terrain
        layout.bands.append(GroundBand(kind: .dashedLine, from: -line / 2, to: line / 2))
        var right: [GroundBand] = []
        var x = line / 2
        right.append(GroundBand(kind: .road, from: x, to: laneWidth)); x = laneWidth
        right.append(GroundBand(kind: .solidLine, from: x, to: x + line)); x += line
        right.append(GroundBand(kind: .road, from: x, to: x + 0.4)); x += 0.4
        right.append(GroundBand(kind: .gravel, from: x, to: x + 1.2)); x += 1.2
        for band in right {
            layout.bands.append(band)
            layout.bands.append(GroundBand(kind: band.kind, from: -band.to, to: -band.from))
        }
        layout.guardRails = rng.chance(0.5) ? [x - 0.3] : [-(x - 0.3)]
        layout.roadsideRight = x
        layout.roadsideLeft = -x
        layout.buildingLineRight = x + 6
        layout.buildingLineLeft = -x - 6
        layout.sidewalks = [(x - 1.2, x), (-(x - 1.2), -x)]
        layout.refuges = [x - 0.6, -(x - 0.6)]
        layout.zebraSpan = -(laneWidth + line)...(laneWidth + line)
        let centre = laneWidth / 2
        let speed = rng.uniform(16, 24)
        layout.lanes = [
            TrafficLane(centre: centre, speed: speed, density: 0.35, truckShare: 0.25, isEgo: true),
            TrafficLane(centre: -centre, speed: -rng.uniform(16, 24), density: 0.4, truckShare: 0.25, isEgo: false),
        ]
        layout.wornLanes = [centre, -centre]
        layout.egoOffset = centre
        layout.egoSpeed = speed
        return layout
    }
}

/// The layout rasterised across the road for per-pixel lookup: ground kind and wheel-track
/// wear at 2.5 cm steps of lateral offset.
final class GroundTable {
    static let resolution: Float = 0.025
    static let halfRange: Float = 80
    let count: Int
    let kinds: UnsafeMutablePointer<GroundKind>
    let wear: UnsafeMutablePointer<Float>
    let outerKind: GroundKind

    init(layout: RoadLayout) {
        count = Int(2 * GroundTable.halfRange / GroundTable.resolution)
        kinds = .allocate(capacity: count)
        kinds.initialize(repeating: layout.outerKind, count: count)
        wear = .allocate(capacity: count)
        wear.initialize(repeating: 0, count: count)
        outerKind = layout.outerKind
        for i in 0..<count {
            let d = (Double(i) + 0.5) * Double(GroundTable.resolution) - Double(GroundTable.halfRange)
            for band in layout.bands where d >= band.from && d < band.to {
                kinds[i] = band.kind
            }
            var w = 0.0
            for lane in layout.wornLanes {
                for track in [lane - 0.85, lane + 0.85] {
                    let u = (d - track) / 0.35
                    w += exp(-u * u)
                }
            }
            wear[i] = Float(min(w, 1))
        }
    }

    deinit {
        kinds.deallocate()
        wear.deallocate()
    }

    /// Table index of a lateral offset, or nil beyond the table.
    @inline(__always)
    func index(_ offset: Float) -> Int? {
        let f = (offset + GroundTable.halfRange) * (1 / GroundTable.resolution)
        guard f >= 0, f < Float(count) else { return nil }
        return Int(f)
    }
}
