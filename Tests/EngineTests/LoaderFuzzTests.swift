import Engine
import Foundation
import FuzzSupport
import Testing

/// A seeded mutation fuzzer for the ONNX loader: truncations, byte flips, random spans and
/// splices of real fixture models. Every mutant must load or throw an EngineError; a trap
/// (crash) fails the whole test run. Bounded in time so CI stays predictable.
@Suite struct LoaderFuzzTests {
    static func seedModels() -> [Data] {
        let preferred = ["op_conv_groups", "op_resize_linear", "op_maxpool", "gate_simple", "lraspp_mobilenet_v3_large"]
        return preferred.compactMap { try? Data(contentsOf: FixtureCase.root.appendingPathComponent("\($0)/model.onnx")) }
    }

    static func mutate(_ data: Data, _ rng: inout SplitMix64) -> Data {
        var bytes = [UInt8](data)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            bytes = Array(bytes.prefix(Int.random(in: 0..<max(1, bytes.count), using: &rng)))
        case 1:
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
        case 2:
            if bytes.count > 16 {
                let start = Int.random(in: 0..<(bytes.count - 8), using: &rng)
                for i in start..<min(bytes.count, start + Int.random(in: 1...64, using: &rng)) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            }
        case 3:
            // Varints are where lengths live: set a byte to a large continuation value.
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [0xff, 0x80, 0x7f, 0x00][Int.random(in: 0..<4, using: &rng)]
            }
        default:
            if bytes.count > 32 {
                let a = Int.random(in: 0..<bytes.count / 2, using: &rng), b = Int.random(in: a..<bytes.count, using: &rng)
                bytes.insert(contentsOf: bytes[a..<b].prefix(4096), at: Int.random(in: 0..<bytes.count, using: &rng))
            }
        }
        return Data(bytes)
    }

    @Test func mutatedModelsNeverCrash() throws {
        let seeds = Self.seedModels()
        try #require(!seeds.isEmpty, "fuzz seeds missing under \(FixtureCase.root.path)")
        var rng = SplitMix64(state: 20261123)
        let deadline = Date().addingTimeInterval(20)
        var loaded = 0, rejected = 0, iterations = 0
        while Date() < deadline && iterations < 3000 {
            iterations += 1
            let mutant = Self.mutate(seeds[iterations % seeds.count], &rng)
            do {
                let session = try InferenceSession(data: mutant)
                if session.arenaBytes < 64 << 20 { session.run() }
                loaded += 1
            } catch is EngineError {
                rejected += 1
            }
        }
        #expect(rejected > 0)
        #expect(loaded + rejected == iterations)
    }

    @Test func clearErrorsForBadFiles() throws {
        #expect(throws: EngineError.self) { try InferenceSession(data: Data()) }
        #expect(throws: EngineError.self) { try InferenceSession(data: Data("not a model at all".utf8)) }
        #expect(throws: EngineError.self) { try InferenceSession(path: "/nonexistent/model.onnx") }
        if let seed = Self.seedModels().first {
            let error = #expect(throws: EngineError.self) { try InferenceSession(data: seed.prefix(seed.count / 2)) }
            #expect(error.map { "\($0)".contains("\n") } == false, "errors are one line")
        }
    }
}
