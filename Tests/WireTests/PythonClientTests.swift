import Foundation
import Testing
@testable import Wire


// Socket tests run one at a time (see WireSockets): timing checks need the cores.
extension WireSockets {
    @Suite("Wire Python client", .serialized)
    struct PythonClientTests {
        @Test("tools/client decodes every topic and map encoding from the Swift publisher")
        func pythonClient() throws {
            let dir = try SocketDirectory()
            let maps: [String: MapEncoding] = ["pe_stacked": .u8, "ev": .f16, "mi_stacked": .f32]
            let publisher = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: dir.endpoint(), mapEncodings: maps),
                                          meta: testMeta())
            let frame = TestFrame()
            let pump = Pump(period: 0.02) { tick in
                publisher.pollSubscriptions()
                frame.publish(publisher, sequence: tick, maps: ["pe_stacked", "ev", "mi_stacked"])
                if tick % 5 == 0 { publisher.publishStatus(testStatus(tick)) }
            }
            defer { pump.finish() }
            let (process, out, err) = try PythonClient.start("check_stream.py", [
                "--endpoint", dir.endpoint(), "--count", "60", "--expect-topics", "seg,unc,ood,status,meta",
                "--timeout", "20", "--meta-within-ms", "100"])
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let json = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any], "no JSON: \(stderr)")
            print("check_stream.py: \(String(decoding: stdout, as: UTF8.self))")
            #expect(process.terminationStatus == 0, "\(json["errors"] ?? stderr)")
            #expect(json["monotonic"] as? Bool == true)
            let seg = try #require(json["seg"] as? [String: Any])
            #expect(seg["shape"] as? [Int] == [32, 64])
            #expect(seg["classes"] as? [Int] == [0, 1, 2, 3, 4])
            let decoded = try #require(json["maps"] as? [String: [String: Any]])
            #expect(Set(decoded.keys) == ["pe_stacked", "ev", "mi_stacked"])
            for (name, summary) in decoded {
                #expect(summary["shape"] as? [Int] == [32, 64], "\(name)")
                let tolerance = name == "pe_stacked" ? 0.002 : 1e-3
                #expect(abs((summary["min"] as? Double ?? -1) - 0) <= tolerance, "\(name) \(summary)")
                #expect(abs((summary["max"] as? Double ?? -1) - 1) <= tolerance, "\(name) \(summary)")
                #expect(abs((summary["mean"] as? Double ?? -1) - 0.5) <= tolerance, "\(name) \(summary)")
            }
        }
    }
}
