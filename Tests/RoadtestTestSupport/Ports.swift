import NIOCore
import NIOPosix

extension TestEnvironment {
    /// A loopback port nothing listens on, for a server a test starts as a separate process: drawn from
    /// 20000–32767, below Linux's ephemeral range (32768–60999), so no outgoing connection of the machine can be
    /// holding it, and checked by binding it once. (A random port up to 50000 once met an outgoing connection's
    /// port, and the gateway under test could not listen.)
    public static func unusedPort() async -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_768)
            guard
                let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: port).get()
            else { continue }
            try? await channel.close()
            return port
        }
        return Int.random(in: 20_000..<32_768)
    }
}
