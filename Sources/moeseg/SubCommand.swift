import ArgumentParser
import Foundation
import Wire

/// `moeseg sub`: subscribes to a moeseg stream and prints one summary line per message.
struct Sub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sub",
        abstract: "Subscribe to a moeseg stream and print one line per message (summaries, never payloads).")

    @Option(help: "Stream name; the default endpoint is ipc:///run/moeseg/<stream>.sock.")
    var stream = "cam0"

    @Option(help: "Endpoint to connect to (ipc://PATH or tcp://HOST:PORT).")
    var endpoint: String?

    @Option(help: "Topic to subscribe to, repeatable: seg, unc, ood, status, meta (on --stream) or a full topic prefix. Default: everything.")
    var topic: [String] = []

    @Option(help: "Exit after this many messages.")
    var count: Int?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Give up when no message arrives for this many seconds (exit 1 if --count was not reached or nothing came).")
    var timeout: Double?

    @Option(help: "File with the server's CURVE public key (Z85, or a zcert `public-key = \"...\"` line).")
    var curveServerKey: String?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let timeout, !(timeout.isFinite && timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if !stream.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) || stream.isEmpty {
            throw ValidationError("--stream must be letters, digits, '-', '_' or '.', got '\(stream)'")
        }
    }

    func run() throws {
        try reportingErrors {
            let endpoint = self.endpoint ?? WireEndpoint.defaultEndpoint(stream: stream)
            let topics = topic.map { TopicKind(rawValue: $0).map { kind in kind.topic(stream: stream) } ?? $0 }
            let serverKey = try curveServerKey.map { try CurveKeys.readKey($0, field: "public-key") }
            let subscriber = try Subscriber(endpoint: endpoint, topics: topics.isEmpty ? [""] : topics,
                                            curveServerKey: serverKey)
            defer { subscriber.close() }
            var meta: Moeseg_V1_Meta?
            var received = 0
            while count.map({ received < $0 }) ?? true {
                let message: WireMessage
                do {
                    guard let next = try subscriber.receive(timeout: timeout) else {
                        if count == nil && received > 0 { return }
                        throw fail("no message for \(timeout ?? 0) s on \(endpoint) (received \(received)"
                            + (count.map { " of \($0)" } ?? "") + ")")
                    }
                    message = next
                } catch let error as WireError {
                    if case .malformed = error {
                        FileHandle.standardError.write(Data("moeseg: warning: \(error)\n".utf8))
                        continue
                    }
                    throw error
                }
                received += 1
                if case .meta(let m) = message.payload { meta = m }
                print(json ? MessageSummary.json(message, meta: meta) : MessageSummary.text(message, meta: meta))
                fflush(nil)  // one line per message as it arrives, even into a pipe
            }
        }
    }
}
