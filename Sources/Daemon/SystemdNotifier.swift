import Glibc

/// The sd_notify protocol without libsystemd: one datagram per state change to the unix
/// socket named by `$NOTIFY_SOCKET` (a leading `@` means the abstract namespace). A no-op
/// when the variable is unset, so the daemon behaves the same outside systemd.
public final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// The watchdog period systemd asked for (`$WATCHDOG_USEC`), if it asked this process.
    public let watchdogNanos: UInt64?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0,
           environment["WATCHDOG_PID"].flatMap({ Int32($0) }).map({ $0 == getpid() }) ?? true {
            watchdogNanos = usec * 1000
        } else {
            watchdogNanos = nil
        }
        guard let path = environment["NOTIFY_SOCKET"], path.utf8.count >= 2,
              path.hasPrefix("/") || path.hasPrefix("@") else {
            fd = -1
            return
        }
        var bytes = Array(path.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            fd = -1
            return
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // Abstract names are length-delimited; filesystem paths carry their terminating NUL.
        addressLength = socklen_t(pathOffset + bytes.count + (bytes[0] == 0 ? 0 : 1))
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Whether a notification socket was given.
    public var isEnabled: Bool { fd >= 0 }

    /// Sends one or more `KEY=value` lines; false if not enabled or the send failed.
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard fd >= 0 else { return false }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sa, addressLength)
                }
            }
        }
        return sent == bytes.count
    }
}
