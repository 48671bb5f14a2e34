import Recording
import Testing

@Suite("Split recordings: limits and names")
struct RecordingSplitTests {
    @Test func sizesParseWithBinaryAndDecimalUnits() throws {
        #expect(try RecordingSplit.parseBytes("536870912") == 536_870_912)
        #expect(try RecordingSplit.parseBytes("512MiB") == 512 << 20)
        #expect(try RecordingSplit.parseBytes("512M") == 512 << 20)
        #expect(try RecordingSplit.parseBytes("2GB") == 2_000_000_000)
        #expect(try RecordingSplit.parseBytes("1.5 GiB") == 3 << 29)
        #expect(try RecordingSplit.parseBytes("64kib") == 65536)
        #expect(try RecordingSplit.parseBytes("4096") == 4096)
    }

    @Test func durationsParseWithUnits() throws {
        #expect(try RecordingSplit.parseDuration("600") == 600_000_000_000)
        #expect(try RecordingSplit.parseDuration("10m") == 600_000_000_000)
        #expect(try RecordingSplit.parseDuration("90s") == 90_000_000_000)
        #expect(try RecordingSplit.parseDuration("0.5") == 500_000_000)
        #expect(try RecordingSplit.parseDuration("250ms") == 250_000_000)
        #expect(try RecordingSplit.parseDuration("1h") == 3_600_000_000_000)
    }

    @Test func badLimitsSayWhatIsAllowed() {
        let cases: [(String, Bool, String)] = [
            ("12XB", true, "unknown unit 'XB'"), ("0", true, "positive"), ("-5MiB", true, "positive"), ("", true, "positive"),
            ("100", true, "below the minimum of 4096 bytes"), ("1e30", true, "unknown unit"), ("99999999TiB", true, "too large"),
            ("10 parsecs", false, "unknown unit 'parsecs'"), ("0s", false, "positive"), ("abc", false, "positive"),
            ("0.1ms", false, "below the minimum"), ("nan", false, "positive"),
        ]
        for (text, isSize, phrase) in cases {
            do {
                let value = isSize ? try RecordingSplit.parseBytes(text) : try RecordingSplit.parseDuration(text)
                Issue.record("'\(text)' parsed as \(value)")
            } catch {
                #expect(error.description.contains(phrase), "'\(text)': \(error)")
                #expect(error.description.contains("'\(text)'"), "'\(text)': \(error)")
            }
        }
    }

    @Test func partsAreNamedAfterTheOutput() {
        #expect(RecordingSplit.partPath(base: "/data/drive.mcap", index: 0) == "/data/drive-0000.mcap")
        #expect(RecordingSplit.partPath(base: "drive.mcap", index: 17) == "drive-0017.mcap")
        #expect(RecordingSplit.partPath(base: "drive", index: 3) == "drive-0003.mcap")
        #expect(RecordingSplit.partPath(base: "d.mcap", index: 12345) == "d-12345.mcap")
    }

    @Test func newPartAtEitherLimit() {
        let split = RecordingSplit(maxBytes: 10_000, maxDurationNanos: 1_000)
        #expect(!split.needsNewPart(partBytes: 9_999, partStartTime: 5_000, logTime: 5_999))
        #expect(split.needsNewPart(partBytes: 10_000, partStartTime: 5_000, logTime: 5_001))
        #expect(split.needsNewPart(partBytes: 0, partStartTime: 5_000, logTime: 6_000))
        #expect(!split.needsNewPart(partBytes: 0, partStartTime: nil, logTime: 6_000))
        #expect(!split.needsNewPart(partBytes: 0, partStartTime: 5_000, logTime: 4_000))  // clock stepped back
    }
}
