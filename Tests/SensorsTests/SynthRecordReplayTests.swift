import Foundation
import Recording
import Scenes
import Sensors
import Testing

/// The path a labelled recording takes: scenes rendered, written to MCAP, replayed. Every
/// frame and label map must come back byte-identical, in order, with its timestamp.
@Test func renderedFramesSurviveRecordAndReplay() throws {
    let (width, height, count) = (96, 48, 12)
    let renderer = try SceneRenderer(domain: .ambiguous, seed: 11, width: width, height: height)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-rr-\(UUID().uuidString).mcap").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    var images: [[UInt8]] = [], labelMaps: [[UInt8]] = []
    let writer = try FrameRecordingWriter(path: path)
    for index in 0..<count {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var labels = [UInt8](repeating: 0, count: width * height)
        rgb.withUnsafeMutableBufferPointer { r in labels.withUnsafeMutableBufferPointer { l in renderer.render(frame: index, rgb: r, labels: l) } }
        let stamp = UInt64(index) * 33_333_333 + 1_000
        try writer.addCameraFrame(pixels: rgb, width: width, height: height, captureTimeNanos: stamp)
        try writer.addLabelMap(labels: labels, width: width, height: height, captureTimeNanos: stamp)
        images.append(rgb)
        labelMaps.append(labels)
    }
    try writer.close()

    let source = try ReplaySource(path: path, options: ReplayOptions(rate: .maximum))
    var frame = Frame()
    var seen = 0
    while try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame {
        #expect(frame.width == width && frame.height == height && frame.format == .rgb8 && frame.isReplayed)
        #expect(frame.monotonicNanos == UInt64(seen) * 33_333_333 + 1_000)
        #expect(frame.pixels == images[seen], "frame \(seen) pixels")
        #expect(frame.labels == labelMaps[seen], "frame \(seen) labels")
        seen += 1
    }
    #expect(seen == count)
}
