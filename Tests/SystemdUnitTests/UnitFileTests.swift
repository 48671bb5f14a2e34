import Foundation
import Testing

/// systemd/moeseg@.service passes `systemd-analyze verify` silently and rates <= 2.5 in
/// `systemd-analyze security`, through tools/systemd/check_unit.sh (the same check by hand).
@Suite struct UnitFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let unit = root.appendingPathComponent("systemd/moeseg@.service").path
    static let script = root.appendingPathComponent("tools/systemd/check_unit.sh").path

    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func systemdAnalyzeIsInstalled() {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                "systemd-analyze is needed to check the unit (Debian: apt-get install systemd)")
    }

    @Test func verifiesCleanlyAndRatesAtMost2point5() throws {
        let (status, output) = try run([])
        #expect(status == 0, "\(output)")
        #expect(output.contains("verify: clean"), "\(output)")
        let score = output.split(separator: "\n").first { $0.hasPrefix("security: exposure ") }
            .flatMap { Double($0.split(separator: " ")[2]) }
        let value = try #require(score, "no score in: \(output)")
        #expect(value <= 2.5)
    }

    @Test func theCheckCatchesAnUnknownKeyAndAWeakUnit() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moeseg-unit-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = dir.appendingPathComponent("typo@.service")
        try text.replacingOccurrences(of: "NoNewPrivileges=yes", with: "NoNewPrivileges=yes\nNoNewPrivilege=yes")
            .write(to: typo, atomically: true, encoding: .utf8)
        let (typoStatus, typoOutput) = try run([typo.path])
        #expect(typoStatus != 0 && typoOutput.contains("Unknown key"), "\(typoOutput)")

        // The same unit without its hardening block scores far worse.
        let weak = dir.appendingPathComponent("weak@.service")
        let stripped = text.components(separatedBy: "# Hardening")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
        try stripped.write(to: weak, atomically: true, encoding: .utf8)
        let (weakStatus, weakOutput) = try run([weak.path])
        #expect(weakStatus != 0 && weakOutput.contains("is above 2.5"), "\(weakOutput)")
    }

    @Test func keepsTheDaemonContract() throws {
        let lines = Set(try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n").map(String.init))
        for required in ["Type=notify", "NotifyAccess=main", "Restart=on-failure", "DynamicUser=yes",
                         "SupplementaryGroups=video", "RuntimeDirectory=moeseg", "DevicePolicy=closed",
                         "DeviceAllow=char-video4linux rw",
                         "ExecStart=/usr/local/bin/moeseg run --config /etc/moeseg/%i.toml --stream %i"] {
            #expect(lines.contains(required), "missing \(required)")
        }
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") } && lines.contains { $0.hasPrefix("MemoryMax=") }
            && lines.contains { $0.hasPrefix("CPUAffinity=") })
    }
}
