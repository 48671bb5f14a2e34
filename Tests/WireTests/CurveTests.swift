import Foundation
import Testing
@testable import Wire


// Socket tests run one at a time (see WireSockets): timing checks need the cores.
extension WireSockets {
    @Suite("Wire CURVE", .serialized)
    struct CurveTests {
        @Test("CURVE: the right server key receives, a wrong one receives nothing")
        func encrypted() throws {
            try #require(CurveKeys.isAvailable, "this libzmq lacks CURVE")
            let dir = try SocketDirectory()
            let server = try CurveKeys.generate()
            // The config names a key file: write it zcert-style and load it back.
            let keyFile = dir.path + "/server.key_secret"
            try "curve\n    public-key = \"\(server.publicKey)\"\n    secret-key = \"\(server.secretKey)\"\n"
                .write(toFile: keyFile, atomically: true, encoding: .utf8)
            let loaded = try CurveKeys.load(secretKeyFile: keyFile)
            #expect(loaded == server)
            let publisher = try Publisher(options: PublisherOptions(stream: "cam0", endpoint: dir.endpoint(), curve: loaded),
                                          meta: testMeta())
            let good = try Subscriber(endpoint: dir.endpoint(), curveServerKey: server.publicKey)
            let bad = try Subscriber(endpoint: dir.endpoint(), curveServerKey: try CurveKeys.generate().publicKey)
            let plain = try Subscriber(endpoint: dir.endpoint())
            var goodCount = 0, badCount = 0, plainCount = 0
            let start = DispatchTime.now()
            while seconds(since: start) < 1 {
                publisher.pollSubscriptions()
                publisher.publishStatus(testStatus(1))
                if try good.receive(timeout: 0.005) != nil { goodCount += 1 }
                if try bad.receive(timeout: 0.001) != nil { badCount += 1 }
                if try plain.receive(timeout: 0.001) != nil { plainCount += 1 }
            }
            #expect(goodCount > 10)
            #expect(badCount == 0 && plainCount == 0)
            publisher.close()
        }

        @Test("bad key files give one clear line")
        func badKeyFiles() throws {
            try #require(CurveKeys.isAvailable)
            let dir = try SocketDirectory()
            #expect(throws: WireError.curve("cannot read key file \(dir.path)/missing")) { try CurveKeys.load(secretKeyFile: dir.path + "/missing") }
            try "short".write(toFile: dir.path + "/short", atomically: true, encoding: .utf8)
            #expect(throws: WireError.self) { try CurveKeys.load(secretKeyFile: dir.path + "/short") }
        }
    }
}
