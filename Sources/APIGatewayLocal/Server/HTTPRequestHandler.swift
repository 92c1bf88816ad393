import NIOCore
import NIOHTTP1

/// An HTTP answer from the gateway.
struct LocalResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders = HTTPHeaders()
    var body: ByteBuffer = ByteBuffer()

    static func json(_ status: HTTPResponseStatus, _ text: String) -> LocalResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return LocalResponse(status: status, headers: headers, body: ByteBuffer(string: text))
    }

    /// An AWS error: `x-amzn-ErrorType` always, a JSON `message` when there is one.
    static func awsError(_ status: HTTPResponseStatus, _ type: String, _ message: String?) -> LocalResponse {
        var response =
            message.map { json(status, #"{"message":"\#($0.replacingOccurrences(of: "\"", with: "\\\""))"}"#) }
            ?? LocalResponse(status: status)
        response.headers.add(name: "x-amzn-ErrorType", value: type)
        response.headers.add(name: "x-amzn-RequestId", value: makeRequestID())
        return response
    }
}

/// Every request that is not a WebSocket upgrade: `@connections`, the control plane, and the
/// answer to a refused `$connect`.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {  // confined to its channel's event loop
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let gateway: LocalGateway
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private static let bodyLimit = 1 << 20

    init(gateway: LocalGateway) { self.gateway = gateway }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            if body.readableBytes < Self.bodyLimit { body.writeBuffer(&part) }
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let gateway = self.gateway
            let request = body
            if let refusal = gateway.takeRefusal(for: channel) {
                write(LocalResponse(status: HTTPResponseStatus(statusCode: refusal)), head: head, context: context)
                return
            }
            Task {
                let response = await gateway.handleHTTP(head: head, body: request, remote: channel.remoteAddress?.ipAddress)
                loop.execute {
                    let (handler, context) = bound.value
                    handler.write(response, head: head, context: context)
                }
            }
        }
    }

    private func write(_ response: LocalResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.readableBytes)")
        // A refused WebSocket handshake ends the connection; other requests may keep it.
        let keepAlive = head.isKeepAlive && head.headers.first(name: "Upgrade") == nil
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
