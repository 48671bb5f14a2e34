import Foundation
import Testing
@testable import Wire


// Socket tests run one at a time (see WireSockets): timing checks need the cores.
extension WireSockets {
    /// Runs the built `moeseg` binary (MOESEG_BIN, else next to the test bundle, else .build/debug).
    enum MoesegBinary {
        static func path() throws -> String {
            var candidates: [String] = []
            if let configured = ProcessInfo.processInfo.environment["MOESEG_BIN"] { candidates.append(configured) }
            let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            candidates.append(bundleDirectory.appendingPathComponent("moeseg").path)
            candidates.append(bundleDirectory.deletingLastPathComponent().appendingPathComponent("moeseg").path)
            candidates.append(PythonClient.packageRoot.appendingPathComponent(".build/debug/moeseg").path)
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw PythonClient.Failure(description: "no moeseg binary (looked at \(candidates)); run swift build --product moeseg or set MOESEG_BIN")
            }
            return found
        }

        static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try path())
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }
    }

    @Suite("moeseg sub", .serialized)
    struct SubCommandTests {
        @Test("moeseg sub --json prints one parseable summary per message, meta with the first frame")
        func json() throws {
            let dir = try SocketDirectory()
            let publisher = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: dir.endpoint(),
                                                                    mapEncodings: ["pe_stacked": .u8, "ev": .f16]),
                                          meta: testMeta())
            let frame = TestFrame()
            let pump = Pump(period: 1.0 / 30) { tick in
                publisher.pollSubscriptions()
                frame.publish(publisher, sequence: tick, maps: ["pe_stacked", "ev"])
                if tick % 3 == 0 { publisher.publishStatus(testStatus(tick)) }
            }
            defer { pump.finish() }
            let (status, stdout, stderr) = try MoesegBinary.run(["sub", "--endpoint", dir.endpoint(), "--count", "12", "--json", "--timeout", "5"])
            #expect(status == 0, "\(stderr)")
            let lines = stdout.split(separator: "\n")
            #expect(lines.count == 12)
            let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            // Meta comes with the first frame after the subscription (it may trail that frame's messages).
            let metaIndex = objects.firstIndex { $0["topic"] as? String == "cam0/meta" }
            #expect(metaIndex.map { $0 < 6 } == true, "meta at \(String(describing: metaIndex))")
            let topics = Set(objects.compactMap { $0["topic"] as? String })
            #expect(topics.isSuperset(of: ["cam0/meta", "cam0/seg", "cam0/unc", "cam0/ood"]), "\(topics)")
            for object in objects where object["topic"] as? String == "cam0/seg" {
                #expect(object["size"] as? String == "64x32")
                #expect((object["top3"] as? [String])?.first?.hasPrefix("road:") == true)
            }
            // Never the payload: a line stays short.
            #expect(lines.allSatisfy { $0.count < 1000 })

            let text = try MoesegBinary.run(["sub", "--endpoint", dir.endpoint(), "--topic", "ood", "--count", "2", "--timeout", "5"])
            #expect(text.status == 0)
            #expect(text.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("cam0/ood seq=") && $0.contains("fired=[mean_mutual_information]") },
                    "\(text.stdout)")
        }

        @Test("moeseg sub: no publisher or a bad endpoint gives one error line and exit 1")
        func errors() throws {
            let dir = try SocketDirectory()
            let silent = try MoesegBinary.run(["sub", "--endpoint", dir.endpoint("nobody"), "--count", "1", "--timeout", "0.3"])
            #expect(silent.status == 1)
            #expect(silent.stderr == "moeseg: error: no message for 0.3 s on \(dir.endpoint("nobody")) (received 0 of 1)\n")
            let bad = try MoesegBinary.run(["sub", "--endpoint", "foo://x", "--count", "1"])
            #expect(bad.status == 1)
            #expect(bad.stderr.hasPrefix("moeseg: error: cannot use endpoint foo://x") && bad.stderr.split(separator: "\n").count == 1)
            let key = try MoesegBinary.run(["sub", "--endpoint", dir.endpoint(), "--curve-server-key", dir.path + "/missing"])
            #expect(key.status == 1 && key.stderr.hasPrefix("moeseg: error: CURVE: cannot read key file"), "\(key.stderr)")
        }
    }
}
