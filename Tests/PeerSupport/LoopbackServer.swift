import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1, port 0, answering each request with a closure: the
/// credential endpoints and `@connections` fakes of these tests.
public final class LoopbackServer: Sendable {
    public struct Request: Sendable {
        public let method: String
        public let uri: String
        public let headers: [(String, String)]
        public let body: [UInt8]
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    public struct Response: Sendable {
        public var status: Int = 200
        public var headers: [(String, String)] = []
        public var body: [UInt8] = []
        /// Drop the connection instead of answering (a reset, as a failing peer does).
        public var reset = false
        /// A dropped connection, no answer.
        public static var resetConnection: Response {
            var response = Response()
            response.reset = true
            return response
        }
        public init(status: Int = 200, headers: [(String, String)] = [], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = Array(body.utf8)
        }
    }

    public typealias Handler = @Sendable (Request) async -> Response

    private final class RequestLog: Sendable {
        let entries = Mutex<[Request]>([])
    }

    private let channel: any Channel
    private let log: RequestLog
    public let port: Int

    public var url: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [Request] { log.entries.withLock { $0 } }

    public init(_ handler: @escaping Handler) async throws {
        let log = RequestLog()
        let recorder: @Sendable (Request) -> Void = { request in log.entries.withLock { $0.append(request) } }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(HandlerAdapter(handler: handler, record: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
        self.log = log
    }

    public func close() async throws { try await channel.close() }

    private final class HandlerAdapter: ChannelInboundHandler, @unchecked Sendable {  // confined to its channel's event loop
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let handler: Handler
        let record: @Sendable (Request) -> Void
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(handler: @escaping Handler, record: @escaping @Sendable (Request) -> Void) {
            self.handler = handler
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                record(request)
                let handler = self.handler
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                let keepAlive = head.isKeepAlive
                Task {
                    let response = await handler(request)
                    loop.execute {
                        let (adapter, context) = bound.value
                        if response.reset {
                            context.close(promise: nil)
                            return
                        }
                        var headers = HTTPHeaders(response.headers)
                        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        context.write(
                            adapter.wrapOutboundOut(
                                .head(
                                    HTTPResponseHead(
                                        version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers))),
                            promise: nil)
                        context.write(adapter.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
                        context.writeAndFlush(adapter.wrapOutboundOut(.end(nil))).whenComplete { _ in
                            if !keepAlive { bound.value.1.close(promise: nil) }
                        }
                    }
                }
            }
        }
    }
}
