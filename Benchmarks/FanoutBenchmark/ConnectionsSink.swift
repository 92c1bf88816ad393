import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback server that answers like `@connections`: keep-alive, `200` for a post, and
/// `410 GoneException` for 2% of ids (those whose FNV-1a hash is a multiple of 50), so every
/// client that posts the same ids sees the same gone set. `goneEvery: 0`: none is gone (a
/// backend's replies, where a gone id would fail every later message to it).
enum ConnectionsSink {
    static func isGone(_ id: Substring, every: UInt32 = 50) -> Bool {
        guard every > 0 else { return false }
        var hash: UInt32 = 2_166_136_261
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash % every == 0
    }

    static func start(port: Int, goneEvery: UInt32 = 50, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> any Channel
    {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(Handler(goneEvery: goneEvery)) }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {  // confined to its channel's event loop
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private let goneEvery: UInt32
        private var gone = false
        private var keepAlive = true

        init(goneEvery: UInt32) { self.goneEvery = goneEvery }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                keepAlive = head.isKeepAlive
                let id = head.uri.split(separator: "/").last ?? ""
                gone = head.uri.contains("@connections/") && Self.isGoneID(id, every: goneEvery)
            case .body:
                break
            case .end:
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                headers.add(name: "x-amzn-RequestId", value: "sink")
                if gone { headers.add(name: "x-amzn-ErrorType", value: "GoneException") }
                let head = HTTPResponseHead(version: .http1_1, status: gone ? .gone : .ok, headers: headers)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                if keepAlive {
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                }
            }
        }

        static func isGoneID(_ id: Substring, every: UInt32) -> Bool {
            ConnectionsSink.isGone(Substring(id.replacingOccurrences(of: "%3D", with: "=")), every: every)
        }
    }
}
