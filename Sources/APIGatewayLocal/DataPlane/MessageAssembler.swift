import NIOCore
import NIOWebSocket

/// Turns one client's frames into what the gateway acts on, as RFC 6455 and API Gateway ask:
/// text messages (fragmented or not, at most `limit` bytes, valid UTF-8), pings to answer, the
/// client's close, and the violations that end a connection with their close code.
///
/// A plain state machine: it is fed frames and returns actions, so every rule is tested
/// without a socket.
struct MessageAssembler {
    enum Action: Equatable {
        /// Nothing to do yet (a fragment, a pong).
        case none
        /// A complete text message.
        case message(ByteBuffer)
        /// Answer with a pong carrying this data.
        case ping(ByteBuffer)
        /// The client closed with `cause`; echo `echo`.
        case closed(cause: CloseCause, echo: Int)
        /// The client broke a rule: close with `cause`.
        case violation(CloseCause)
    }

    let limit: Int
    private var partial: ByteBuffer?

    init(limit: Int) { self.limit = limit }

    mutating func take(_ frame: WebSocketFrame) -> Action {
        // Clients must mask every frame (RFC 6455 §5.1); no extension is negotiated, so no RSV bit.
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return violation(.protocolError) }
        switch frame.opcode {
        case .text:
            guard partial == nil else { return violation(.protocolError) }
            partial = frame.unmaskedData
            return progress(fin: frame.fin)
        case .continuation:
            guard var message = partial else { return violation(.protocolError) }
            partial = nil  // keep the buffer uniquely referenced while it grows
            var data = frame.unmaskedData
            message.writeBuffer(&data)
            partial = message
            return progress(fin: frame.fin)
        case .binary:
            // API Gateway does not take binary frames: 1003.
            return violation(partial == nil ? .binary : .protocolError)
        case .ping:
            guard frame.fin, frame.length <= 125 else { return violation(.protocolError) }
            return .ping(frame.unmaskedData)
        case .pong:
            guard frame.fin, frame.length <= 125 else { return violation(.protocolError) }
            return .none
        case .connectionClose:
            guard frame.fin, frame.length <= 125 else { return violation(.protocolError) }
            return close(frame.unmaskedData)
        default:
            return violation(.protocolError)  // reserved opcodes
        }
    }

    private mutating func progress(fin: Bool) -> Action {
        guard let message = partial else { return .none }
        if message.readableBytes > limit { return violation(.tooBig) }
        guard fin else { return .none }
        partial = nil
        guard String(validating: message.readableBytesView, as: UTF8.self) != nil else { return violation(.invalidPayload) }
        return .message(message)
    }

    private mutating func close(_ payload: ByteBuffer) -> Action {
        var payload = payload
        guard payload.readableBytes > 0 else { return .closed(cause: .clientWithoutStatus, echo: 1000) }
        guard let code = payload.readInteger(as: UInt16.self).map(Int.init) else { return violation(.protocolError) }
        guard Self.isSendable(code) else { return violation(.protocolError) }
        guard let reason = String(validating: payload.readableBytesView, as: UTF8.self) else { return violation(.invalidPayload) }
        return .closed(cause: CloseCause(code: code, reason: reason), echo: code)
    }

    private mutating func violation(_ cause: CloseCause) -> Action {
        partial = nil
        return .violation(cause)
    }

    /// Close codes a peer may put on the wire (RFC 6455 §7.4): 1005, 1006 and 1015 are only reported.
    static func isSendable(_ code: Int) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
