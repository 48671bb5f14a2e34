import Glibc
import Testing
@testable import Scenes

/// Pixel positions computed here from the documented camera model (pinhole, pitch about
/// the x axis, pixel centres at +0.5), independently of the renderer's code.
struct Pinhole {
    let camera: SceneCamera
    let cameraX: Double

    /// Pixel containing the image of world point (x right, y up, z along a straight road).
    func pixel(x: Double, y: Double, z: Double) -> (u: Int, v: Int) {
        let px = x - cameraX, py = y - camera.mountHeight, pz = z
        let p = camera.pitch
        let zc = pz * cos(p) - py * sin(p)
        let yc = pz * sin(p) + py * cos(p)
        let u = camera.cx + camera.fx * px / zc
        let v = camera.cy - camera.fy * yc / zc
        return (Int(u.rounded(.down)), Int(v.rounded(.down)))
    }
}

/// A straight, empty street (no generated objects, no post-processing) with hand-placed boxes.
func testScene(_ domain: SceneDomain = .urban, seed: UInt64 = 5, width: Int = 512, height: Int = 256,
               boxes: [PlacedBox] = []) throws -> (SceneRenderer, [UInt8], [UInt8]) {
    var options = RenderOptions()
    options.curvedRoad = false
    options.populate = false
    options.postProcess = false
    options.startAtOrigin = true
    options.placedBoxes = boxes
    let renderer = try SceneRenderer(domain: domain, seed: seed, width: width, height: height, options: options)
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    var labels = [UInt8](repeating: 0, count: width * height)
    rgb.withUnsafeMutableBufferPointer { image in
        labels.withUnsafeMutableBufferPointer { renderer.render(frame: 0, rgb: image, labels: $0) }
    }
    return (renderer, rgb, labels)
}

@Test func groundBelowHorizonIsRoadAndTopRowIsSky() throws {
    for domain in SceneDomain.allCases {
        let (renderer, _, labels) = try testScene(domain)
        let w = renderer.camera.width, h = renderer.camera.height
        // The camera sits in the middle of its lane: straight down the image centre is lane surface.
        #expect(labels[(h - 1) * w + w / 2] == ClassID.road, "\(domain)")
        #expect(labels[(h - 20) * w + w / 2] == ClassID.road, "\(domain)")
        // Nothing reaches 30 degrees above the horizon.
        #expect(labels[0..<w].allSatisfy { $0 == ClassID.sky }, "\(domain)")
    }
}

@Test func groundBandsLandWhereTheCameraModelPutsThem() throws {
    let (renderer, _, labels) = try testScene(.urban)
    let layout = renderer.style.layout
    let pinhole = Pinhole(camera: renderer.camera, cameraX: layout.egoOffset)
    let w = renderer.camera.width
    func label(_ x: Double, _ z: Double) -> UInt8 {
        let p = pinhole.pixel(x: x, y: 0, z: z)
        return labels[p.v * w + p.u]
    }
    // Pick each band from the layout and look at its middle 12 m ahead.
    for band in layout.bands where band.from > 0 && band.to - band.from >= 0.1 {
        let expected: UInt8
        switch band.kind {
        case .road, .parking: expected = ClassID.road
        case .solidLine, .dashedLine: expected = ClassID.laneMarking
        case .sidewalk: expected = ClassID.sidewalk
        case .curb: expected = ClassID.curb
        case .terrain, .gravel: expected = ClassID.terrain
        }
        #expect(label((band.from + band.to) / 2, 12) == expected, "\(band)")
    }
    // Just beside the solid edge line it is road again.
    if let line = layout.bands.first(where: { $0.kind == .solidLine && $0.from > 0 }) {
        #expect(label(line.from - 0.3, 8) == ClassID.road)
        #expect(label((line.from + line.to) / 2, 8) == ClassID.laneMarking)
    }
}

@Test func placedObjectsHaveTheirClassAndNearerOnesOcclude() throws {
    let lateral = 1.6
    let car = PlacedBox(lateral: lateral, distance: 20, halfExtents: SIMD3(0.9, 0.75, 2.0), label: ClassID.car)
    let tall = PlacedBox(lateral: lateral, distance: 36, halfExtents: SIMD3(0.6, 2.5, 0.5), label: ClassID.person)
    let (renderer, _, labels) = try testScene(.urban, boxes: [car, tall])
    let layout = renderer.style.layout
    let pinhole = Pinhole(camera: renderer.camera, cameraX: layout.egoOffset)
    let w = renderer.camera.width
    func label(_ x: Double, _ y: Double, _ z: Double) -> UInt8 {
        let p = pinhole.pixel(x: x, y: y, z: z)
        return labels[p.v * w + p.u]
    }
    // Centre of the car's rear face (the face towards the camera).
    #expect(label(lateral, 0.75, 18) == ClassID.car)
    // The tall box above the car's roof line.
    #expect(label(lateral, 4.0, 35.5) == ClassID.person)
    // The tall box's lower part is hidden behind the car.
    #expect(label(lateral, 0.8, 35.5) == ClassID.car)
    // Beside the car, at its height: not the car.
    #expect(label(lateral + 2.0, 0.75, 18) != ClassID.car)

    // Swap depth order: the tall box in front now hides the car.
    let near = PlacedBox(lateral: lateral, distance: 12, halfExtents: SIMD3(0.6, 2.5, 0.5), label: ClassID.person)
    let (_, _, swapped) = try testScene(.urban, boxes: [car, near])
    let p = pinhole.pixel(x: lateral, y: 0.75, z: 18)
    #expect(swapped[p.v * w + p.u] == ClassID.person)
}

@Test func sillySizesAreRejected() {
    for (w, h) in [(0, 256), (512, 0), (8, 8), (-4, 100), (100_000, 64)] {
        #expect(throws: SceneError.invalidSize(width: w, height: h)) {
            _ = try SceneRenderer(domain: .urban, seed: 1, width: w, height: h)
        }
    }
}

@Test func imageAndLabelsComeFromTheSameDecision() throws {
    // A vivid red box on an otherwise grey/blue/green scene: exactly the pixels labelled as
    // the box are red.
    let box = PlacedBox(lateral: 1.2, distance: 14, halfExtents: SIMD3(1.0, 1.2, 1.5), label: ClassID.truck,
                        color: SIMD3(0.9, 0.0, 0.0))
    let (renderer, rgb, labels) = try testScene(.highway, boxes: [box])
    var labelled = 0
    for p in 0..<labels.count {
        let r = Int(rgb[p * 3]), g = Int(rgb[p * 3 + 1]), b = Int(rgb[p * 3 + 2])
        let red = r > 2 * g + 20 && r > 2 * b + 20
        #expect(red == (labels[p] == ClassID.truck), "pixel \(p % renderer.camera.width),\(p / renderer.camera.width)")
        if labels[p] == ClassID.truck { labelled += 1 }
    }
    #expect(labelled > 1000)
}
