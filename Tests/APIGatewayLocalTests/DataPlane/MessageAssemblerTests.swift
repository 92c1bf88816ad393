import NIOCore
import NIOWebSocket
import Testing

@testable import APIGatewayLocal

/// The state machine that turns one client's frames into messages, pings, closes and violations.
@Suite struct MessageAssemblerTests {
    func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, maskKey: masked ? [1, 2, 3, 4] : nil, data: ByteBuffer(string: text)).maskedForTest()
    }

    @Test func fragmentsMakeOneMessageAndControlFramesCutIn() {
        var assembler = MessageAssembler(limit: 16)
        #expect(assembler.take(frame(.text, "hel", fin: false)) == MessageAssembler.Action.none)
        #expect(assembler.take(frame(.ping, "p")) == .ping(ByteBuffer(string: "p")), "a ping between fragments")
        #expect(assembler.take(frame(.continuation, "lo")) == .message(ByteBuffer(string: "hello")))
        #expect(assembler.take(frame(.pong, "")) == MessageAssembler.Action.none)
    }

    @Test func theRulesCloseWithTheirCode() {
        var assembler = MessageAssembler(limit: 4)
        #expect(assembler.take(frame(.text, "12345")) == .violation(.tooBig), "over the limit: 1009")
        #expect(assembler.take(frame(.binary, "x")) == .violation(.binary), "API Gateway takes no binary frame: 1003")
        #expect(assembler.take(frame(.text, "x", masked: false)) == .violation(.protocolError), "an unmasked client frame")
        #expect(assembler.take(frame(.continuation, "x")) == .violation(.protocolError), "a continuation of nothing")
        #expect(assembler.take(frame(.ping, String(repeating: "p", count: 126))) == .violation(.protocolError), "a long ping")
        var utf8 = MessageAssembler(limit: 16)
        let invalid = WebSocketFrame(fin: true, opcode: .text, maskKey: [1, 2, 3, 4], data: ByteBuffer(bytes: [0xC3, 0x28])).maskedForTest()
        #expect(utf8.take(invalid) == .violation(.invalidPayload), "text that is not UTF-8: 1007")
    }

    @Test func theClientsCloseIsEchoedWhenItMayBeSent() {
        var assembler = MessageAssembler(limit: 16)
        var payload = ByteBuffer()
        payload.writeInteger(UInt16(4000))
        payload.writeString("bye")
        let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: [9, 9, 9, 9], data: payload).maskedForTest()
        #expect(assembler.take(close) == .closed(cause: CloseCause(code: 4000, reason: "bye"), echo: 4000))
        #expect(assembler.take(frame(.connectionClose, "")) == .closed(cause: .clientWithoutStatus, echo: 1000))
        var reserved = ByteBuffer()
        reserved.writeInteger(UInt16(1005))
        let onlyReported = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: [9, 9, 9, 9], data: reserved).maskedForTest()
        #expect(assembler.take(onlyReported) == .violation(.protocolError), "1005 is never put on the wire")
        #expect(MessageAssembler.isSendable(1000) && MessageAssembler.isSendable(4999) && !MessageAssembler.isSendable(1006))
    }
}

extension WebSocketFrame {
    /// The frame as a client puts it on the wire: its data masked with its key (the assembler unmasks).
    fileprivate func maskedForTest() -> WebSocketFrame {
        guard let key = maskKey else { return self }
        var data = self.data
        data.webSocketMask(key)
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: data)
    }
}
