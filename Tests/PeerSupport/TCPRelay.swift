import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP relay to `target` that a test can take down and bring back on the same port:
/// a database that goes away and returns, without touching the database itself.
public final class TCPRelay: Sendable {
    public let targetPort: Int
    private let state = Mutex<(listener: (any Channel)?, relayed: [any Channel], port: Int)>((nil, [], 0))

    public init(targetPort: Int) { self.targetPort = targetPort }

    /// The port it listens on (the first `start` picks a free one; later ones reuse it).
    public var port: Int { state.withLock { $0.port } }

    public func start() async throws {
        let port = state.withLock { $0.port }
        let target = targetPort
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] inbound in
                inbound.setOption(.autoRead, value: false).flatMap {
                    ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target).flatMap { outbound in
                        self.track(inbound, outbound)
                        return inbound.pipeline.addHandler(Pipe(peer: outbound)).flatMap {
                            outbound.pipeline.addHandler(Pipe(peer: inbound))
                        }.flatMap { inbound.setOption(.autoRead, value: true) }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        state.withLock { state in
            state.listener = listener
            state.port = listener.localAddress?.port ?? port
        }
    }

    /// Stops listening and cuts every relayed connection.
    public func stop() async {
        let (listener, relayed) = state.withLock { state in
            defer { state.listener = nil; state.relayed = [] }
            return (state.listener, state.relayed)
        }
        try? await listener?.close()
        for channel in relayed { try? await channel.close() }
    }

    private func track(_ channels: (any Channel)...) { state.withLock { $0.relayed += channels } }

    /// Writes what one side reads to the other; closes the other when one closes.
    private final class Pipe: ChannelDuplexHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        let peer: any Channel
        init(peer: any Channel) { self.peer = peer }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }
        func channelInactive(context: ChannelHandlerContext) { peer.close(promise: nil) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
