import NIOCore
import Synchronization

/// Open connections per client IP address, shared by every connection of one server (across event loops), with a
/// cap: `open` admits a connection only while its address holds fewer than `limit`.
final class ClientConnectionCounts: Sendable {
    let limit: Int
    private let counts = Mutex<[SocketAddress: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// The key of a client: its address without the port (nil for a Unix domain socket, which is not counted).
    static func client(of address: SocketAddress?) -> SocketAddress? {
        guard var address, address.port != nil else { return nil }
        address.port = 0
        return address
    }

    /// Counts a new connection from `client`; false (and nothing counted) when the client already holds `limit`.
    func open(_ client: SocketAddress) -> Bool {
        counts.withLock { counts in
            let held = counts[client, default: 0]
            guard held < limit else { return false }
            counts[client] = held + 1
            return true
        }
    }

    /// Forgets a connection `open` admitted.
    func close(_ client: SocketAddress) {
        counts.withLock { counts in
            guard let held = counts[client] else { return }
            counts[client] = held > 1 ? held - 1 : nil
        }
    }
}
