import CZeroMQ
import Foundation

/// A CURVE key pair in Z85 text (40 characters each), as zmq_curve_keypair makes them.
public struct CurveKeys: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether this libzmq was built with CURVE (libsodium).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }

    /// A fresh key pair.
    public static func generate() throws -> CurveKeys {
        guard isAvailable else { throw WireError.curve("this libzmq has no CURVE support") }
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else {
            throw WireError.curve("zmq_curve_keypair: \(zmqErrorText())")
        }
        return CurveKeys(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// The server's keys from its secret key file (the public key is derived from it).
    /// A file holds either the bare Z85 key or a zcert-style `secret-key = "..."` line.
    public static func load(secretKeyFile: String) throws -> CurveKeys {
        guard isAvailable else { throw WireError.curve("this libzmq has no CURVE support") }
        let secret = try readKey(secretKeyFile, field: "secret-key")
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else {
            throw WireError.curve("\(secretKeyFile) does not hold a valid secret key")
        }
        return CurveKeys(publicKey: String(cString: publicKey), secretKey: secret)
    }

    /// A Z85 key from a file: the bare key, or the quoted value of `field = "..."`.
    public static func readKey(_ path: String, field: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WireError.curve("cannot read key file \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var candidate = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for line in text.split(whereSeparator: \.isNewline) where line.contains(field) {
            let parts = line.split(separator: "\"")
            if parts.count >= 2 { candidate = String(parts[1]) }
        }
        guard candidate.utf8.count == 40 else {
            throw WireError.curve("\(path) does not hold a 40-character Z85 \(field)")
        }
        return candidate
    }
}
