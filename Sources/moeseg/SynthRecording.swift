import Foundation
import Recording
import Scenes

/// Writes `synth`'s frames to MCAP: one rgb8 camera image and one mono8 label map per
/// frame, stamped with scene time, and the recording's metadata (domain, seed, generator
/// version, class table, camera intrinsics) so that evaluation knows what it is reading.
final class RecordingHandOff {
    let path: String
    private let writer: FrameRecordingWriter
    private let width: Int
    private let height: Int

    init(path: String, renderer: SceneRenderer) throws {
        self.path = path
        let camera = renderer.camera
        width = camera.width
        height = camera.height
        writer = try FrameRecordingWriter(path: path)
        let classes = ClassTable.classes.map { c in
            "{\"id\": \(c.id), \"name\": \"\(c.name)\", \"color\": [\(c.color.red), \(c.color.green), \(c.color.blue)]}"
        }
        let table = "{\"classes\": [\(classes.joined(separator: ", "))], \"unknown_object\": \(ClassTable.unknownObject), \"ignore\": \(ClassTable.ignore)}"
        try writer.addRecordingInfo(RecordingInfo(
            domain: renderer.domain.rawValue, seed: renderer.seed, generatorVersion: SceneRenderer.generatorVersion,
            classTableJSON: table, fx: camera.fx, fy: camera.fy, cx: camera.cx, cy: camera.cy,
            extra: ["source": "moeseg synth", "frame_rate": String(SceneRenderer.nominalFrameRate),
                    "camera_height_m": String(camera.mountHeight), "camera_pitch_rad": String(camera.pitch)]))
    }

    /// Writes frame `index`: its RGB bytes and label ids, both stamped with the scene time.
    func append(frame index: Int, sceneTimeNanos: UInt64, rgb: [UInt8], labels: [UInt8]) throws {
        try writer.addCameraFrame(pixels: rgb, width: width, height: height, captureTimeNanos: sceneTimeNanos)
        try writer.addLabelMap(labels: labels, width: width, height: height, captureTimeNanos: sceneTimeNanos)
    }

    /// Closes the file with its summary and index.
    func finish() throws {
        try writer.close()
    }
}
