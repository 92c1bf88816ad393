import NIOCore
import NIOWebSocket
import Synchronization

/// One client's frames: text messages (fragmented or not) go to the gateway; binary frames close
/// with 1003, messages over the limit with 1009; pings are answered; closes are echoed. When the
/// channel goes, the gateway calls `$disconnect`.
final class WebSocketConnectionHandler: ChannelInboundHandler, @unchecked Sendable {  // confined to its channel's event loop
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let gateway: LocalGateway
    private let connectionID: String
    private var message: ByteBuffer?
    private var clientCause = CloseCause.abnormal
    private var sentClose = false

    init(gateway: LocalGateway, connectionID: String) {
        self.gateway = gateway
        self.connectionID = connectionID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            message = frame.unmaskedData
            finishIfComplete(frame, context: context)
        case .continuation:
            guard var partial = message else { return close(context, cause: .binary) }  // continuing a binary message
            var data = frame.unmaskedData
            partial.writeBuffer(&data)
            message = partial
            finishIfComplete(frame, context: context)
        case .binary:
            close(context, cause: .binary)
        case .ping:
            gateway.connections.touch(connectionID, at: gateway.configuration.clock.now())
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            if let code = data.readWebSocketErrorCode() {
                clientCause = CloseCause(code: Self.number(code), reason: data.readString(length: data.readableBytes) ?? "")
            } else {
                clientCause = .clientWithoutStatus
            }
            if !sentClose {
                sentClose = true
                var echo = context.channel.allocator.buffer(capacity: 2)
                echo.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: clientCause.code == 1005 ? 1000 : clientCause.code))
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: echo))).whenComplete { _ in
                    channel.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    private func finishIfComplete(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard let partial = message else { return }
        if partial.readableBytes > gateway.configuration.maximumMessageSize { return close(context, cause: .tooBig) }
        guard frame.fin else { return }
        message = nil
        let gateway = self.gateway, id = connectionID
        Task { await gateway.receive(partial, from: id) }
    }

    private func close(_ context: ChannelHandlerContext, cause: CloseCause) {
        message = nil
        gateway.connections.markClosing(connectionID, cause: cause)
        guard !sentClose else { return }
        sentClose = true
        var data = context.channel.allocator.buffer(capacity: 2 + cause.reason.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: cause.code))
        data.writeString(cause.reason)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError, error == .invalidFrameLength {
            gateway.connections.markClosing(connectionID, cause: .tooBig)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let gateway = self.gateway, id = connectionID, cause = clientCause
        gateway.pendingDisconnects.add(1, ordering: .releasing)
        Task {
            await gateway.closed(id, clientCause: cause)
            gateway.pendingDisconnects.subtract(1, ordering: .releasing)
        }
        context.fireChannelInactive()
    }

    static func number(_ code: WebSocketErrorCode) -> Int {
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: code)
        return Int(buffer.readInteger(as: UInt16.self) ?? 1005)
    }
}
