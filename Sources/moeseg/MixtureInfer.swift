import Foundation
import Mixture
import NumPyIO
import Sensors

/// `moeseg infer` on a model directory: one frame through the mixture, every output as .npy
/// plus frame.json (scores, OOD verdict, stage timings).
enum MixtureInfer {
    struct Request {
        var directory: String
        var input: String?
        var image: String?
        var outputDir: String
        var threads: Int
        var routing: RoutingSampling
        var pixelThreshold: Float
    }

    static func run(_ request: Request) throws {
        let model = try MixtureModel.load(directory: request.directory)
        let manifest = model.manifest
        var options = MixtureRunOptions(threads: request.threads, routing: request.routing,
                                        mutualInformationPixelThreshold: request.pixelThreshold, keepsMixedLogits: true, keepsProbabilities: true)
        options.maps = Set(UncertaintyMap.allCases)
        let runner = try MixtureRunner(model: model, options: options)
        let result: MixtureFrameResult
        if let path = request.input {
            let array = try NumPyArray(contentsOf: URL(fileURLWithPath: path))
            let want = [1, 3, manifest.input.height, manifest.input.width]
            guard array.shape == want || array.shape == Array(want.dropFirst()) else {
                throw fail("input \(path) has shape \(array.shape), the model needs \(want)")
            }
            result = try array.values.withUnsafeBufferPointer { try runner.process(input: $0) }
        } else if let path = request.image {
            var frame = try ImageFile.read(path)
            frame.sequence = 0
            result = try runner.process(frame: frame)
        } else {
            throw fail("give --input X.npy or --image FILE")
        }

        let dir = URL(fileURLWithPath: request.outputDir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let h = result.height, w = result.width, c = model.classes, e = manifest.experts.count
        var written: [String] = []
        func save(_ name: String, _ shape: [Int], _ values: UnsafeBufferPointer<Float>) throws {
            try NumPyArray(shape: shape, values: Array(values)).write(to: dir.appendingPathComponent(name + ".npy"))
            written.append(name)
        }
        let members = manifest.mcDropout?.passes ?? e
        for i in 0..<members { try save("expert_\(i)_logits", [c, h, w], result.expertLogits(i)) }
        for pass in 0..<members {
            guard let mask = result.dropoutMask(pass: pass) else { break }
            try mask.values.withUnsafeBufferPointer { try save("dropout_mask_\(pass)", mask.shape, $0) }
        }
        if let gate = manifest.gate, let logits = result.gateLogits, let weights = result.gateWeights {
            let shape = gate.kind == .simple ? [e] : [e, c]
            try save("gate_logits", shape, logits)
            try save("gate_weights", shape, weights)
        }
        if let moe = result.moeLogits { try save("moe_logits", [c, h, w], moe) }
        try save("probabilities", [c, h, w], result.probabilities)
        try NumPyArray.encodeBytes(shape: [h, w], values: Array(result.prediction))
            .write(to: dir.appendingPathComponent("prediction.npy"))
        written.append("prediction")
        for map in UncertaintyMap.allCases {
            if let values = result.map(map) { try save(map.rawValue, [h, w], values) }
        }

        // The verdict of one frame: thresholds are a deployment's choice (the daemon's config);
        // here the monitor only reports which scores are present, with no thresholds set.
        var monitor = try OODMonitor(thresholds: OODThresholds(), enterFrames: 1, exitFrames: 1)
        let verdict = monitor.update(result.scores)
        let t = result.timings
        func number(_ v: Float?) -> Any { v.map { Double($0) } as Any }
        let report: [(String, Any)] = [
            ("model", manifest.id), ("model_version", manifest.version), ("kind", manifest.kind.rawValue),
            ("width", w), ("height", h), ("classes", c), ("experts", manifest.expertNames as [Any]),
            ("frame_index", Int(result.frameIndex)),
            ("routing", [("samples", request.routing.samples), ("temperature", request.routing.temperature),
                         ("seed", String(request.routing.seed)), ("form", request.routing.form.rawValue)] as [(String, Any)]),
            ("scores", [("gate_entropy", number(result.scores.gateEntropy)),
                        ("mean_mi", number(result.scores.meanMutualInformation)),
                        ("uncertain_pixel_fraction", number(result.scores.uncertainPixelFraction)),
                        ("routing_mi", number(result.scores.routingMutualInformation)),
                        ("pixel_mi_threshold", Double(request.pixelThreshold))] as [(String, Any)]),
            ("ood", [("frame_is_ood", verdict.frameIsOOD), ("is_ood", verdict.isOOD),
                     ("fired", verdict.fired.map(\.rawValue).sorted() as [Any]),
                     ("thresholds", "none (set them in the daemon configuration)")] as [(String, Any)]),
            ("timings_ms", [("preprocess", t.preprocess * 1000), ("experts", t.experts.map { $0 * 1000 } as [Any]),
                            ("expert_stage", t.expertStage * 1000), ("gate", t.gate * 1000),
                            ("combine", t.combine * 1000), ("uncertainty", t.uncertainty * 1000),
                            ("total", t.total * 1000)] as [(String, Any)]),
            ("files", written.map { $0 + ".npy" } as [Any]),
        ]
        try Data((JSONLine.object(report) + "\n").utf8).write(to: dir.appendingPathComponent("frame.json"))
        print("\(manifest.id) \(manifest.version) (\(manifest.kind.rawValue)): wrote \(written.count) maps and frame.json to \(dir.path)")
    }
}

/// PPM (P6, P5) and PNG images as frames.
enum ImageFile {
    static func read(_ path: String) throws -> Frame {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read image \(path)") }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGReader.decode(bytes, path: path) }
        if bytes.count > 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "6") || bytes[1] == UInt8(ascii: "5") {
            return try ppm(bytes, path: path)
        }
        throw fail("\(path) is neither a PNG nor a binary PPM/PGM (P6/P5) image")
    }

    private static func ppm(_ bytes: [UInt8], path: String) throws -> Frame {
        var i = 2
        var fields: [Int] = []
        while fields.count < 3 {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 || bytes[i] == UInt8(ascii: "#") {
                if bytes[i] == UInt8(ascii: "#") { while i < bytes.count, bytes[i] != 0x0A { i += 1 } } else { i += 1 }
            }
            var value = 0, digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 9 {
                value = value * 10 + Int(bytes[i] - 0x30)
                i += 1
                digits += 1
            }
            guard digits > 0 else { throw fail("\(path): malformed PPM header") }
            fields.append(value)
        }
        i += 1
        let (width, height, maxValue) = (fields[0], fields[1], fields[2])
        let channels = bytes[1] == UInt8(ascii: "6") ? 3 : 1
        guard width > 0, height > 0, width <= 16384, height <= 16384, maxValue == 255 else {
            throw fail("\(path): PPM must be 8-bit (maxval 255) and at most 16384×16384, is \(width)×\(height) maxval \(maxValue)")
        }
        guard bytes.count - i >= width * height * channels else {
            throw fail("\(path): truncated PPM (\(bytes.count - i) pixel bytes, needs \(width * height * channels))")
        }
        var frame = Frame()
        frame.reshape(width: width, height: height, format: channels == 3 ? .rgb8 : .mono8)
        frame.pixels = Array(bytes[i..<(i + width * height * channels)])
        return frame
    }
}
